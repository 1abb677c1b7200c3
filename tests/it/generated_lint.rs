//! Everything gantry generates for a machine or for CloudFormation passes
//! the vendors' own linters: every agent-queue template snapshot through
//! cfn-lint (no errors), every bootstrap script snapshot through `bash -n`
//! and shellcheck. (The shipped stacks' queue templates are linted in
//! tests/it/stacks.rs, from their plans.) The snapshots are the rendered output
//! the unit tests pin, so linting them lints what gantry produces.

use crate::support::boot;

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
    for snap in snapshots("gantry-core/src/kinds/agent_queue/snapshots", "_template.snap") {
        let body = snapshot_body(&snap);
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_else(|e| panic!("{} is not JSON: {e}", snap.display()));
        let file = tmp.path().join(snap.file_name().unwrap()).with_extension("json");
        std::fs::write(&file, body).unwrap();
        files.push(file);
    }
    crate::support::cfn_lint(&files);
}

#[test]
fn bootstrap_scripts_pass_bash_n_and_shellcheck() {
    let mut scripts = snapshots("gantry-core/src/kinds/agent_queue/snapshots", "_user_data.snap");
    scripts.extend(snapshots("gantry-core/src/kinds/common/gcp/snapshots", "_startup.snap"));
    let tmp = tempfile::tempdir().unwrap();
    for snap in scripts {
        let file = tmp.path().join(snap.file_name().unwrap()).with_extension("sh");
        std::fs::write(&file, snapshot_body(&snap)).unwrap();
        let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(out.status.success(), "bash -n {}: {}", snap.display(), String::from_utf8_lossy(&out.stderr));
        let out = Command::new(crate::support::venv_tool("shellcheck"))
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
    let out = Command::new(crate::support::venv_tool("shellcheck")).arg("-x").args(&scripts).current_dir(root).output().expect("shellcheck");
    assert!(out.status.success(), "shellcheck:\n{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn systemd_environment_values_are_not_expanded() {
    // `$`, backticks and `%` in agent_env reach the agent literally.
    assert_eq!(gantry::kinds::agent_queue::template::systemd_quote(r#"a$HOME`id`"%q\"#), r#"a$HOME`id`\"%%q\\"#);
}

/// Every bootstrap the snapshots pin: each agent queue's user data (from
/// its template, on the image the template boots) and each Google Cloud
/// startup script.
fn snapshot_cases() -> Vec<boot::Case> {
    let mut out = Vec::new();
    for snap in snapshots("gantry-core/src/kinds/agent_queue/snapshots", "_template.snap") {
        let t: serde_json::Value = serde_json::from_str(&snapshot_body(&snap)).unwrap();
        let name = snap.file_name().unwrap().to_string_lossy().to_string();
        out.push(boot::queue_case(name, &t).unwrap_or_else(|| panic!("{}: no launch template with user data", snap.display())));
    }
    for (snap, profile) in [("_tpu_agent_startup.snap", &boot::profiles::TPU_VM_UBUNTU_2204), ("_gpu_runner_startup.snap", &boot::profiles::DLVM_UBUNTU_2204)] {
        for path in snapshots("gantry-core/src/kinds/common/gcp/snapshots", snap) {
            out.push(boot::node_case(path.file_name().unwrap().to_string_lossy().into(), snapshot_body(&path), profile, true));
        }
    }
    out
}

/// Every rendered bootstrap runs to the end on its image and its agent or
/// runner then runs one job: hooks as the agent's user, by the runner's
/// rules, and the one-job machines leave their group.
#[test]
fn every_generated_bootstrap_boots_its_image_and_runs_a_job() {
    let cases = snapshot_cases();
    assert!(cases.len() >= 5, "{}", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        if let Err(e) = boot::boot_and_run_one_job(c).and_then(|m| boot::check_lifecycle(c, &m)) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The harness catches what the issue found on real machines: each defect,
/// put back into a rendered script (or its world), fails where it would.
#[test]
fn the_harness_fails_each_known_machine_defect() {
    let cases = snapshot_cases();
    let case = |name: &str| cases.iter().find(|c| c.name.contains(name)).unwrap_or_else(|| panic!("no {name} case"));
    let broken = |c: &boot::Case, from: &str, to: &str| {
        assert!(c.script.contains(from), "{}: {from}", c.name);
        boot::Case { script: c.script.replace(from, to), name: c.name.clone(), profile: c.profile, world: c.world.clone() }
    };
    let fails_with = |c: &boot::Case, want: &str| match boot::boot_and_run_one_job(c) {
        Ok(_) => panic!("{}: the harness let a broken machine through ({want})", c.name),
        Err(e) => {
            assert!(e.contains(want), "{}: expected {want:?} in:\n{e}", c.name);
            eprintln!("caught: {}", e.lines().take(2).collect::<Vec<_>>().join(" | "));
        }
    };
    let runner = case("github_runner_queue_template");
    // Job hooks without an extension: actions/runner refuses to run them.
    fails_with(&broken(runner, "gantry-job-started.sh", "gantry-job-started"), "only .sh or .ps1");
    // The runner's own dependency script on Amazon Linux 2023 (no /etc/redhat-release).
    let al2023 = boot::Case { profile: &boot::profiles::AL2023, ..broken(runner, "if [ ! -e /etc/redhat-release ] && command -v dnf", "if false") };
    fails_with(&al2023, "/opt/actions-runner/bin/installdependencies.sh");
    // A Deep Learning AMI's instance store is busy: formatting it fails.
    let claimed = broken(runner, "if mountpoint -q /opt/dlami/nvme", "if false");
    fails_with(&broken(&claimed, "if [ -n \"$holders\" ] || grep -q \"^$dev \" /proc/mounts; then", "if false; then"), "Device or resource busy");
    // The TPU agent's data-disk build path left to root: every checkout fails.
    let tpu = case("tests__tpu_agent_startup");
    fails_with(&broken(tpu, "&& chown buildkite-agent: \"$BUILD_PATH\"", ""), "Permission denied");
    // Ubuntu's first-boot apt jobs hold dpkg's lock: apt must wait for it.
    fails_with(&broken(tpu, "echo 'DPkg::Lock::Timeout \"600\";' > /etc/apt/apt.conf.d/90gantry-dpkg-lock", ":"), "Could not get lock");
    // A GPU node with no route out cannot fetch the runner.
    let gpu = case("tests__gpu_runner_startup");
    fails_with(&boot::Case { world: boot::World { egress: false, ..gpu.world.clone() }, ..broken(gpu, "", "") }, "no route to the internet");
    // A plain Ubuntu image (no driver) for a GPU node: the bootstrap stops at the driver check.
    fails_with(&boot::Case { profile: &boot::profiles::UBUNTU_2204_GCE, ..broken(gpu, "", "") }, "no NVIDIA driver answered");

    // Build secrets, registry logins and setup on Google Cloud nodes.
    let agent = case("extras_tpu_agent_startup");
    // The agent configuration written whole without hooks-path: no hook runs (its default is "").
    fails_with(&broken(agent, "hooks-path=\"/etc/buildkite-agent/hooks\"", ""), "did not reach the job's environment");
    fails_with(&broken(agent, "export HF_TOKEN\n", ""), "HF_TOKEN did not reach the job's environment");
    fails_with(&broken(agent, ",HF_TOKEN", ""), "not in the agent's redacted-vars");
    // A secret that was never created stops the boot (no agent on a machine without its secrets).
    let no_secret = boot::World { gcp_secrets: agent.world.gcp_secrets.iter().filter(|(n, _)| n != "hf-token").cloned().collect(), ..agent.world.clone() };
    fails_with(&boot::Case { world: no_secret, ..broken(agent, "", "") }, "NOT_FOUND: Secret [hf-token]");
    // The metadata server answers only requests that say Metadata-Flavor: Google.
    fails_with(&broken(agent, "curl -fsS -H 'Metadata-Flavor: Google' \\\n", "curl -fsS \\\n"), "no login for us-docker.pkg.dev");
    fails_with(&broken(agent, "touch /var/lib/gantry/setup-ran", "false"), "the setup block failed");
    let runner = case("extras_gpu_runner_startup");
    fails_with(&broken(runner, "echo \"::add-mask::$line\"", "true"), "unmasked");
    fails_with(
        &broken(
            runner,
            "ACTIONS_RUNNER_HOOK_JOB_STARTED=/usr/local/bin/gantry-secrets-job-started.sh",
            "ACTIONS_RUNNER_HOOK_JOB_STARTED=/usr/local/bin/gantry-secrets-job-started",
        ),
        "not an absolute .sh path",
    );
    fails_with(&broken(runner, "for who in root runner; do", "for who in root; do"), "no Docker login for us-central1-docker.pkg.dev");
}

/// Every image profile says where each of its facts comes from.
#[test]
fn image_profiles_cite_their_sources() {
    use boot::profiles::*;
    for p in [&AL2023, &DLAMI_AL2023, &UBUNTU_2204_GCE, &DLVM_UBUNTU_2204, &TPU_VM_UBUNTU_2204] {
        assert!(!p.sources.is_empty() && p.sources.iter().all(|s| s.len() > 20), "{}", p.name);
    }
}
