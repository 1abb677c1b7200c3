//! A sensitive value tracked through evaluation: every way the adversarial
//! run leaked one (policy-file interpolation, a data block's argument, the
//! stack block, error messages that quote a function's argument, a var
//! file's source line) ends in an error or a redacted message, and the
//! value is on no channel: validate, validate --json, plan, plan --json.

use crate::support::{gantry, stack_dir, Moto};

const SECRET: &str = "hf_PLANTED_fl0w_s3cret";

const HEAD: &str = r#"stack "flows" {
  aws { region = "us-west-2" }
}

variable "hf_token" {
  type      = string
  sensitive = true
}

locals {
  wrapped = "x-${var.hf_token}"
}
"#;

const ROLE: &str = r#"
github_oidc_provider "github" {}

ci_role "push" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
  }
  policy_files = ["policy.json"]
}
"#;

const POLICY_WITH_SECRET: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/t": "${local.wrapped}"}}}]}"#;

struct Case {
    what: &'static str,
    body: String,
    extra: Vec<(&'static str, String)>,
    /// The secret comes from this var file instead of the environment.
    var_file: Option<&'static str>,
    /// Words the error must carry (where it is, what it is).
    says: &'static str,
}

fn case(what: &'static str, body: &str, says: &'static str) -> Case {
    Case { what, body: body.to_string(), extra: vec![], var_file: None, says }
}

fn corpus() -> Vec<Case> {
    vec![
        Case {
            what: "interpolated into a role's policy file",
            body: ROLE.to_string(),
            extra: vec![("policy.json", POLICY_WITH_SECRET.to_string())],
            var_file: None,
            says: "policy file policy.json would carry var.hf_token",
        },
        case("a data block's argument", "data \"ecr_repository\" \"x\" {\n  name = local.wrapped\n}\n", "data.ecr_repository.x: name would carry var.hf_token"),
        case("the stack block", "", "the stack block: aws.region would carry var.hf_token"),
        case("lookup that finds nothing", "output \"o\" {\n  value     = lookup({ a = 1 }, var.hf_token)\n  sensitive = true\n}\n", ""),
        case("regex without a match", "output \"o\" {\n  value     = regex(\"^zz$\", var.hf_token)\n  sensitive = true\n}\n", ""),
        case("an operator's type error", "output \"o\" {\n  value     = var.hf_token + 1\n  sensitive = true\n}\n", ""),
        case("no such key", "output \"o\" {\n  value     = { a = 1 }[var.hf_token]\n  sensitive = true\n}\n", ""),
        case("file() of a secret path", "output \"o\" {\n  value     = file(var.hf_token)\n  sensitive = true\n}\n", ""),
        case("templatefile() of a secret path", "output \"o\" {\n  value     = templatefile(\"t-${var.hf_token}.tpl\", {})\n  sensitive = true\n}\n", ""),
        case("a conversion that fails", "output \"o\" {\n  value     = tonumber(var.hf_token)\n  sensitive = true\n}\n", ""),
        case("into an output not marked sensitive, through a local", "output \"o\" {\n  value = local.wrapped\n}\n", "shows var.hf_token"),
        case(
            "into a resource's tags through a local",
            "ecr_repository \"r\" {\n  name = \"flows/r\"\n  tags = { t = local.wrapped }\n}\n",
            "tags would carry var.hf_token",
        ),
        case(
            "into a nested block",
            "ecr_repository \"r\" {\n  name = \"flows/r\"\n  lifecycle_policy {\n    expire_untagged_after_days = length(var.hf_token)\n  }\n}\n",
            "would carry var.hf_token",
        ),
        Case {
            what: "a var file that does not parse",
            body: String::new(),
            extra: vec![("secret.vars.hcl", format!("hf_token = \"{SECRET}\n"))],
            var_file: Some("secret.vars.hcl"),
            says: "syntax error",
        },
        Case {
            what: "a var file value of the wrong type",
            body: String::new(),
            extra: vec![("secret.vars.hcl", format!("hf_token = [\"{SECRET}\"]\n"))],
            var_file: Some("secret.vars.hcl"),
            says: "not shown: the variable is sensitive",
        },
        Case {
            what: "a JSON var file that does not parse",
            body: String::new(),
            extra: vec![("secret.vars.json", format!("{{\"hf_token\": \"{SECRET}\",}}"))],
            var_file: Some("secret.vars.json"),
            says: "invalid JSON",
        },
        case("a validation message quoting the value", "", "must look like a token"),
    ]
}

fn files_of(c: &Case) -> Vec<(String, String)> {
    let mut head = HEAD.to_string();
    if c.what.starts_with("the stack block") {
        head = head.replace("aws { region = \"us-west-2\" }", "aws { region = local.wrapped }");
    }
    if c.what.starts_with("a validation message") {
        head = head.replace(
            "  sensitive = true\n}",
            "  sensitive = true\n  validation {\n    condition     = startswith(var.hf_token, \"tok_\")\n    error_message = \"${var.hf_token} must look like a token\"\n  }\n}",
        );
    }
    let mut files = vec![("main.gantry.hcl".to_string(), format!("{head}{}", c.body))];
    files.extend(c.extra.iter().map(|(n, t)| (n.to_string(), t.clone())));
    files
}

#[test]
fn a_sensitive_value_reaches_no_channel_through_any_flow() {
    let moto = Moto::start();
    let mut leaks = Vec::new();
    let cases = corpus();
    for c in &cases {
        let files = files_of(c);
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let dir = stack_dir(&refs);
        let d = dir.path().to_str().unwrap();
        let mut env = moto.env();
        let mut var_args: Vec<String> = Vec::new();
        match c.var_file {
            Some(f) => var_args.extend(["--var-file".to_string(), f.to_string()]),
            None => env.push(("GANTRY_VAR_hf_token", SECRET.into())),
        }
        let mut seen = String::new();
        let mut refused = true;
        for cmd in [vec!["validate", d], vec!["validate", d, "--json"], vec!["plan", d], vec!["plan", d, "--json"]] {
            let mut args: Vec<&str> = cmd.clone();
            args.extend(var_args.iter().map(String::as_str));
            let r = gantry(&args, &env, dir.path());
            assert_ne!(r.code, 101, "{}: {}", c.what, r.all());
            refused &= r.code != 0;
            seen.push_str(&r.all());
        }
        assert!(refused, "{}: every command must refuse: {seen}", c.what);
        assert!(seen.contains(c.says), "{}: the error says {:?}: {seen}", c.what, c.says);
        if seen.contains(SECRET) || seen.contains("PLANTED_fl0w") {
            leaks.push(format!("{}: {seen}", c.what));
        }
    }
    eprintln!("sensitive flows: {} cases, {} leaks over validate, validate --json, plan, plan --json", cases.len(), leaks.len());
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n---\n"));
}
