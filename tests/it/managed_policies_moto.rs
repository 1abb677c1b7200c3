//! Managed policies judged by their documents at plan time (moto serves the
//! AWS managed policies, as every account has them): one whose name looks
//! harmless but grants iam:PassRole on every role is refused, a waiver with
//! a reason lets it through, a read-only one passes, an ARN that names no
//! policy is an error, and documents are cached by version (a second plan
//! reads no document again).

use crate::support::{gantry, stack_dir, Moto};

fn stack(arns: &[&str], waive: bool) -> String {
    let list = arns.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    let waiver = if waive { "  waive \"GANTRY-POLICY-006\" {\n    reason = \"EMR needs to pass its service role\"\n  }\n" } else { "" };
    format!(
        "stack \"managed\" {{\n  aws {{ region = \"us-west-2\" }}\n}}\n\ngithub_oidc_provider \"github\" {{}}\n\nci_role \"emr\" {{\n  provider = github_oidc_provider.github\n  allow {{\n    repo     = \"acme/mlops\"\n    branches = [\"main\"]\n  }}\n  managed_policy_arns = [{list}]\n{waiver}}}\n"
    )
}

fn get_policy_versions(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.trim_start().starts_with("IAM GetPolicyVersion:")).map(|l| l.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0)).sum()
}

#[test]
fn managed_policies_are_judged_by_their_documents() {
    let moto = Moto::start();
    let cache = tempfile::tempdir().unwrap();
    let mut env = moto.env();
    env.push(("XDG_CACHE_HOME", cache.path().to_str().unwrap().to_string()));
    let emr = "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole";
    let read_only = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    let dir = stack_dir(&[("main.gantry.hcl", &stack(&[emr, read_only], false))]);
    let d = dir.path().to_str().unwrap();
    // By name it passes validate (offline)...
    let r = gantry(&["validate", d], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // ...by its document the plan refuses it.
    let r = gantry(&["plan", d, "-v"], &env, dir.path());
    assert_eq!(r.code, 3, "a security finding, as at validate: {}", r.all());
    assert!(r.stderr.contains("GANTRY-POLICY-006") && r.stderr.contains("AmazonElasticMapReduceRole") && r.stderr.contains("iam:PassRole"), "{}", r.all());
    assert!(!r.stderr.contains("AmazonEC2ContainerRegistryReadOnly: its document"), "read-only passes: {}", r.all());
    // Each document read (a throttled request is retried, and counted, once more).
    assert!(get_policy_versions(&r.stderr) >= 2, "{}", r.all());
    // Cached by version: the next plan reads none again.
    std::fs::write(dir.path().join("main.gantry.hcl"), stack(&[emr, read_only], true)).unwrap();
    let r = gantry(&["plan", d, "-v"], &env, dir.path());
    assert_eq!(r.code, 0, "waived with a reason: {}", r.all());
    assert_eq!(get_policy_versions(&r.stderr), 0, "{}", r.all());
    // A policy that does not exist is named before apply fails on it.
    std::fs::write(dir.path().join("main.gantry.hcl"), stack(&["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"], false)).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("no managed policy arn:aws:iam::aws:policy/NoSuchPolicyAnywhere exists"), "{}", r.all());
}
