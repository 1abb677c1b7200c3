//! A planted secret (a sensitive variable's value) never reaches any
//! channel gantry writes to: stdout, stderr, plan files, JSON, `show`,
//! `output`; flowing into a resource it is an error that names the
//! attribute and says where secrets go; plan files are 0600.

use crate::support::{gantry, stack_dir, Moto};

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

/// `gantry plan` on a pull request an attacker wrote: every way a stack
/// file can name a file outside the repository is refused, and the
/// planted content never appears in anything gantry prints.
#[test]
fn files_outside_the_repository_are_never_read() {
    const PLANTED: &str = "EXFIL_PLANTED_credentials_4711";
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("credentials");
    std::fs::write(&secret, format!("{{\"Version\": \"2012-10-17\", \"Statement\": [], \"x\": \"{PLANTED}\"}}\n")).unwrap();
    let s = secret.display().to_string();
    let header = "stack \"x\" {\n  aws { region = \"us-west-2\" }\n}\n";
    let fifo_target = outside.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo_target).status().unwrap().success());
    let role = |attr: &str| {
        format!("{header}github_oidc_provider \"gh\" {{}}\nci_role \"r\" {{\n  provider = github_oidc_provider.gh\n  allow {{\n    repo = \"o/r\"\n  }}\n  {attr}\n}}\n")
    };
    // (what, stack files, extra files or links, extra arguments)
    type Attempt = (&'static str, Vec<(&'static str, String)>, Vec<(&'static str, std::path::PathBuf)>, Vec<String>);
    let attempts: Vec<Attempt> = vec![
        ("file() of an absolute path", vec![("main.gantry.hcl", format!("{header}output \"e\" {{\n  value = file(\"{s}\")\n}}\n"))], vec![], vec![]),
        (
            "file() of /proc/self/environ",
            vec![("main.gantry.hcl", format!("{header}output \"e\" {{\n  value = file(\"/proc/self/environ\")\n}}\n"))],
            vec![],
            vec![],
        ),
        (
            "file() with .. out",
            vec![("main.gantry.hcl", format!("{header}output \"e\" {{\n  value = file(\"../../../../../../..{s}\")\n}}\n"))],
            vec![],
            vec![],
        ),
        (
            "templatefile() of an absolute path",
            vec![("main.gantry.hcl", format!("{header}output \"e\" {{\n  value = templatefile(\"{s}\", {{}})\n}}\n"))],
            vec![],
            vec![],
        ),
        (
            "file() through a symlink out",
            vec![("main.gantry.hcl", format!("{header}output \"e\" {{\n  value = file(\"notes.txt\")\n}}\n"))],
            vec![("notes.txt", secret.clone())],
            vec![],
        ),
        ("policy_files naming an outside file", vec![("main.gantry.hcl", role(&format!("policy_files = [\"{s}\"]")))], vec![], vec![]),
        (
            "trust_policy_file through a symlink out",
            vec![("main.gantry.hcl", format!("{header}ci_role \"r\" {{\n  trust_policy_file = \"trust.json\"\n}}\n"))],
            vec![("trust.json", secret.clone())],
            vec![],
        ),
        ("a stack file that is a symlink out", vec![("main.gantry.hcl", header.to_string())], vec![("leak.gantry.hcl", secret.clone())], vec![]),
        ("a stack file that is a symlink to /dev/zero", vec![("main.gantry.hcl", header.to_string())], vec![("zero.gantry.hcl", "/dev/zero".into())], vec![]),
        ("a stack file that is a symlink to a pipe", vec![("main.gantry.hcl", header.to_string())], vec![("pipe.gantry.hcl", fifo_target.clone())], vec![]),
        ("an auto-loaded var file that is a symlink out", vec![("main.gantry.hcl", header.to_string())], vec![("x.auto.vars.json", secret.clone())], vec![]),
        ("--var-file outside the repository", vec![("main.gantry.hcl", header.to_string())], vec![], vec!["--var-file".into(), s.clone()]),
    ];
    let total = attempts.len();
    let mut refused = 0;
    for (what, files, links, extra) in attempts {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let dir = stack_dir(&files);
        for (name, target) in &links {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
        }
        for cmd in ["validate", "plan"] {
            let mut args = vec![cmd, "."];
            args.extend(extra.iter().map(String::as_str));
            let started = std::time::Instant::now();
            let r = gantry(&args, &crate::support::unreachable_aws_env(), dir.path());
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{what}: {cmd} must not hang");
            assert_ne!(r.code, 0, "{what}: {cmd} must refuse: {}", r.all());
            assert!(!r.all().contains(PLANTED), "{what}: {cmd} printed the outside file's content: {}", r.all());
            assert!(!r.all().contains("AWS_SECRET_ACCESS_KEY") && !r.all().contains("PATH="), "{what}: {cmd} printed the environment: {}", r.all());
            let reason = ["outside the repository", "not a regular file"].iter().any(|m| r.stderr.contains(m));
            assert!(reason, "{what}: {cmd} must say why: {}", r.all());
        }
        refused += 1;
    }
    eprintln!("exfiltration attempts refused: {refused}/{total}");
    assert_eq!(refused, total);
}
