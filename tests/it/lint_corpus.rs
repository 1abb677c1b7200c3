//! The insecure-policy corpus (tests/data/lint_corpus.json): trust and
//! permission variants an attacker or a hurried author would write, each
//! refused with the rule id it must carry — by the library and by
//! `gantry validate` (exit 3) — and safe variants that must stay quiet.

use crate::support::{gantry, stack_dir};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Case {
    name: String,
    kind: String,
    /// The rule that must refuse it; none for a safe variant.
    expect: Option<String>,
    #[serde(default)]
    document: Value,
    #[serde(default)]
    arns: Vec<String>,
}

fn corpus() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lint_corpus.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn rules(case: &Case) -> Vec<&'static str> {
    let found = match case.kind.as_str() {
        "trust" => gantry::lint::lint_trust(&case.document, "trust_policy_file", None),
        "permissions" => gantry::lint::lint_permissions(&case.document, "policy_files", None),
        "managed" => gantry::lint::lint_managed(&case.arns.iter().map(String::as_str).collect::<Vec<_>>(), "managed_policy_arns"),
        "repository" => gantry::lint::lint_repository_policy(&case.document, "repository_policy_file"),
        "bucket" => gantry::lint::lint_bucket_policy(&case.document, "policy_file"),
        "untrusted" => gantry::lint::lint_untrusted(&gantry::lint::UntrustedQueue {
            policies: vec![("p.json", &case.document)],
            secrets: vec![],
            terminate_after_job: true,
            managed_policy_arns: vec![],
        }),
        other => panic!("{}: unknown kind {other}", case.name),
    };
    found.iter().map(|f| f.rule).collect()
}

