//! Everything gantry generates for a machine or for CloudFormation passes
//! the vendors' own linters: every agent-queue template snapshot through
//! cfn-lint (no errors), every bootstrap script snapshot through `bash -n`
//! and shellcheck. (The shipped stacks' queue templates are linted in
//! tests/stacks.rs, from their plans.) The snapshots are the rendered output
//! the unit tests pin, so linting them lints what gantry produces.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The body of an insta snapshot (after its `---` header).
fn snapshot_body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.splitn(3, "---\n").nth(2).unwrap_or_default().to_string()
}

fn snapshots(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(&root).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(suffix)).collect();
    out.sort();
    assert!(!out.is_empty(), "no {suffix} snapshots in {}", root.display());
    out
}

#[test]
fn queue_templates_pass_cfn_lint() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for snap in snapshots("src/kinds/agent_queue/snapshots", "_template.snap") {
        let body = snapshot_body(&snap);
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_else(|e| panic!("{} is not JSON: {e}", snap.display()));
        let file = tmp.path().join(snap.file_name().unwrap()).with_extension("json");
        std::fs::write(&file, body).unwrap();
        files.push(file);
    }
    support::cfn_lint(&files);
}

#[test]
fn bootstrap_scripts_pass_bash_n_and_shellcheck() {
    let mut scripts = snapshots("src/kinds/agent_queue/snapshots", "_user_data.snap");
    scripts.extend(snapshots("src/kinds/common/gcp/snapshots", "_startup.snap"));
    let tmp = tempfile::tempdir().unwrap();
    for snap in scripts {
        let file = tmp.path().join(snap.file_name().unwrap()).with_extension("sh");
        std::fs::write(&file, snapshot_body(&snap)).unwrap();
        let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(out.status.success(), "bash -n {}: {}", snap.display(), String::from_utf8_lossy(&out.stderr));
        let out = Command::new(support::venv_tool("shellcheck"))
            .args(["--shell=bash", "--severity=warning"])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("shellcheck not runnable ({e}); scripts/setup-emulators.sh installs it"));
        assert!(out.status.success(), "shellcheck {}:\n{}", snap.display(), String::from_utf8_lossy(&out.stdout));
    }
}

/// The project's own scripts (demo, tests, packaging, benches) are held to
/// the same bar as the scripts gantry generates.
#[test]
fn project_scripts_pass_bash_n_and_shellcheck() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts: Vec<_> =
        std::fs::read_dir(root.join("scripts")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "sh")).collect();
    scripts.push(root.join(".ci/run"));
    scripts.sort();
    assert!(scripts.len() >= 8, "{scripts:?}");
    for file in &scripts {
        let out = Command::new("bash").arg("-n").arg(file).output().unwrap();
        assert!(out.status.success(), "bash -n {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    }
    let out = Command::new(support::venv_tool("shellcheck")).arg("-x").args(&scripts).current_dir(root).output().expect("shellcheck");
    assert!(out.status.success(), "shellcheck:\n{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn systemd_environment_values_are_not_expanded() {
    // `$`, backticks and `%` in agent_env reach the agent literally.
    assert_eq!(gantry::kinds::agent_queue::template::systemd_quote(r#"a$HOME`id`"%q\"#), r#"a$HOME`id`\"%%q\\"#);
}
