//! The scripts the bootstrap installs on an instance, run here with fake
//! `aws`, `curl` (instance metadata), `systemctl` and `shutdown` on PATH:
//! each fake appends its command line to one log, so a test reads the
//! exact sequence of what the instance would have done.

use super::template::user_data;
use crate::kinds::common::script_bench::{installed, Bench};

/// gantry-terminate-self: the decrementing terminate call, the power-off
/// when the group refuses it, and nothing when the drain watcher stopped the agent.
pub(crate) fn run_terminate_self(user_data: &str) {
    let b = Bench::new();
    let script = installed(user_data, "gantry-terminate-self");
    let terminate = "aws autoscaling terminate-instance-in-auto-scaling-group --region us-west-2 --instance-id i-0abc --should-decrement-desired-capacity\n";
    for (aws_exit, want) in [(0, terminate.to_string()), (1, format!("{terminate}shutdown -h now\n"))] {
        b.fake("aws", aws_exit);
        b.fake("shutdown", 0);
        assert_eq!(b.run(&script, &[]), want);
    }
    // Draining (the marker path is absolute on an instance): point it here.
    let marker = b.path().join("draining");
    std::fs::write(&marker, "").unwrap();
    let drained = script.replace("/var/lib/gantry/draining", &marker.display().to_string());
    assert_eq!(b.run(&drained, &[]), "", "an instance already going away is left to the drain");
}

fn drain_script() -> String {
    let a = super::fixtures::attrs(serde_json::json!({"name": "q", "instance_types": ["c7i.large"], "max_size": 2}));
    let script = installed(&user_data(&super::fixtures::spec(&a, &super::fixtures::env())), "gantry-drain-watch");
    script.replace("__HOOK__", super::template::DRAIN_HOOK).replace("__GRACE__", "900")
}

/// The watcher's one round with a registered agent (as the drain tests assume).
fn registered(b: &Bench) {
    b.script("journalctl", "echo 'Successfully registered agent \"q-i-0abc-1\" with tags [queue=q]'\n");
}

#[test]
fn an_agent_that_never_registers_makes_its_instance_unhealthy() {
    let b = Bench::new();
    b.fake_imds();
    b.fake("aws", 0);
    b.fake("shutdown", 0);
    b.script("journalctl", "echo 'Starting buildkite-agent'\n");
    let uptime = b.path().join("uptime");
    let env = [("GANTRY_DRAIN_ONCE", "1"), ("GANTRY_UPTIME_FILE", uptime.to_str().unwrap())];
    std::fs::write(&uptime, "300.12 100.00\n").unwrap();
    assert_eq!(b.run(&drain_script(), &env), "", "within the grace period: nothing");
    std::fs::write(&uptime, "901.50 100.00\n").unwrap();
    assert_eq!(
        b.run(&drain_script(), &env),
        "aws autoscaling set-instance-health --region us-west-2 --instance-id i-0abc --health-status Unhealthy --no-should-respect-grace-period\n"
    );
    registered(&b);
    assert_eq!(b.run(&drain_script(), &env), "", "a registered agent: nothing");
}

#[test]
fn scale_in_drains_the_agent_then_completes_the_hook() {
    let b = Bench::new();
    registered(&b);
    b.fake_imds();
    b.fake("systemctl", 0);
    b.fake("aws", 0);
    b.fake("mkdir", 0);
    b.fake("touch", 0);
    b.set_metadata("autoscaling/target-lifecycle-state", "Terminated");
    let log = b.run(&drain_script(), &[("GANTRY_DRAIN_POLL", "0")]);
    assert_eq!(
        log,
        "mkdir -p /var/lib/gantry\ntouch /var/lib/gantry/draining\nsystemctl stop buildkite-agent\n\
         aws autoscaling complete-lifecycle-action --region us-west-2 --auto-scaling-group-name gantry-ci-q --lifecycle-hook-name gantry-drain --instance-id i-0abc --lifecycle-action-result CONTINUE\n",
        "hook received → agent stopped → hook completed"
    );
}

#[test]
fn a_spot_notice_drains_and_leaves_the_group() {
    let b = Bench::new();
    registered(&b);
    b.fake_imds();
    b.fake("systemctl", 0);
    b.fake("mkdir", 0);
    b.fake("touch", 0);
    b.set_metadata("spot/instance-action", r#"{"action": "terminate", "time": "2026-11-26T01:00:00Z"}"#);
    // Leaving the group puts the instance into Terminating:Wait; the next poll completes the hook.
    let imds = b.path().join("imds/autoscaling");
    b.script(
        "aws",
        &format!(
            "echo \"aws $*\" >> '{}'\n/bin/mkdir -p '{}' && echo Terminated > '{}/target-lifecycle-state'\n",
            b.log().display(),
            imds.display(),
            imds.display()
        ),
    );
    let log = b.run(&drain_script(), &[("GANTRY_DRAIN_POLL", "0")]);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[2], "systemctl stop buildkite-agent");
    assert!(
        lines[3].starts_with("aws autoscaling terminate-instance-in-auto-scaling-group") && lines[3].ends_with("--should-decrement-desired-capacity"),
        "{log}"
    );
    assert!(lines[4].starts_with("aws autoscaling complete-lifecycle-action"), "{log}");
    assert_eq!(lines.len(), 5, "{log}");
}

