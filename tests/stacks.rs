//! Every stack shipped in stacks/ validates without waivers and goes through
//! plan → apply → empty re-plan → destroy → empty on the emulator.

#[path = "support/boot/mod.rs"]
mod boot;
mod support;

use std::path::PathBuf;
use support::{gantry, put_token, Moto};

fn stacks() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stacks");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 7, "expected the demo, the five seed stacks and the shared OIDC provider in {}", root.display());
    dirs
}

#[test]
fn shipped_stacks_validate_without_waivers() {
    for dir in stacks() {
        let d = dir.to_str().unwrap();
        // No scaler built or installed: validate needs none.
        let r = gantry(&["validate", d], &[("GANTRY_SCALER_DIR", "/nonexistent".to_string())], &dir);
        assert_eq!(r.code, 0, "{d}: {}", r.all());
        assert!(!r.stderr.contains("waived"), "{d} must pass the lint without waivers: {}", r.all());
        let fmt = gantry(&["fmt", "--check", d], &[], &dir);
        assert_eq!(fmt.code, 0, "{d} is not formatted (run gantry fmt): {}", fmt.all());
    }
}

/// Every queue template the stack's plan would deploy passes cfn-lint, and
/// every bootstrap it would put on a machine boots that machine's image and
/// runs a first job (the boot harness, tests/support/boot).
fn check_generated(d: &str, env: &[(&'static str, String)], dir: &std::path::Path) {
    let r = gantry(&["plan", d, "--json"], env, dir);
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{d}: plan --json: {e}: {}", r.all()));
    let stack = dir.file_name().unwrap().to_string_lossy().to_string();
    for c in boot::cases_from_plan(&stack, &plan) {
        if let Err(e) = boot::boot_and_run_one_job(&c).and_then(|m| boot::check_lifecycle(&c, &m)) {
            panic!("{e}");
        }
        eprintln!("booted {} on {} and ran one job", c.name, c.profile.name);
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for c in plan["changes"].as_array().into_iter().flatten().filter(|c| c["kind"] == "agent_queue") {
        let template = c["attributes"].as_array().into_iter().flatten().find(|a| a["name"] == "template").map(|a| a["after"].clone());
        let template = template.unwrap_or_else(|| panic!("{d}: no template in the plan of {}", c["address"]));
        let file = tmp.path().join(format!("{}.json", files.len()));
        std::fs::write(&file, template.to_string()).unwrap();
        files.push(file);
    }
    if !files.is_empty() {
        support::cfn_lint(&files);
    }
}

#[test]
fn shipped_stacks_apply_and_destroy_cleanly() {
    for dir in stacks() {
        let moto = Moto::start();
        let mut env = moto.env();
        let gcp_rt = tokio::runtime::Runtime::new().unwrap();
        let gcp = gcp_rt.block_on(gantry_emulators::gcp::FakeGcp::start(0)).unwrap();
        env.push(("GANTRY_GCP_ENDPOINT", gcp.endpoint()));
        // Agent tokens and GitHub App credentials are created outside gantry (they are secrets).
        let rt = tokio::runtime::Runtime::new().unwrap();
        for (region, name) in [
            ("us-west-2", "/bk_agent_token_cluster_ci"),
            ("us-east-1", "/bk_agent_token_cluster_ci"),
            ("us-east-1", "/openllm/ci/github-app/app_id"),
            ("us-east-1", "/openllm/ci/github-app/installation_id"),
            ("us-east-1", "/openllm/ci/github-app/private_key"),
            ("us-east-1", "/openllm/ci/github-app/webhook_secret"),
            ("us-west-2", "/vllm-ci/hf-token"),
        ] {
            rt.block_on(put_token(&moto, region, name));
        }
        let d = dir.to_str().unwrap();
        // The account's OIDC provider is another stack's: apply it first where it is looked up.
        let shared = dir.parent().unwrap().join("github-oidc");
        let looks_up = dir != shared && std::fs::read_to_string(dir.join("main.gantry.hcl")).unwrap_or_default().contains("data \"github_oidc_provider\"");
        if looks_up {
            let r = gantry(&["apply", shared.to_str().unwrap(), "--auto-approve"], &env, &dir);
            assert_eq!(r.code, 0, "{}: {}", shared.display(), r.all());
        }
        check_generated(d, &env, &dir);
        let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening", "--parallelism", "16"], &env, &dir);
        assert_eq!(r.code, 0, "{d}: {}", r.all());
        let has_queues = std::fs::read_dir(&dir).unwrap().any(|f| std::fs::read_to_string(f.unwrap().path()).unwrap_or_default().contains("agent_queue \""));
        if has_queues {
            // No zip named anywhere: the queues deploy the bundled scaler, and the plan says so.
            assert!(r.stdout.contains("scaler code: bundled scaler"), "{d}: {}", r.all());
            // The machines' user data and how close it is to EC2's 16 KB.
            assert!(r.stdout.contains("user data: ") && r.stdout.contains(" of 16384 bytes"), "{d}: {}", r.all());
        }
        let r = gantry(&["plan", d, "--detailed-exitcode"], &env, &dir);
        assert_eq!(r.code, 0, "{d} re-plan must be empty: {}", r.all());
        // A second apply right after has nothing to do.
        let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, &dir);
        assert_eq!(r.code, 0, "{d}: {}", r.all());
        assert!(r.stdout.contains("No changes"), "{d}: a second apply changes nothing: {}", r.all());
        let r = gantry(&["destroy", d, "--auto-approve", "--parallelism", "16"], &env, &dir);
        assert_eq!(r.code, 0, "{d}: {}", r.all());
        let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, &dir);
        assert_eq!(r.code, 0, "{d} nothing may remain: {}", r.all());
        if looks_up {
            let r = gantry(&["plan", shared.to_str().unwrap(), "--detailed-exitcode"], &env, &dir);
            assert_eq!(r.code, 0, "{d}: the looked-up provider is left as it was: {}", r.all());
        }
    }
}
