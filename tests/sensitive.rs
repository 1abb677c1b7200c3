//! A planted secret (a sensitive variable's value) never reaches any
//! channel gantry writes to: stdout, stderr, plan files, JSON, `show`,
//! `output`; flowing into a resource it is an error that names the
//! attribute and says where secrets go; plan files are 0600.

mod support;

use support::{gantry, stack_dir, Moto};

const SECRET: &str = "hf_PLANTED_s3cr3t_value";

fn stack(tags: &str) -> String {
    format!(
        r#"stack "sens" {{
  aws {{ region = "us-west-2" }}
}}

variable "hf_token" {{
  type      = string
  sensitive = true
}}

locals {{
  bearer = "Bearer ${{var.hf_token}}"
}}

ecr_repository "models" {{
  name = "sens/models"
  {tags}
}}

output "bearer" {{
  value     = local.bearer
  sensitive = true
}}
"#
    )
}

#[test]
fn a_planted_secret_never_reaches_an_output_channel() {
    let moto = Moto::start();
    let mut env = moto.env();
    env.push(("GANTRY_VAR_hf_token", SECRET.into()));
    let dir = stack_dir(&[("main.gantry.hcl", &stack("tags = { team = \"ml\" }"))]);
    let d = dir.path().to_str().unwrap();
    let plan_file = dir.path().join("p.plan");
    let pf = plan_file.to_str().unwrap();
    let mut seen = String::new();
    for args in [
        vec!["validate", d],
        vec!["plan", d, "-out", pf],
        vec!["plan", d, "--json"],
        vec!["show", pf],
        vec!["show", pf, "--json"],
        vec!["apply", pf],
        vec!["output", "-d", d],
        vec!["output", "-d", d, "--json"],
    ] {
        let r = gantry(&args, &env, dir.path());
        assert_ne!(r.code, 101, "{args:?}: {}", r.all());
        seen.push_str(&r.all());
    }
    assert!(seen.contains("(sensitive)") || seen.contains("<sensitive>"), "the output is shown redacted: {seen}");
    assert!(!seen.contains(SECRET), "the secret leaked: {seen}");
    let saved = std::fs::read_to_string(&plan_file).unwrap();
    assert!(!saved.contains(SECRET), "the plan file holds the secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&plan_file).unwrap().permissions().mode() & 0o777, 0o600);
    // Asked for by name, the value is given (as Terraform's `output NAME` does).
    let r = gantry(&["output", "bearer", "-d", d, "--raw"], &env, dir.path());
    assert_eq!(r.stdout, format!("Bearer {SECRET}"), "{}", r.all());

    // Flowing into a resource: an error at the attribute, the value never echoed.
    let dir = stack_dir(&[("main.gantry.hcl", &stack("tags = { auth = local.bearer }"))]);
    let r = gantry(&["plan", dir.path().to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("ecr_repository.models: tags would carry var.hf_token, which is sensitive"), "{}", r.all());
    assert!(r.stderr.contains("main.gantry.hcl:16:"), "{}", r.all());
    assert!(!r.all().contains(SECRET), "{}", r.all());
}

/// A sensitive value of the wrong type is refused without quoting it,
/// wherever it came from (-var, GANTRY_VAR_*, a var file).
#[test]
fn a_sensitive_value_of_the_wrong_type_is_refused_without_showing_it() {
    let stack = r#"stack "sens" {
  aws { region = "us-west-2" }
}

variable "seats" {
  type      = number
  sensitive = true
}

variable "plain" {
  type    = number
  default = 1
}
"#;
    let dir = stack_dir(&[("main.gantry.hcl", stack), ("secret.auto.vars.hcl", &format!("seats = \"{SECRET}\"\n"))]);
    let env = [("GANTRY_VAR_seats", SECRET.to_string())];
    for (args, env) in
        [(vec!["validate", ".", "--var", &format!("seats={SECRET}")], &[][..]), (vec!["validate", "."], &env[..]), (vec!["validate", ".", "--json"], &[][..])]
    {
        let r = gantry(&args, env, dir.path());
        assert_ne!(r.code, 0, "{}", r.all());
        assert!(r.all().contains("not shown: the variable is sensitive"), "{}", r.all());
        assert!(!r.all().contains(SECRET), "{args:?} leaked the value: {}", r.all());
    }
    // A plain variable still says what it got (that helps, and is no secret).
    let r = gantry(&["validate", ".", "--var", "plain=abc", "--var", "seats=3"], &[], dir.path());
    assert!(r.all().contains("got string \"abc\""), "{}", r.all());
}
