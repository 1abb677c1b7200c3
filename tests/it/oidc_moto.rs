//! GitHub OIDC trust end to end on moto: provider + role + policy files,
//! broadening review, empty re-plans, destroy; and the security lint.

use crate::support::{gantry, iam_client, stack_dir, Moto};

const PUSH_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
    {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"],
     "Resource": "${ecr_repository.cache.arn}"}
  ]
}
"#;

const STACK: &str = r#"stack "oidc" {
  aws { region = "us-west-2" }
}

ecr_repository "cache" {}

github_oidc_provider "github" {}

ci_role "push" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
    tags     = ["v*"]
  }
  policy_files         = ["../policies/push.json"]
  max_session_duration = "2h"
}
"#;

fn files(stack: &str) -> tempfile::TempDir {
    stack_dir(&[("stack/main.gantry.hcl", stack), ("policies/push.json", PUSH_POLICY)])
}

#[test]
fn oidc_role_lifecycle_with_broadening_review() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = files(STACK);
    let d = dir.path().join("stack");
    let d = d.to_str().unwrap();

    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("Broadening"), "{}", r.all());
    assert!(r.stdout.contains("may now be assumed by repo:acme/mlops:ref:refs/heads/main, repo:acme/mlops:ref:refs/tags/v*"), "{}", r.all());

    // Without --allow-broadening, CI cannot apply it: exit 3, nothing changed.
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 3, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());

    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // IAM returns the trust document URL-encoded; the re-plan must still be empty.
    let r = gantry(&["plan", d, "--detailed-exitcode", "--stats"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // Provider list+get, roles list, role get + policies.
    crate::support::assert_calls(&moto, &r.stderr, "IAM", 7);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (trust, path, session) = rt.block_on(async {
        let iam = iam_client(&moto).await;
        let role = iam.get_role().role_name("push").send().await.unwrap().role.unwrap();
        (role.assume_role_policy_document().unwrap().to_string(), role.path().to_string(), role.max_session_duration())
    });
    let trust = gantry::policy::parse_document(&trust).unwrap();
    assert_eq!(path, "/gantry/oidc/");
    assert_eq!(session, Some(7200));
    assert_eq!(trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");

    // Widen: a new branch and a new action are called out.
    let wider = STACK.replace("branches = [\"main\"]", "branches = [\"main\", \"develop\"]");
    std::fs::write(dir.path().join("stack/main.gantry.hcl"), &wider).unwrap();
    std::fs::write(dir.path().join("policies/push.json"), PUSH_POLICY.replace("\"ecr:PutImage\",", "\"ecr:PutImage\", \"ecr:BatchDeleteImage\",")).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", r.all());
    assert!(r.stdout.contains("+ may now be assumed by repo:acme/mlops:ref:refs/heads/develop"), "{}", r.all());
    assert!(r.stdout.contains("+ may now ecr:batchdeleteimage on arn:aws:ecr:us-west-2:123456789012:repository/cache"), "{}", r.all());
    assert!(r.stdout.contains("~ trust_policy"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // Thumbprints are updated in place.
    let thumb = wider
        .replace("github_oidc_provider \"github\" {}", "github_oidc_provider \"github\" {\n  thumbprints = [\"6938fd4d98bab03faadb97b34396831e3780aea1\"]\n}");
    std::fs::write(dir.path().join("stack/main.gantry.hcl"), &thumb).unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // IAM computed a thumbprint when none was given (the realism proxy does too).
    assert_eq!(moto.fired().get("thumbprint"), Some(&1), "the provider was created without a thumbprint");
    // The computed thumbprint goes, the given one comes: one marker per element.
    assert!(
        r.stdout.contains("~ thumbprints = [\n          - \"")
            && r.stdout.contains("\",\n          + \"6938fd4d98bab03faadb97b34396831e3780aea1\",\n        ]"),
        "{}",
        r.all()
    );
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // Narrowing needs no extra confirmation (the thumbprint stays: IAM cannot clear the list).
    std::fs::write(dir.path().join("stack/main.gantry.hcl"), thumb.replace("branches = [\"main\", \"develop\"]", "branches = [\"main\"]")).unwrap();
    std::fs::write(dir.path().join("policies/push.json"), PUSH_POLICY).unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("Broadening"), "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("3 destroyed"), "{}", r.all());
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn security_lint_refuses_with_rule_ids_and_honours_waivers() {
    let risky = r#"stack "lint" {
  aws { region = "us-west-2" }
}
github_oidc_provider "github" {}
ci_role "wide" {
  trust_policy_file = "trust.json"
  policy_files      = ["admin.json"]
}
"#;
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}}]}
"#;
    let admin = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
  {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
]}
"#;
    let dir = stack_dir(&[("main.gantry.hcl", risky), ("trust.json", trust), ("admin.json", admin)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 3, "{}", r.all());
    for id in ["GANTRY-TRUST-001", "GANTRY-TRUST-003", "GANTRY-POLICY-002", "GANTRY-POLICY-003"] {
        assert!(r.stderr.contains(&format!("error[{id}]")), "{id} missing:\n{}", r.all());
    }
    assert!(r.stderr.contains("admin.json:2:"), "points into the policy file: {}", r.all());
    assert!(r.stderr.contains("fix: "), "{}", r.all());

    // Waive two, fix the trust: validate passes and the plan lists the waivers.
    let waived = risky.replace(
        "  policy_files      = [\"admin.json\"]\n",
        "  policy_files      = [\"admin.json\"]\n  waive \"GANTRY-POLICY-002\" {\n    reason = \"artifact bucket is per-account\"\n  }\n  waive \"GANTRY-POLICY-003\" {\n    reason = \"ticket SEC-12\"\n  }\n",
    );
    let fixed_trust = trust.replace(
        "{\"StringLike\": {\"token.actions.githubusercontent.com:sub\": \"repo:acme/*\"}}",
        "{\"StringEquals\": {\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\"}, \"StringLike\": {\"token.actions.githubusercontent.com:sub\": \"repo:acme/mlops:ref:refs/heads/main\"}}",
    );
    std::fs::write(dir.path().join("main.gantry.hcl"), &waived).unwrap();
    std::fs::write(dir.path().join("trust.json"), &fixed_trust).unwrap();
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("warning[GANTRY-POLICY-002]"), "{}", r.all());
    let moto = Moto::start();
    let r = gantry(&["plan", "."], &moto.env(), dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("ci_role.wide: GANTRY-POLICY-003 waived: ticket SEC-12"), "{}", r.all());

    // A waiver needs a reason.
    std::fs::write(dir.path().join("main.gantry.hcl"), waived.replace("reason = \"ticket SEC-12\"", "reason = \"\"")).unwrap();
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("waiver for GANTRY-POLICY-003 needs a reason"), "{}", r.all());
}