fn guard_script(min_gb: i64) -> String {
    let a = super::fixtures::attrs(serde_json::json!({"name": "q", "instance_types": ["c7i.large"], "max_size": 2, "disk_min_free_gb": min_gb}));
    let script = installed(&user_data(&super::fixtures::spec(&a, &super::fixtures::env())), "gantry-disk-guard");
    // As the bootstrap's sed fills them in.
    script.replace("__MIN_GB__", &min_gb.to_string()).replace("__DIR__", "/var/lib/docker")
}

#[test]
fn the_disk_guard_prunes_then_refuses() {
    let b = Bench::new();
    b.fake("docker", 0);
    // df answers from a queue of free-space values, one per call.
    let answers = b.path().join("df-answers");
    b.script("df", &format!("echo \"df $*\" >> '{}'\nv=$(head -n1 '{a}'); sed -i 1d '{a}'\nprintf 'Filesystem 1G-blocks Used Available Capacity Mounted\\n/dev/x 500G 1G %sG 1%% /\\n' \"$v\"\n", b.log().display(), a = answers.display()));
    let run = |free: &[&str], want_ok: bool| {
        std::fs::write(&answers, free.join("\n") + "\n").unwrap();
        let (ok, log, stderr) = b.run_status(&guard_script(20), &[]);
        assert_eq!(ok, want_ok, "{stderr}");
        (log, stderr)
    };
    let (log, _) = run(&["80"], true);
    assert!(!log.contains("docker system"), "enough space: nothing pruned\n{log}");
    let (log, _) = run(&["5", "5", "60"], true);
    assert!(log.contains("docker system prune --all --force --filter until=1h"), "{log}");
    let (_, err) = run(&["5", "5", "8", "8"], false);
    assert!(err.contains("still only 8 GB free on /var/lib/docker (at least 20 GB needed); this job cannot run here"), "{err}");
    assert!(!user_data(&super::fixtures::spec(
        &super::fixtures::attrs(serde_json::json!({"name": "q", "instance_types": ["c7i.large"], "max_size": 2, "disk_min_free_gb": 0})),
        &super::fixtures::env()
    ))
    .contains("gantry-disk-guard <<"));
}

/// A bench with fake disk tools, stand-in device files and an empty by-id folder.
fn storage_bench(devices: &[&str]) -> (Bench, std::path::PathBuf) {
    let b = Bench::new();
    for cmd in ["dnf", "mdadm", "mkfs.xfs", "mount"] {
        b.fake(cmd, 0);
    }
    let by_id = b.path().join("by-id");
    std::fs::create_dir_all(&by_id).unwrap();
    for dev in devices {
        std::fs::write(b.path().join(dev), "").unwrap();
    }
    (b, by_id)
}

#[test]
fn instance_store_disks_are_striped_once_each_and_hold_docker_and_builds() {
    let (b, by_id) = storage_bench(&["nvme1n1", "nvme2n1"]);
    let etc = b.path().join("etc-docker");
    let scratch = b.path().join("scratch");
    let link = |name: &str, dev: &str| std::os::unix::fs::symlink(b.path().join(dev), by_id.join(name)).unwrap();
    link("nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1", "nvme1n1");
    link("nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1_1", "nvme1n1"); // the same disk under a second name
    link("nvme-Amazon_EC2_NVMe_Instance_Storage_AWS2", "nvme2n1");
    link("nvme-Amazon_EC2_NVMe_Instance_Storage_AWS2-part1", "nvme2n1");
    let script = format!(
        "DOCKER_ROOT=/var/lib/docker\nBUILD_PATH=/var/lib/buildkite-agent/builds\n{}\necho \"result $DOCKER_ROOT $BUILD_PATH\" >> '{}'\n",
        super::template::INSTANCE_STORAGE
            .replace("/dev/disk/by-id", &by_id.display().to_string())
            .replace("/etc/docker", &etc.display().to_string())
            .replace("/mnt/scratch", &scratch.display().to_string()),
        b.log().display()
    );
    let log = b.run(&script, &[]);
    let (d1, d2) = (b.path().join("nvme1n1"), b.path().join("nvme2n1"));
    let s = scratch.display();
    assert_eq!(
        log,
        format!(
            "dnf install -y mdadm\nmdadm --create /dev/md0 --level=0 --raid-devices=2 {} {} --run\nmkfs.xfs -f /dev/md0\nmount -o noatime /dev/md0 {s}\nresult {s}/docker {s}/builds\n",
            d1.display(),
            d2.display()
        )
    );
    assert_eq!(std::fs::read_to_string(etc.join("daemon.json")).unwrap().trim(), format!("{{\"data-root\": \"{s}/docker\"}}"));
}

