//! The boot harness: runs a rendered bootstrap to completion in a sandbox
//! of its image, then starts a stand-in agent or runner and runs one job.
//!
//! The sandbox is a chroot in a private mount namespace (root only): the
//! host's libraries are mounted read-only, a few host tools that behave the
//! same everywhere (bash, coreutils, sed, grep, awk, tar, python3, useradd,
//! setpriv) are copied in, and every image-specific command is a stand-in
//! (stub.sh) created from the image's profile (profiles.rs). Users and
//! permissions are real: hooks and jobs run as the agent's user through
//! setpriv, so a directory that user cannot write fails the job as it would
//! on the machine. A failure names the script line (bash's xtrace).

// Shared by the snapshot and shipped-stack tests, each using a part.
#![allow(dead_code, unused_imports)]

mod cases;
mod jobs;
pub(crate) mod profiles;

pub(crate) use cases::{arm64, boot_and_run_one_job, cases_from_plan, check_lifecycle, instance_store_disks, node_case, queue_case, Case};

use profiles::Profile;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const STUB: &str = include_str!("stub.sh");
/// Host tools copied into the image (same behaviour on every distribution).
const HOST_TOOLS: &[&str] = &[
    "bash",
    "cat",
    "chmod",
    "chown",
    "cp",
    "cut",
    "date",
    "dirname",
    "basename",
    "echo",
    "env",
    "head",
    "id",
    "install",
    "ln",
    "ls",
    "mkdir",
    "mktemp",
    "mv",
    "printf",
    "readlink",
    "rm",
    "rmdir",
    "seq",
    "sha256sum",
    "sort",
    "stat",
    "tail",
    "tee",
    "touch",
    "tr",
    "true",
    "false",
    "wc",
    "grep",
    "sed",
    "tar",
    "gzip",
    "base64",
    "flock",
    "find",
    "setpriv",
    "getent",
    "useradd",
    "usermod",
    "groupadd",
    "cmp",
    "xargs",
    "uniq",
    "od",
];
const INSTANCE_ID: &str = "i-0harness";
/// The access token the stand-in metadata server hands out.
pub(crate) const GCE_TOKEN: &str = "ya29.harness-token";

/// What the machine's world holds: parameters, secrets, metadata, network.
#[derive(Default, Clone)]
pub(crate) struct World {
    pub ssm: Vec<(String, String)>,
    pub secrets_manager: Vec<(String, String)>,
    pub gcp_secrets: Vec<(String, String)>,
    /// Compute Engine metadata (path under computeMetadata/v1/, value).
    pub gce_metadata: Vec<(String, String)>,
    /// A route to the internet (an external IP or NAT).
    pub egress: bool,
    pub instance_store_disks: usize,
    /// A data disk attached under this stable device path.
    pub data_disk: Option<String>,
    /// `uname -m` when not the profile's (Graviton instances).
    pub arch: Option<&'static str>,
}

impl World {
    /// The world a bootstrap may count on: every SSM parameter, secret and
    /// Secret Manager secret it names exists (gantry checks them at plan
    /// time), and the runner configuration the scaler or `gantry runner
    /// wake` leaves for this instance is there.
    pub(crate) fn for_script(script: &str) -> World {
        let mut w = World { egress: true, ..World::default() };
        let quoted = |after: &str| -> Vec<String> {
            script
                .split(after)
                .skip(1)
                .filter_map(|rest| {
                    let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
                    let v = rest[1..].split(q).next()?;
                    (!v.contains('$')).then(|| v.to_string())
                })
                .collect()
        };
        for n in quoted("TOKEN_PARAMETER=").into_iter().chain(quoted("--name ")) {
            w.ssm.push((n, "harness-secret-value".into()));
        }
        for n in quoted("--secret-id ") {
            w.secrets_manager.push((n, "harness-secret-value".into()));
        }
        for n in quoted("--secret=") {
            let value = format!("harness-secret-{n}");
            w.gcp_secrets.push((n, value));
        }
        // The metadata server's token for the machine's service account
        // (Compute docs, "Authenticate workloads": `access_token` JSON).
        if script.contains("service-accounts/default/token") {
            w.gce_metadata.push((
                "instance/service-accounts/default/token".into(),
                format!("{{\"access_token\":\"{GCE_TOKEN}\",\"expires_in\":3599,\"token_type\":\"Bearer\"}}"),
            ));
        }
        if let Some(jit) = script.split("s|__JIT_PATH__|").nth(1).and_then(|s| s.split('|').next()) {
            w.ssm.push((format!("{jit}/{INSTANCE_ID}"), "aGFybmVzcy1qaXQtY29uZmln".into()));
        }
        if script.contains("gantry-runner-jitconfig") {
            w.gce_metadata.push(("instance/attributes/gantry-runner-jitconfig".into(), "aGFybmVzcy1qaXQtY29uZmln".into()));
        }
        w
    }
}

