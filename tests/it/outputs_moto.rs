//! `output` blocks on moto: shown after apply, by `gantry output` (read
//! against live state: an output of a resource not created yet is left
//! out), never stored in a plan when sensitive.

use crate::support::{gantry, stack_dir, Moto};

const STACK: &str = r#"stack "outs" {
  aws { region = "us-west-2" }
}

variable "token" {
  type      = string
  default   = "s3cret-value"
  sensitive = true
}

locals {
  token = "${var.token}-x"
}

ecr_repository "cache" {}

output "url" {
  value       = ecr_repository.cache.repository_url
  description = "docker push here"
}

output "names" {
  value = [ecr_repository.cache.name, stack.region]
}

output "token" {
  value     = local.token
  sensitive = true
}

output "port" {
  value = 8080
}
"#;

#[test]
fn outputs_after_apply_and_from_live_state() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    let out = |args: &[&str]| {
        let mut all = vec!["output", "-d", d];
        all.extend_from_slice(args);
        gantry(&all, &env, dir.path())
    };

    // Nothing created yet: what needs the repository is left out, with a warning.
    let r = out(&[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "port  = 8080\ntoken = <sensitive>\n", "{}", r.all());
    assert!(r.stderr.contains("output \"url\" is left out: ecr_repository.cache not created yet (run gantry apply)"), "{}", r.all());
    let r = out(&["url"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("output \"url\" is not available: ecr_repository.cache not created yet"), "{}", r.all());

    // A saved plan never holds a sensitive value.
    let planfile = dir.path().join("outs.plan");
    let r = gantry(&["plan", d, "-out", planfile.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!std::fs::read_to_string(&planfile).unwrap().contains("s3cret"), "the plan file holds the secret");

    let r = gantry(&["apply", planfile.to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let url = "123456789012.dkr.ecr.us-west-2.amazonaws.com/cache";
    assert!(
        r.stdout.contains(&format!("Outputs:\n\nnames = [\"cache\", \"us-west-2\"]\nport  = 8080\ntoken = <sensitive>\nurl   = \"{url}\"\n")),
        "{}",
        r.all()
    );

    let r = out(&["url", "-raw"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, url), "{}", r.all());
    let r = out(&["token"]);
    assert_eq!(r.stdout, "\"s3cret-value-x\"\n", "asked for by name, a sensitive value is shown: {}", r.all());
    let r = out(&["-json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.all()));
    assert_eq!(doc["url"]["value"], url);
    assert_eq!(doc["names"]["type"], serde_json::json!(["tuple", ["string", "string"]]));
    // A listing never carries a sensitive value (CI logs keep it); by name it is given.
    assert_eq!(doc["token"], serde_json::json!({"sensitive": true, "type": "string", "value": "(sensitive)"}));
    let by_name = out(&["token", "-json"]);
    assert_eq!(by_name.stdout.trim(), "\"s3cret-value-x\"", "{}", by_name.all());
    insta::assert_snapshot!("output_text", out(&[]).stdout);
    insta::assert_snapshot!("output_json", r.stdout);
    let r = out(&["nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no output named \"nope\" (outputs: names, port, token, url)"), "{}", r.all());

    // With nothing to change, apply still shows the outputs.
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert!(r.stdout.contains("No changes.") && r.stdout.contains("Outputs:"), "{}", r.all());
}

#[test]
fn an_output_of_a_sensitive_variable_must_say_so() {
    let dir = stack_dir(&[("main.gantry.hcl", &STACK.replace("  value     = local.token\n  sensitive = true\n", "  value = local.token\n"))]);
    let r = gantry(&["validate", dir.path().to_str().unwrap()], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("output \"token\" shows var.token, which is sensitive"), "{}", r.all());
    assert!(r.stderr.contains("main.gantry.hcl:26:1"), "{}", r.all());
    assert_eq!(r.stderr.matches("error:").count(), 1, "{}", r.all());
}