/// The AL2023 Deep Learning AMIs put the instance store into LVM at
/// /opt/dlami/nvme before user data runs: gantry uses that mount and never
/// formats a disk that is mounted or held by another device.
#[test]
fn disks_a_deep_learning_ami_already_claimed_are_used_not_formatted() {
    let (b, by_id) = storage_bench(&["nvme1n1"]);
    let sys = b.path().join("sys");
    let dlami = b.path().join("dlami-nvme");
    std::os::unix::fs::symlink(b.path().join("nvme1n1"), by_id.join("nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1")).unwrap();
    // The disk is an LVM physical volume: dm-0 holds it.
    std::fs::create_dir_all(sys.join("nvme1n1/holders/dm-0")).unwrap();
    let script = |mounted: bool| {
        b.script("mountpoint", &format!("exit {}\n", if mounted { 0 } else { 1 }));
        format!(
            "DOCKER_ROOT=/var/lib/docker\nBUILD_PATH=/var/lib/buildkite-agent/builds\n{}\necho \"result $DOCKER_ROOT $BUILD_PATH\" >> '{}'\n",
            super::template::INSTANCE_STORAGE
                .replace("/dev/disk/by-id", &by_id.display().to_string())
                .replace("/sys/class/block", &sys.display().to_string())
                .replace("/etc/docker", &b.path().join("etc-docker").display().to_string())
                .replace("/opt/dlami/nvme", &dlami.display().to_string()),
            b.log().display()
        )
    };
    let d = dlami.display();
    assert_eq!(b.run(&script(true), &[]), format!("result {d}/docker {d}/builds\n"), "the AMI's mount is the scratch space");
    assert_eq!(b.run(&script(false), &[]), "result /var/lib/docker /var/lib/buildkite-agent/builds\n", "a held disk is left alone");
}

/// gantry-runner-config: waits for the scaler to leave this instance's
/// configuration, writes it root-only, and fails (→ bootstrap_failed →
/// unhealthy) when none arrives.
#[test]
fn a_runner_waits_for_its_configuration_and_keeps_it_private() {
    let a = super::fixtures::attrs(serde_json::json!({"name": "q", "instance_types": ["c7i.large"], "max_size": 2,
        "github": {"repository": "acme/ml", "labels": ["cpu"], "credentials": "/gh"}}));
    let script = user_data(&super::fixtures::spec(&a, &super::fixtures::env()));
    let config = installed(&script, "gantry-runner-config").replace("__JIT_PATH__", "/gantry/jit/s/q").replace("__ROUNDS__", "3");
    let b = Bench::new();
    // The parameter appears on the second look.
    let state = b.path().join("looks");
    b.script(
        "aws",
        &format!(
            "echo \"aws $*\" >> '{}'\nn=$(cat '{s}' 2>/dev/null || echo 0); echo $((n + 1)) > '{s}'\n[ \"$n\" -ge 1 ] && echo 'ZW5jb2RlZC1qaXQ=' || exit 254\n",
            b.log().display(),
            s = state.display()
        ),
    );
    let dir = b.path().join("etc-gantry");
    let log = b.run(&config, &[("GANTRY_CONFIG_DIR", dir.to_str().unwrap()), ("GANTRY_CONFIG_POLL", "0")]);
    assert_eq!(log.matches("ssm get-parameter --region us-west-2 --name /gantry/jit/s/q/i-0abc --with-decryption").count(), 2, "{log}");
    let env = std::fs::read_to_string(dir.join("runner.env")).unwrap();
    assert_eq!(env, "GANTRY_JITCONFIG=ZW5jb2RlZC1qaXQ=\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(dir.join("runner.env")).unwrap().permissions().mode() & 0o777, 0o600);
    // Never arrives: the script fails, and the bootstrap's ERR trap replaces the instance.
    b.fake("aws", 254);
    let (ok, _, stderr) = b.run_status(&config, &[("GANTRY_CONFIG_DIR", dir.to_str().unwrap()), ("GANTRY_CONFIG_POLL", "0")]);
    assert!(!ok && stderr.contains("no runner configuration arrived"), "{stderr}");
}
