//! What a Terraform user sees, as reviewed snapshots (offline commands):
//! single-dash flags, data blocks, workspaces, typed and validated
//! variables, functions, completions and the man page.

use crate::support::{gantry, stack_dir};

const STACK: &str = r#"stack "snap" {
  aws {
    region = "us-west-2"
  }
}

variable "max_size" {
  type    = number
  default = 4
  validation {
    condition     = var.max_size <= 10
    error_message = "at most 10 instances per queue."
  }
}

variable "fleets" {
  type = map(object({
    instance_type = string
    gpus          = optional(number, 0)
  }))
  default = {}
}

data "vpcc" "ci" {
  default = true
}

data "subnets" "ci" {
  vpc_id = ecr_repository.cache.name
}

ecr_repository "cache" {
  name = lowr("Cache")
}

output "cache" {
  value = ecr_repository.cache.repository_url
}
"#;

#[test]
fn terraform_habits_transcript() {
    let dir = stack_dir(&[("main.gantry.hcl", STACK), ("big.auto.vars.json", "{\"fleets\": {\"gpu\": {\"instance_type\": \"g6.xlarge\", \"gpu\": 1}}}\n")]);
    let d = dir.path().to_str().unwrap();
    let mut transcript = String::new();
    let mut run = |title: &str, args: &[&str]| {
        let r = gantry(args, &[], dir.path());
        let text = format!("{}{}", r.stdout, r.stderr).replace(d, "<DIR>");
        transcript.push_str(&format!("=== {title} (exit {})\n{text}\n", r.code));
    };
    run("validate: single-dash flags, var validation, object types, data blocks, functions", &["-no-color", "validate", "-var=max_size=30", d]);
    run("a workspace name is checked", &["validate", "-workspace=Prod", d]);
    run("output needs the live account (offline: how to ask)", &["output", "-help"]);
    insta::assert_snapshot!("terraform_habits", transcript);
}

#[test]
fn docs_functions_completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let docs = gantry(&["docs"], &[], dir.path()).stdout;
    let functions = docs.split("\n## Functions\n").nth(1).and_then(|s| s.split("\n# ").next()).unwrap_or_default();
    insta::assert_snapshot!("functions_table", functions);
    let man = gantry(&["man"], &[], dir.path()).stdout;
    insta::assert_snapshot!("man_head", man.lines().take(12).collect::<Vec<_>>().join("\n"));
    let bash = gantry(&["completions", "bash"], &[], dir.path()).stdout;
    let commands: Vec<&str> = bash.lines().filter(|l| l.trim_start().starts_with("gantry,")).map(str::trim).collect();
    insta::assert_snapshot!("completion_commands", commands.join("\n"));
}
