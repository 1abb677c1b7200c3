//! A bench for the shell scripts gantry installs on machines: each runs
//! here with fake `aws`, `curl` (instance metadata), `systemctl`,
//! `shutdown` and friends on PATH; every fake appends its command line to
//! one log, so a test reads the exact sequence of what the machine did.

use std::path::{Path, PathBuf};

/// The body of the here-document that installs `name` on the instance,
/// with the bootstrap's `sed` placeholders filled as on a real instance.
pub(crate) fn installed(user_data: &str, name: &str) -> String {
    let body = user_data.split(&format!("/usr/local/bin/{name} <<'SH'\n")).nth(1).and_then(|s| s.split("\nSH\n").next()).expect("the script");
    body.replace("__REGION__", "us-west-2").replace("__ASG__", "gantry-ci-q").replace("__INSTANCE__", "i-0abc")
}

pub(crate) struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    pub(crate) fn new() -> Bench {
        let b = Bench { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir(b.dir.path().join("imds")).unwrap();
        b
    }
    pub(crate) fn log(&self) -> PathBuf {
        self.dir.path().join("calls")
    }
    /// A fake command that logs its arguments and exits with `code`.
    pub(crate) fn fake(&self, name: &str, code: i32) {
        self.script(name, &format!("echo \"{name} $*\" >> '{}'\nexit {code}\n", self.log().display()));
    }
    /// A fake `curl` answering instance metadata from the imds/ folder (404 → exit 22, as `curl -f`).
    pub(crate) fn fake_imds(&self) {
        let imds = self.dir.path().join("imds");
        self.script(
            "curl",
            &format!(
                "for a in \"$@\"; do case \"$a\" in http*) url=\"$a\" ;; esac; done\ncase \"$url\" in\n  */api/token) echo token ;;\n  *) f='{}'/\"${{url#*/meta-data/}}\"; [ -f \"$f\" ] && cat \"$f\" || exit 22 ;;\nesac\n",
                imds.display()
            ),
        );
    }
    pub(crate) fn set_metadata(&self, path: &str, value: &str) {
        let p = self.dir.path().join("imds").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, value).unwrap();
    }
    pub(crate) fn script(&self, name: &str, body: &str) {
        let p = self.dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/bash\n{body}")).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    /// Runs a script with the fakes first on PATH; returns the log.
    pub(crate) fn run(&self, script: &str, env: &[(&str, &str)]) -> String {
        let (ok, log, stderr) = self.run_status(script, env);
        assert!(ok, "{stderr}");
        log
    }
    /// Runs a script with the fakes first on PATH: (succeeded, log, stderr).
    pub(crate) fn run_status(&self, script: &str, env: &[(&str, &str)]) -> (bool, String, String) {
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
        (out.status.success(), std::fs::read_to_string(self.log()).unwrap_or_default(), String::from_utf8_lossy(&out.stderr).to_string())
    }
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}
