//! What a plan reads: the kinds the stack uses, fully; of every other kind,
//! only whether the stack still owns something (a removed last block), in
//! a bounded number of calls — the Resource Groups Tagging API's
//! GetResources per region for tagged regional kinds, IAM by the stack's
//! role path and the provider list — and then, if it does, that kind too,
//! so its deletion is planned without `--all-kinds`.

use crate::support::{calls, gantry, stack_dir, Moto};

const HEADER: &str = "stack \"scope\" {\n  aws { region = \"us-west-2\" }\n}\n\n";

fn services(stderr: &str) -> Vec<String> {
    assert!(stderr.contains("API calls:"), "no stats: {stderr}");
    crate::support::per_service(stderr).into_iter().map(|(s, _)| s).collect()
}

fn total(stderr: &str) -> u64 {
    let line = stderr.lines().find(|l| l.starts_with("API calls:")).unwrap_or_default();
    line.trim_start_matches("API calls: ").split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[test]
fn a_removed_last_block_is_found_in_a_bounded_number_of_calls() {
    // Behind the realism proxy: moto's tagging API lists no ECR repository; the proxy does, as AWS does.
    let moto = Moto::start();
    let env = moto.env();
    let stack = format!(
        "{HEADER}ecr_repository \"cache\" {{}}\n\nagent_queue \"cpu\" {{\n  instance_types        = [\"c7i.large\"]\n  max_size              = 1\n  image_id              = \"ami-12c6146b\"\n  agent_token_parameter = \"/bk/token\"\n}}\n"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(crate::support::put_token(&moto, "us-west-2", "/bk/token"));
    let dir = stack_dir(&[("main.gantry.hcl", &stack)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // A no-op plan of the ECR-only part: what discovery of the other kinds costs.
    std::fs::write(dir.path().join("main.gantry.hcl"), format!("{HEADER}ecr_repository \"cache\" {{}}\n")).unwrap();
    let r = gantry(&["plan", d, "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // The queue was found (its block is gone) and is planned for deletion.
    assert!(r.stdout.contains("0 to add, 0 to change, 1 to destroy") && r.stdout.contains("agent_queue.cpu"), "{}", r.all());
    let tagging = calls(&r.stderr, "Resource Groups Tagging API");
    assert_eq!(tagging, 1, "one GetResources for the one region: {}", r.all());

    // With nothing else owned: the no-op plan and its added calls.
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let read = calls(&r.stderr, "ECR") + calls(&r.stderr, "STS");
    // Every throttled request is retried (and counted) once more.
    let throttled = moto.fired().get("throttle").copied().unwrap_or(0);
    let added = (total(&r.stderr) - read).saturating_sub(throttled);
    assert_eq!(services(&r.stderr), ["ECR", "ECR PUBLIC", "IAM", "Resource Groups Tagging API", "STS"], "{}", r.all());
    assert!(
        added <= 4,
        "discovery adds at most: 1 GetResources per region (queues, buckets), 1 ListRoles (the stack's role path), 1 ListOpenIDConnectProviders, \
         1 DescribeRepositories of the public registry (the tagging API does not list ECR Public): {}",
        r.all()
    );
    eprintln!("no-op plan: {} calls, of which discovery of unused kinds {added}", total(&r.stderr));

    // The last repository block goes, an OIDC provider comes: the repository
    // is found by its tags and its deletion planned.
    std::fs::write(dir.path().join("main.gantry.hcl"), format!("{HEADER}github_oidc_provider \"github\" {{}}\n")).unwrap();
    let r = gantry(&["plan", d, "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 to add, 0 to change, 1 to destroy") && r.stdout.contains("ecr_repository.cache"), "{}", r.all());
    // Destroy with no block left of either kind still finds it.
    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 destroyed"), "{}", r.all());
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "nothing left: {}", r.all());
}
