//! Signals from start-up: a SIGTERM (or Ctrl-C) while gantry is still
//! planning releases the lock, says nothing was changed and exits 130.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_signal_while_planning_releases_the_lock_and_says_so() {
    // An "AWS endpoint" that accepts connections and never answers: planning hangs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().flatten() {
            open.push(s);
        }
    });
    let dir = crate::support::stack_dir(&[(
        "main.gantry.hcl",
        "stack \"sig\" {\n  aws { region = \"us-west-2\" }\n}\n\necr_repository \"r\" {\n  name = \"sig/r\"\n}\n",
    )]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["apply", dir.path().to_str().unwrap(), "--auto-approve"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-west-2")
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lock = dir.path().join(".gantry").join("lock");
    let t = Instant::now();
    while !lock.exists() && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(lock.exists(), "the apply took the lock");
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        panic!("gantry did not stop on SIGTERM");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("termination signal received before any change started: nothing was changed; the lock is released"), "{stderr}");
    assert!(!lock.exists(), "the lock is released");
}

/// Ctrl-C at the approval prompt (on a real pseudo-terminal) stops the
/// apply at once: nothing changed, the lock released, exit 130 — without
/// waiting for the person to press Enter.
#[test]
fn ctrl_c_at_the_prompt_stops_without_waiting_for_an_answer() {
    let moto = crate::support::Moto::start();
    let dir = crate::support::stack_dir(&[("main.gantry.hcl", "stack \"prompt\" {\n  aws { region = \"us-east-1\" }\n}\n\necr_repository \"asked\" {}\n")]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pty/interrupt_at_prompt.py");
    let mut cmd = Command::new("python3");
    cmd.args([script, env!("CARGO_BIN_EXE_gantry"), "apply", dir.path().to_str().unwrap()]);
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    let out = cmd.env("NO_COLOR", "1").env_remove("CI").output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.starts_with("EXIT 130"), "{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("interrupt received before any change started: nothing was changed; the lock is released"), "{report}");
    assert!(!dir.path().join(".gantry").join("lock").exists(), "the lock is released");
    let r = crate::support::gantry(&["plan", dir.path().to_str().unwrap(), "--detailed-exitcode"], &moto.env(), dir.path());
    assert_eq!(r.code, 2, "nothing was created: {}", r.all());
}