/// One booted (or booting) machine.
pub(crate) struct Machine {
    root: tempfile::TempDir,
    script: String,
}

/// How a bootstrap ended.
pub(crate) struct Boot {
    pub ok: bool,
    pub output: String,
    /// The line that failed, as `LINE: text`.
    pub failed_at: Option<String>,
}

fn host_path(tool: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return std::fs::canonicalize(p).unwrap();
        }
    }
    panic!("the boot harness needs {tool} on this machine");
}

fn write(root: &Path, path: &str, text: &str, mode: u32) {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn key(name: &str) -> String {
    name.replace('/', "_")
}

/// The stand-in run.sh: one job from a just-in-time configuration, with
/// the listener's `.env` (KEY=VALUE lines, Runner.Listener LoadAndSetEnv),
/// the job-started hook by the runner's rules (an absolute .sh path run
/// with `bash -e`; its `::add-mask::` lines mask values, its GITHUB_ENV
/// lines reach later steps, NAME=value or NAME<<DELIM), and a job step
/// that prints its environment through the masks.
const RUN_SH: &str = r#"#!/bin/bash
# stand-in for actions/runner's run.sh
set -e
[ "$1" = --jitconfig ] && [ -n "$2" ] || { echo 'run.sh: no --jitconfig' >&2; exit 2; }
cd "$(dirname "$0")"
if [ -f .env ]; then while IFS= read -r kv; do [[ "$kv" == *=* ]] && export "${kv%%=*}=${kv#*=}"; done < .env; fi
echo 'Listening for Jobs'
mkdir -p _work/harness/harness _work/_temp
: > _work/_temp/masks
export GITHUB_ENV=$PWD/_work/_temp/github_env
: > "$GITHUB_ENV"
hook=${ACTIONS_RUNNER_HOOK_JOB_STARTED:-}
if [ -n "$hook" ]; then
  case "$hook" in /*.sh) ;; *) echo "hook $hook: not an absolute .sh path"; echo 'Job harness completed with result: Failed'; exit 1 ;; esac
  if ! out=$(bash -e "$hook"); then echo "the job-started hook failed"; echo 'Job harness completed with result: Failed'; exit 1; fi
  while IFS= read -r line; do
    case "$line" in ::add-mask::*) echo "${line#::add-mask::}" >> _work/_temp/masks ;; *) echo "$line" ;; esac
  done <<< "$out"
fi
while IFS= read -r line; do
  if [[ "$line" == *"<<"* ]]; then
    name=${line%%<<*}; delim=${line#*<<}; value=""
    while IFS= read -r l && [ "$l" != "$delim" ]; do value+="$l"; done
    export "$name=$value"
  elif [[ "$line" == *=* ]]; then export "${line%%=*}=${line#*=}"; fi
done < "$GITHUB_ENV"
log=$(env | sort)
while IFS= read -r m; do [ -n "$m" ] && log=${log//"$m"/***}; done < _work/_temp/masks
echo "$log"
echo done > _work/harness/harness/job
echo 'Job harness completed with result: Succeeded'
"#;

/// The stand-in actions/runner release: run.sh takes one job from a
/// just-in-time configuration; bin/installdependencies.sh behaves as the
/// real one does (it knows Debian, Red Hat and SUSE by their release files
/// and exits 1 elsewhere: actions/runner src/Misc/layoutbin/installdependencies.sh, #2523).
fn runner_release(dir: &Path) -> PathBuf {
    let src = dir.join("runner-src");
    write(&src, "run.sh", RUN_SH, 0o755);
    write(&src, "config.sh", "#!/bin/bash\nexit 0\n", 0o755);
    write(
        &src,
        "bin/installdependencies.sh",
        "#!/bin/bash\nif [ -e /etc/debian_version ]; then apt-get update && apt-get install -y liblttng-ust1 libkrb5-3 zlib1g libssl3 libicu70\nelif [ -e /etc/redhat-release ]; then dnf install -y lttng-ust openssl-libs krb5-libs zlib libicu\nelif [ -e /etc/SuSE-release ]; then zypper -n install lttng-ust libopenssl1_1 krb5 zlib libicu\nelse echo \"Can't detect current OS type based on /etc/os-release.\"; echo \"Can't install dependency.\"; exit 1\nfi\n",
        0o755,
    );
    let out = dir.join("actions-runner.tar.gz");
    let st = Command::new("tar").arg("czf").arg(&out).arg("-C").arg(&src).arg(".").status().unwrap();
    assert!(st.success());
    out
}

impl Machine {
    /// A fresh machine of `profile` in `world`, with `script` as its bootstrap.
    pub(crate) fn new(profile: &Profile, world: &World, script: &str) -> Machine {
        assert!(unsafe_euid_is_root(), "the boot harness needs root (a mount namespace and real users); run the tests as root, as CI does");
        let mut root = tempfile::Builder::new().prefix("gantry-boot-").tempdir().unwrap();
        // GANTRY_BOOT_KEEP=1 keeps the sandboxes to look into.
        root.disable_cleanup(std::env::var_os("GANTRY_BOOT_KEEP").is_some());
        let r = root.path();
        for d in [
            "usr/bin",
            "usr/sbin",
            "usr/lib",
            "usr/lib64",
            "usr/local/bin",
            "usr/local/sbin",
            "usr/share/keyrings",
            "etc/sudoers.d",
            "etc/systemd/system",
            "etc/yum.repos.d",
            "etc/apt/sources.list.d",
            "var/lib",
            "var/log",
            "opt",
            "mnt",
            "run",
            "root",
            "home",
            "proc",
            "dev/disk/by-id",
            "sys/class/block",
            "harness/state",
            "harness/units",
            "harness/spool",
            "harness/profile",
            "harness/ssm",
            "harness/secretsmanager",
            "harness/gcp-secrets",
            "harness/imds",
            "harness/downloads",
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        if profile.manager == "apt" {
            std::fs::create_dir_all(r.join("etc/apt/apt.conf.d")).unwrap();
        }
        for (link, to) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")] {
            symlink(to, r.join(link)).unwrap();
        }
        std::fs::create_dir_all(r.join("tmp")).unwrap();
        std::fs::set_permissions(r.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::set_permissions(r.join("harness/spool"), std::fs::Permissions::from_mode(0o1777)).unwrap();
        for t in HOST_TOOLS {
            std::fs::copy(host_path(t), r.join("usr/bin").join(t)).unwrap();
        }
        std::fs::copy(host_path("mawk"), r.join("usr/bin/awk")).unwrap();
        std::fs::copy(host_path("python3"), r.join("usr/bin/python3")).unwrap();
        symlink("bash", r.join("usr/bin/sh")).unwrap();
        write(r, "/harness/stub", STUB, 0o755);
        write(r, "/harness/calls", "", 0o666);
        for c in profile.commands {
            let _ = std::fs::remove_file(r.join("usr/bin").join(c));
            symlink("/harness/stub", r.join("usr/bin").join(c)).unwrap();
        }
        // Users and groups of a fresh image.
        let user = profile.default_user;
        let mut group = "root:x:0:\nwheel:x:10:\n".to_string();
        for (i, g) in profile.groups.iter().enumerate() {
            group.push_str(&format!("{g}:x:{}:\n", 990 - i));
        }
        group.push_str(&format!("{user}:x:1000:\n"));
        write(r, "/etc/passwd", &format!("root:x:0:0:root:/root:/bin/bash\n{user}:x:1000:1000::/home/{user}:/bin/bash\n"), 0o644);
        write(r, "/etc/group", &group, 0o644);
        write(r, "/etc/shadow", &format!("root:*:19000:0:99999:7:::\n{user}:!:19000:0:99999:7:::\n"), 0o600);
        write(r, "/etc/gshadow", "", 0o600);
        write(r, "/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\n", 0o644);
        write(r, "/etc/fstab", "", 0o644);
        std::fs::create_dir_all(r.join("home").join(user)).unwrap();
        for (path, text) in profile.files {
            write(r, path, text, 0o644);
        }
        for u in profile.units {
            write(r, &format!("/harness/units/{u}.service"), "User=root\n", 0o644);
        }
        write(r, "/harness/profile/arch", &format!("{}\n", world.arch.unwrap_or(profile.arch)), 0o644);
        for (pkg, recipe) in profile.repo {
            write(r, &format!("/harness/repo/{}/{pkg}", profile.manager), recipe, 0o644);
        }
        for (pkg, recipe) in profile.extra_repo {
            write(r, &format!("/harness/repo/{}-extra/{pkg}", profile.manager), recipe, 0o644);
        }
        // The world: parameters, secrets, metadata, downloads, network, disks.
        for (n, v) in &world.ssm {
            write(r, &format!("/harness/ssm/{}", key(n)), v, 0o644);
        }
        for (n, v) in &world.secrets_manager {
            write(r, &format!("/harness/secretsmanager/{}", key(n)), v, 0o644);
        }
        for (n, v) in &world.gcp_secrets {
            write(r, &format!("/harness/gcp-secrets/{n}"), v, 0o644);
        }
        for (p, v) in &world.gce_metadata {
            write(r, &format!("/harness/gce-metadata/{p}"), v, 0o644);
        }
        write(r, "/harness/imds/instance-id", INSTANCE_ID, 0o644);
        std::fs::copy(runner_release(r.join("harness").as_path()), r.join("harness/downloads/actions-runner.tar.gz")).unwrap();
        write(r, "/harness/downloads/get.docker.com", "#!/bin/sh\n# stand-in for get.docker.com: Docker's repository, then its packages\napt-get update\napt-get install -y docker-ce docker-ce-cli containerd.io\n", 0o644);
        write(
            r,
            "/harness/downloads/keys.openpgp.org_vks_v1_by-fingerprint_32A37959C2FA5C3C99EFBC32A79206696452D198",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\nharness\n-----END PGP PUBLIC KEY BLOCK-----\n",
            0o644,
        );
        write(r, "/harness/state/egress", if world.egress { "yes" } else { "no" }, 0o644);
        if profile.gpu {
            write(r, "/harness/state/gpu", "", 0o644);
        }
        if profile.dpkg_locked_at_boot {
            write(r, "/harness/state/dpkg-locked", "", 0o644);
        }
        let mut busy = String::new();
        for i in 1..=world.instance_store_disks {
            let dev = format!("nvme{i}n1");
            write(r, &format!("/dev/{dev}"), "", 0o600);
            symlink(format!("/dev/{dev}"), r.join(format!("dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS{i}"))).unwrap();
            std::fs::create_dir_all(r.join(format!("sys/class/block/{dev}/holders"))).unwrap();
            if profile.claims_instance_store.is_some() {
                std::fs::create_dir_all(r.join(format!("sys/class/block/{dev}/holders/dm-0"))).unwrap();
                busy.push_str(&format!("/dev/{dev}\n"));
            }
        }
        write(r, "/harness/state/busy", &busy, 0o644);
        if let (Some(mount), true) = (profile.claims_instance_store, world.instance_store_disks > 0) {
            std::fs::create_dir_all(r.join(mount.trim_start_matches('/'))).unwrap();
            write(r, "/harness/state/mounts", &format!("{mount}\n"), 0o644);
        }
        if let Some(dev) = &world.data_disk {
            let p = r.join(dev.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let st = Command::new("mknod").arg(&p).args(["b", "7", "250"]).status().unwrap();
            assert!(st.success(), "mknod {}", p.display());
        }
        write(r, "/harness/user-data", script, 0o700);
        Machine { root, script: script.to_string() }
    }

    /// Runs `command` (bash) as root inside the machine: (succeeded, output).
    pub(crate) fn sh(&self, command: &str) -> (bool, String) {
        const ENTER: &str = r#"set -e
R=$1; CMD=$2
for d in /usr/lib /usr/lib64; do
  [ -d "$d" ] || continue
  mount --bind "$d" "$R$d"; mount -o remount,bind,ro "$R$d"
done
mount -t proc proc "$R/proc"
for n in null zero random urandom; do touch "$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done
ln -sfn /proc/self/fd "$R/dev/fd"
exec chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin HOME=/root LANG=C /usr/bin/bash -c "$CMD"
"#;
        let out = Command::new("timeout")
            .args(["120", "unshare", "--mount", "--fork", "--", "bash", "-c", ENTER, "enter"])
            .arg(self.root.path())
            .arg(command)
            .output()
            .unwrap();
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }

    /// A file of the machine.
    pub(crate) fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.path().join(path.trim_start_matches('/'))).unwrap_or_default()
    }

    /// Every command the image's stand-ins saw, one per line.
    pub(crate) fn calls(&self) -> String {
        self.read("/harness/calls")
    }

    /// Boots the machine again: Compute Engine runs a startup script at every
    /// boot (a stopped runner node is started many times), on the disk the
    /// last boot left; dpkg's lock is held again by the boot's apt jobs.
    pub(crate) fn reboot(&self, profile: &Profile) -> Boot {
        if profile.dpkg_locked_at_boot {
            write(self.root.path(), "/harness/state/dpkg-locked", "", 0o644);
        }
        let _ = std::fs::remove_file(self.root.path().join("harness/state/started"));
        self.boot()
    }

    /// Runs the bootstrap as cloud-init / the guest agent would: as root, to the end.
    pub(crate) fn boot(&self) -> Boot {
        // bash takes PS4 from the environment only when not root: the trace
        // settings replace the shebang line, so line numbers stay the script's.
        let first = self.script.lines().next().unwrap_or_default();
        let rest = if first.starts_with("#!") { &self.script[first.len()..] } else { self.script.as_str() };
        write(self.root.path(), "/harness/user-data.traced", &format!("PS4='+${{LINENO}}: '; BASH_XTRACEFD=9; set -x{rest}"), 0o700);
        // Through a pipe, not straight into the file: the scripts send their
        // output through `exec > >(tee LOG)`, and that tee can still be
        // writing when the script has exited (under load, the file was read
        // empty). `cat` reaches end of file only once every writer is gone.
        let (ok, out) = self.sh("exec 9>/harness/trace; bash /harness/user-data.traced 2>&1 | cat > /harness/output; exit \"${PIPESTATUS[0]}\"");
        let output = format!("{out}{}", self.read("/harness/output"));
        let failed_at = (!ok).then(|| self.failed_line(&output));
        Boot { ok, output, failed_at }
    }

    fn failed_line(&self, output: &str) -> String {
        // The EC2 scripts' ERR trap names the line; otherwise the last line bash traced.
        let from_trap = output.split("bootstrap failed at line ").nth(1).and_then(|s| s.split(';').next()).and_then(|n| n.trim().parse::<usize>().ok());
        let trace = self.read("/harness/trace");
        let last = trace.lines().rev().filter_map(|l| l.strip_prefix('+')).find_map(|l| l.split(':').next().and_then(|n| n.trim().parse::<usize>().ok()));
        let n = from_trap.or(last).unwrap_or(0);
        format!("{n}: {}", self.script.lines().nth(n.saturating_sub(1)).unwrap_or("?").trim())
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn unsafe_euid_is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}
