//! CLI snapshot tests: text and JSON output and exit codes, through the real
//! binary. Snapshots live in tests/it/snapshots (review changes with care: they
//! are the user interface).

use crate::support::{gantry, stack_dir, Moto};

const STACK: &str = r#"stack "snap" {
  aws { region = "us-west-2" }
}

ecr_repository "cache" {
  lifecycle_policy {
    expire_untagged_after_days = 14
  }
  tags = { team = "ci" }
}
"#;

/// Replaces the temp dir path so snapshots are stable.
fn scrub(s: &str, dir: &std::path::Path) -> String {
    s.replace(dir.to_str().unwrap(), "<DIR>")
}

#[test]
fn validate_text_and_json() {
    let dir = stack_dir(&[(
        "main.gantry.hcl",
        "stack \"snap\" {\n  aws { region = \"us-west-2\" }\n}\n\necr_repository \"cache\" {\n  scan_on_psh = true\n  tags = { a = ecr_repository.cahce.arn }\n}\n",
    )]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("validate_errors", scrub(&r.stderr, dir.path()));
    let r = gantry(&["validate", ".", "--json"], &[], dir.path());
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    insta::assert_json_snapshot!("validate_json", v);

    let ok = stack_dir(&[("main.gantry.hcl", STACK)]);
    let r = gantry(&["validate", "."], &[], ok.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "Success! stack \"snap\" is valid: 1 resource(s).\n");
}

#[test]
fn plan_text_json_and_exit_codes() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let r = gantry(&["plan", "."], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("plan_create_text", r.stdout);
    let r = gantry(&["plan", ".", "--json", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_json_snapshot!("plan_create_json", serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap());

    // Non-interactive apply without --auto-approve is refused, and changes nothing.
    let r = gantry(&["apply", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("stdin is not a terminal"), "{}", r.all());
    let r = gantry(&["plan", ".", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "nothing was applied: {}", r.all());

    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("apply_text", r.stdout.lines().filter(|l| !l.contains("complete after")).collect::<Vec<_>>().join("\n"));

    std::fs::write(dir.path().join("main.gantry.hcl"), STACK.replace("team = \"ci\"", "team = \"ml\"").replace("14", "7")).unwrap();
    let r = gantry(&["plan", "."], &env, dir.path());
    insta::assert_snapshot!("plan_update_text", r.stdout);
}

#[test]
fn lock_held_is_reported_with_the_way_out() {
    let moto = Moto::start();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let guard = gantry::engine::lock::acquire(dir.path(), "apply").unwrap();
    let id = guard.info.id.clone();
    std::mem::forget(guard);
    let r = gantry(&["apply", ".", "--auto-approve"], &moto.env(), dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("the stack is locked by"), "{}", r.all());
    assert!(r.stderr.contains(&id), "{}", r.all());
    assert!(r.stderr.contains("gantry force-unlock"), "{}", r.all());
    let r = gantry(&["force-unlock", &id, "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["apply", ".", "--auto-approve"], &moto.env(), dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn unreachable_endpoint_and_missing_credentials_are_one_clear_message() {
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let mut env = crate::support::unreachable_aws_env();
    env.push(("AWS_MAX_ATTEMPTS", "1".to_string()));
    let endpoint = env[0].1.clone();
    let r = gantry(&["plan", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.starts_with("Error: sts GetCallerIdentity:"), "{}", r.all());
    assert!(r.stderr.contains("check the endpoint (AWS_ENDPOINT_URL)"), "{}", r.all());
    assert!(!r.stderr.contains("panicked"), "{}", r.all());

    let home = tempfile::tempdir().unwrap();
    let env = vec![
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("HOME", home.path().to_str().unwrap().to_string()),
        ("AWS_CONFIG_FILE", home.path().join("none").to_str().unwrap().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none").to_str().unwrap().to_string()),
    ];
    let r = gantry(&["plan", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("configure AWS credentials"), "{}", r.all());
}

#[test]
fn fmt_check_and_rewrite() {
    let messy = "stack \"f\" {\naws { region = \"us-west-2\" }\n}\necr_repository \"a\" {\n    scan_on_push=true\n  image_tag_mutability = \"MUTABLE\"\n}\n";
    let dir = stack_dir(&[("main.gantry.hcl", messy)]);
    let r = gantry(&["fmt", "--check", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("main.gantry.hcl"));
    let r = gantry(&["fmt", "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let text = std::fs::read_to_string(dir.path().join("main.gantry.hcl")).unwrap();
    assert!(text.contains("  scan_on_push         = true\n  image_tag_mutability = \"MUTABLE\"\n"), "{text}");
    let r = gantry(&["fmt", "--check", "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn help_documents_exit_codes() {
    let r = gantry(&["--help"], &[], std::path::Path::new("."));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Exit codes:"));
    assert!(r.stdout.contains("3  plan refused by a security rule"));
}

#[test]
fn kind_reference_is_generated_from_the_schemas() {
    let want = gantry::cli::docs::render(&gantry::ops::language());
    let have = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/kinds.md")).unwrap();
    assert!(have == want, "docs/kinds.md is out of date: run `cargo run -- docs > docs/kinds.md`");
}

/// docs/ci.md's roles trust exactly the subjects the shipped workflow's jobs
/// present: the apply job names an environment, so its role must allow that
/// environment (a branch rule would never match it).
#[test]
fn ci_docs_roles_match_the_workflow_identity() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflow = std::fs::read_to_string(root.join(".github/workflows/gantry.yml")).unwrap();
    let apply_job = &workflow[workflow.find("\n  apply:").expect("an apply job")..];
    let env_line = apply_job.lines().find_map(|l| l.trim().strip_prefix("environment:")).map(str::trim).expect("the apply job names an environment");
    // The environment is chosen by the plan: production-iam (reviewers required) when it widens access.
    assert_eq!(env_line, "${{ needs.plan.outputs.broadening == 'true' && 'production-iam' || 'production' }}", "{workflow}");
    let docs = std::fs::read_to_string(root.join("docs/ci.md")).unwrap();
    let hcl = docs.split("```hcl\n").nth(1).and_then(|b| b.split("```").next()).expect("an hcl block in docs/ci.md");
    assert!(hcl.contains("environments = [\"production\", \"production-iam\"]"), "the apply role must allow both environments:\n{hcl}");
    assert!(hcl.contains("pull_request = true\n    branches     = [\"main\"]"), "the plan role must allow the push-to-main plan:\n{hcl}");
    for sub in ["environment:production`", "environment:production-iam`", "ref:refs/heads/main`", "pull_request`"] {
        assert!(docs.contains(&format!("repo:OWNER/NAME:{sub}")), "docs state the subject {sub}");
    }
    // --allow-broadening is passed only in the branch the approval gate guards.
    let step = &apply_job[apply_job.find("apply the reviewed plan").expect("the apply step")..];
    let gated = &step[step.find("if [ \"$BROADENING\" = true ]; then").expect("a broadening branch")..step.find("else").expect("else")];
    assert_eq!(workflow.matches("--allow-broadening").count(), 2, "once in the header comment, once in the gated branch: {workflow}");
    assert!(gated.contains("gantry apply gantry.plan --allow-broadening"), "{step}");
    assert!(workflow.contains("broadening: ${{ steps.plan.outputs.broadening }}") && workflow.contains("jq -e '.broadening | length > 0' plan.json"));
    // The documented blocks are valid gantry.
    let stack = format!(
        "stack \"ci\" {{\n  aws {{\n    region = \"us-west-2\"\n  }}\n}}\n\ngithub_oidc_provider \"github\" {{}}\n\n{}",
        hcl.replace("OWNER/NAME", "acme/infra")
    );
    // With the shipped least-privilege policies, which pass gantry's own lint.
    let policy = |name: &str| std::fs::read_to_string(root.join("policies").join(name)).unwrap().replace("LOCK-BUCKET", "acme-gantry-locks");
    let (plan, apply) = (policy("gantry-plan.json"), policy("gantry-apply.json"));
    let dir = stack_dir(&[("main.gantry.hcl", &stack), ("policies/gantry-plan.json", &plan), ("policies/gantry-apply.json", &apply)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // Both jobs install the released gantry (checksum-verified) instead of compiling it.
    assert_eq!(workflow.matches("./scripts/install.sh --version").count(), 2, "{workflow}");
    assert!(!workflow.contains("cargo build"), "{workflow}");
}

/// `gantry docs | head -1`: a reader that goes away early is no crash;
/// gantry finishes its work and exits as it would have.
#[test]
fn a_closed_stdout_is_no_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry")).arg("docs").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// `gantry validate . 2>&-` in a script that closed stderr: the problems
/// cannot be shown, but the exit code still says what happened (1, not a
/// panic's 101).
#[test]
fn a_closed_stderr_is_no_panic() {
    let dir = crate::support::stack_dir(&[("main.gantry.hcl", "stack \"s\" {\n  aws { region = \"us-west-2\" }\n}\necr_repository \"r\" {\n  bogus = 1\n}\n")]);
    let script = format!("'{}' validate . 2>&-; echo \"exit $?\"", env!("CARGO_BIN_EXE_gantry"));
    let out = std::process::Command::new("sh").arg("-c").arg(&script).current_dir(dir.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "exit 1");
}