#[test]
fn every_insecure_variant_is_refused_with_its_rule_and_safe_ones_pass() {
    let cases = corpus();
    let insecure: Vec<&Case> = cases.iter().filter(|c| c.expect.is_some()).collect();
    assert!(insecure.len() >= 60, "the corpus holds at least 60 insecure variants ({})", insecure.len());
    let mut missed = Vec::new();
    for c in &cases {
        let got = rules(c);
        match &c.expect {
            Some(id) if !got.contains(&id.as_str()) => missed.push(format!("{}: expected {id}, got {got:?}", c.name)),
            None if !got.is_empty() => missed.push(format!("{} (safe): got {got:?}", c.name)),
            _ => {}
        }
    }
    eprintln!("insecure variants refused: {}/{}", insecure.len() - missed.iter().filter(|m| !m.contains("(safe)")).count(), insecure.len());
    // By class (the rule's family: TRUST, POLICY, REPO, BUCKET, QUEUE).
    let mut by_class: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for c in &insecure {
        let id = c.expect.as_deref().unwrap_or_default();
        let class = id.split('-').nth(1).unwrap_or(id);
        let e = by_class.entry(class).or_default();
        e.1 += 1;
        e.0 += usize::from(rules(c).contains(&id));
    }
    for (class, (refused, total)) in &by_class {
        eprintln!("  {class}: {refused}/{total} refused");
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

/// Each variant in its own ci_role (its own file, so a diagnostic's
/// location says which): `gantry validate --json` exits 3 and reports the
/// expected rule for every insecure block and nothing for the safe ones.
#[test]
fn validate_refuses_the_corpus_through_the_cli() {
    let cases = corpus();
    let safe_trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/mlops:ref:refs/heads/main"}}}]}"#;
    let mut files: Vec<(String, String)> =
        vec![("main.gantry.hcl".into(), "stack \"corpus\" {\n  aws { region = \"us-west-2\" }\n}\n".into()), ("safe-trust.json".into(), safe_trust.into())];
    for (i, c) in cases.iter().enumerate() {
        let doc = serde_json::to_string_pretty(&c.document).unwrap();
        let body = match c.kind.as_str() {
            "trust" => {
                files.push((format!("t{i}.json"), doc));
                format!("  trust_policy_file = \"t{i}.json\"\n")
            }
            "permissions" => {
                files.push((format!("p{i}.json"), doc));
                format!("  trust_policy_file = \"safe-trust.json\"\n  policy_files = [\"p{i}.json\"]\n")
            }
            "repository" => {
                files.push((format!("p{i}.json"), doc));
                files.push((format!("case{i}.gantry.hcl"), format!("ecr_repository \"case{i}\" {{\n  repository_policy_file = \"p{i}.json\"\n}}\n")));
                continue;
            }
            "bucket" => {
                files.push((format!("p{i}.json"), doc));
                files.push((
                    format!("case{i}.gantry.hcl"),
                    format!("s3_bucket \"case{i}\" {{\n  name = \"corpus-case-{i}\"\n  policy_file = \"p{i}.json\"\n}}\n"),
                ));
                continue;
            }
            "untrusted" => {
                files.push((format!("p{i}.json"), doc));
                let queue = format!(
                    "agent_queue \"case{i}\" {{\n  instance_types = [\"c7i.large\"]\n  max_size = 2\n  agent_token_parameter = \"/bk/token\"\n  untrusted_code = true\n  terminate_after_job = true\n  instance_policies = [\"p{i}.json\"]\n}}\n"
                );
                files.push((format!("case{i}.gantry.hcl"), queue));
                continue;
            }
            _ => format!("  trust_policy_file = \"safe-trust.json\"\n  managed_policy_arns = {}\n", serde_json::to_string(&c.arns).unwrap()),
        };
        files.push((format!("case{i}.gantry.hcl"), format!("ci_role \"case{i}\" {{\n{body}}}\n")));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let dir = stack_dir(&refs);
    let r = gantry(&["validate", ".", "--json"], &[], dir.path());
    assert_eq!(r.code, 3, "{}", r.all());
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let diags = out["diagnostics"].as_array().unwrap();
    let mut missed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        // A finding points into the block, or into its policy file when it finds the spot.
        let files = [format!("case{i}.gantry.hcl"), format!("t{i}.json"), format!("p{i}.json")];
        let here: Vec<&str> = diags
            .iter()
            .filter(|d| d["location"]["file"].as_str().is_some_and(|f| files.iter().any(|n| f.ends_with(&format!("/{n}")))))
            .filter_map(|d| d["code"].as_str())
            .collect();
        match &c.expect {
            Some(id) if !here.contains(&id.as_str()) => missed.push(format!("{}: expected {id}, got {here:?}", c.name)),
            None if !here.is_empty() => missed.push(format!("{} (safe): got {here:?}", c.name)),
            _ => {}
        }
    }
    assert!(missed.is_empty(), "{}\n{}", missed.join("\n"), r.stdout);
}

/// Policy files are linted after `policy_vars` expansion: a variable that
/// widens an ARN is caught, with the expanded ARN in the message.
#[test]
fn policy_vars_that_expand_to_wildcard_arns_are_refused() {
    let stack = r#"stack "vars" {
  aws { region = "us-west-2" }
}
variable "bucket" {
  default = "acme-artifacts"
}
ci_role "upload" {
  trust_policy_file = "trust.json"
  policy_files      = ["upload.json"]
  policy_vars       = { bucket = var.bucket }
}
"#;
    let upload = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${policy.bucket}/*"}
]}"#;
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/mlops:ref:refs/heads/main"}}}]}"#;
    let dir = stack_dir(&[("main.gantry.hcl", stack), ("upload.json", upload), ("trust.json", trust)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 0, "a named bucket is fine: {}", r.all());
    let r = gantry(&["validate", ".", "--var", "bucket=*"], &[], dir.path());
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stderr.contains("error[GANTRY-POLICY-002]") && r.stderr.contains("s3:PutObject on arn:aws:s3:::*/*"), "{}", r.all());
    assert!(r.stderr.contains("upload.json:2:"), "points at the statement in the policy file: {}", r.all());
}

/// Every rule is documented in the README's table, and the corpus
/// exercises every trust and policy rule.
#[test]
fn every_rule_is_documented_and_exercised() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let cases = corpus();
    for rule in gantry::lint::RULES {
        assert!(readme.contains(&format!("| `{}` |", rule.id)), "{} missing from the README's rule table", rule.id);
        if !rule.id.starts_with("GANTRY-QUEUE") {
            assert!(cases.iter().any(|c| c.expect.as_deref() == Some(rule.id)), "no corpus variant for {}", rule.id);
        }
    }
}
