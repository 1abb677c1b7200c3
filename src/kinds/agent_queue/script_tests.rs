//! The scripts the bootstrap installs on an instance, run here with fake
//! `aws`, `curl` (instance metadata), `systemctl` and `shutdown` on PATH:
//! each fake appends its command line to one log, so a test reads the
//! exact sequence of what the instance would have done.

use super::template::user_data;
use std::path::{Path, PathBuf};

/// The body of the here-document that installs `name` on the instance,
/// with the bootstrap's `sed` placeholders filled as on a real instance.
fn installed(user_data: &str, name: &str) -> String {
    let body = user_data.split(&format!("/usr/local/bin/{name} <<'SH'\n")).nth(1).and_then(|s| s.split("\nSH\n").next()).expect("the script");
    body.replace("__REGION__", "us-west-2").replace("__ASG__", "gantry-ci-q").replace("__INSTANCE__", "i-0abc")
}

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Bench {
        let b = Bench { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir(b.dir.path().join("imds")).unwrap();
        b
    }
    fn log(&self) -> PathBuf {
        self.dir.path().join("calls")
    }
    /// A fake command that logs its arguments and exits with `code`.
    fn fake(&self, name: &str, code: i32) {
        self.script(name, &format!("echo \"{name} $*\" >> '{}'\nexit {code}\n", self.log().display()));
    }
    /// A fake `curl` answering instance metadata from the imds/ folder (404 → exit 22, as `curl -f`).
    fn fake_imds(&self) {
        let imds = self.dir.path().join("imds");
        self.script(
            "curl",
            &format!(
                "for a in \"$@\"; do case \"$a\" in http*) url=\"$a\" ;; esac; done\ncase \"$url\" in\n  */api/token) echo token ;;\n  *) f='{}'/\"${{url#*/meta-data/}}\"; [ -f \"$f\" ] && cat \"$f\" || exit 22 ;;\nesac\n",
                imds.display()
            ),
        );
    }
    fn set_metadata(&self, path: &str, value: &str) {
        let p = self.dir.path().join("imds").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, value).unwrap();
    }
    fn script(&self, name: &str, body: &str) {
        let p = self.dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/bash\n{body}")).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    /// Runs a script with the fakes first on PATH; returns the log.
    fn run(&self, script: &str, env: &[(&str, &str)]) -> String {
        let _ = std::fs::remove_file(self.log());
        let file = self.dir.path().join("script");
        std::fs::write(&file, script).unwrap();
        let path = format!("{}:{}", self.dir.path().display(), std::env::var("PATH").unwrap_or_default());
        // A watcher that never sees what it waits for would loop: bound it.
        let mut cmd = std::process::Command::new("timeout");
        cmd.arg("20").arg("bash").arg(&file).env("PATH", path);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// gantry-terminate-self: the decrementing terminate call, the power-off
/// when the group refuses it, and nothing when the drain watcher stopped the agent.
pub(super) fn run_terminate_self(user_data: &str) {
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
    let a = super::tests::attrs(serde_json::json!({"name": "q", "instance_types": ["c7i.large"], "max_size": 2}));
    let script = installed(&user_data(&super::spec::spec(&a, &super::tests::env())), "gantry-drain-watch");
    script.replace("__HOOK__", super::template::DRAIN_HOOK)
}

#[test]
fn scale_in_drains_the_agent_then_completes_the_hook() {
    let b = Bench::new();
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