#[test]
fn bad_policy_input_is_a_clear_diagnostic() {
    let stack = r#"stack "bad" {
  aws { region = "us-west-2" }
}
github_oidc_provider "github" {}
ci_role "one" {
  provider = github_oidc_provider.github
  allow {
    repo = "not-a-repo"
  }
  policy_files = ["broken.json", "typo.json", "ref.json"]
}
ci_role "two" {
  name     = "dup"
  provider = github_oidc_provider.github
  allow {
    repo = "acme/x"
  }
}
ci_role "three" {
  name     = "dup"
  provider = github_oidc_provider.github
  allow {
    repo = "acme/y"
  }
}
"#;
    let dir = stack_dir(&[
        ("main.gantry.hcl", stack),
        ("broken.json", "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n"),
        ("typo.json", "{\"Version\": \"2012-10-17\", \"Statment\": []}\n"),
        ("ref.json", "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"${ecr_repository.nope.arn}\"}]}\n"),
    ]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    let e = &r.stderr;
    assert!(e.contains("unknown resource ecr_repository.nope") && e.contains("ref.json:1:"), "{}", r.all());
    assert!(e.contains("repo \"not-a-repo\" must look like OWNER/NAME"), "{}", r.all());
    assert!(e.contains("ci_role.two and ci_role.three would both manage the ci_role named \"dup\""), "{}", r.all());
    assert!(e.contains("typo.json: unknown field \"Statment\""), "{}", r.all());
    assert!(e.contains("is not valid JSON") && e.contains("broken.json:3:"), "{}", r.all());
}
