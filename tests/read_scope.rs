//! A plan reads only the kinds the stack uses (so a plan role needs no
//! permission for the others); `--all-kinds` reads every kind, which is how
//! a stack finds what it still owns of a kind whose last block was removed.

mod support;

use support::{gantry, stack_dir, Moto};

const HEADER: &str = "stack \"scope\" {\n  aws { region = \"us-west-2\" }\n}\n\n";

fn services(stderr: &str) -> Vec<String> {
    let line = stderr.lines().find(|l| l.starts_with("API calls:")).unwrap_or_else(|| panic!("no stats: {stderr}"));
    let inner = line.split_once('(').and_then(|(_, r)| r.split_once(')')).map(|(i, _)| i).unwrap_or_default();
    inner.split(", ").filter_map(|p| p.split_once('=')).map(|(s, _)| s.to_string()).collect()
}

#[test]
fn a_plan_reads_only_the_kinds_in_the_stack() {
    let moto = Moto::start_plain();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", &format!("{HEADER}ecr_repository \"cache\" {{}}\n"))]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(services(&r.stderr), ["ECR", "STS"], "an ECR-only stack calls ECR (and STS for the account): {}", r.all());

    // The last repository block goes, an OIDC provider comes: ECR is not
    // read, so the repository is neither seen nor deleted...
    std::fs::write(dir.path().join("main.gantry.hcl"), format!("{HEADER}github_oidc_provider \"github\" {{}}\n")).unwrap();
    let r = gantry(&["plan", d, "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(services(&r.stderr), ["IAM", "STS"], "{}", r.all());
    assert!(r.stdout.contains("1 to add, 0 to change, 0 to destroy"), "{}", r.all());
    // ...until --all-kinds reads every kind and finds it.
    let r = gantry(&["plan", d, "--all-kinds", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 to add, 0 to change, 1 to destroy") && r.stdout.contains("ecr_repository.cache"), "{}", r.all());
    assert!(services(&r.stderr).contains(&"CloudFormation".to_string()), "{}", r.all());
}
