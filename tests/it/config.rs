//! Stack language: evaluation, variables, count/for_each, and diagnostics
//! that report every problem at once with file:line:col.

use gantry::config::{load_dir, LoadOptions};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn load(dir: &Path, opts: LoadOptions) -> gantry::config::Loaded {
    load_dir(dir, &opts, &gantry::ops::language())
}

const HEADER: &str = "stack \"t\" {\n  aws { region = \"eu-central-1\" }\n}\n";

#[test]
fn every_problem_is_reported_at_once_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.gantry.hcl", &format!("{HEADER}ecr_repository \"one\" {{\n  scan_on_psh = true\n  image_tag_mutability = 5\n}}\n"));
    write(
        dir.path(),
        "b.gantry.hcl",
        "ecr_repository \"one\" {}\necr_repository \"two\" {\n  tags = { a = ecr_repository.three.arn }\n}\necr_repositry \"x\" {}\n",
    );
    write(dir.path(), "c.gantry.hcl", "ecr_repository \"broken\" {\n  name = \n}\n");
    write(
        dir.path(),
        "d.gantry.hcl",
        "locals {\n  a = local.b\n  b = local.a\n}\necr_repository \"lc\" {\n  lifecycle_policy {\n    keep_last_tagged = \"lots\"\n  }\n}\n",
    );
    let l = load(dir.path(), LoadOptions::default());
    assert!(l.stack.is_none());
    let text = l.diags.render(&l.sources, false);
    let expect = [
        ("unknown attribute \"scan_on_psh\"", "a.gantry.hcl:5:3"),
        ("did you mean \"scan_on_push\"?", ""),
        ("invalid value for \"image_tag_mutability\": \"5\" is not one of IMMUTABLE, MUTABLE", "a.gantry.hcl:6:26"),
        ("duplicate resource address ecr_repository.one", "b.gantry.hcl:1:1"),
        ("unknown resource ecr_repository.three", "b.gantry.hcl:3:16"),
        ("unknown block type \"ecr_repositry\"", "b.gantry.hcl:5:1"),
        ("did you mean \"ecr_repository\"?", ""),
        ("syntax error", "c.gantry.hcl:2"),
        ("reference cycle: local.", "d.gantry.hcl:2:3"),
        ("invalid value for \"keep_last_tagged\": expected a number, got string \"lots\"", "d.gantry.hcl:7:24"),
    ];
    for (msg, loc) in expect {
        assert!(text.contains(msg), "missing {msg:?} in:\n{text}");
        assert!(text.contains(loc), "missing location {loc:?} in:\n{text}");
    }
    assert_eq!(l.diags.error_count(), 8, "one diagnostic per problem, no cascades:\n{text}");
}

/// Every unknown function of an expression is reported at its own name
/// (evaluation stops at the first), each with a suggestion when one is near.
#[test]
fn every_unknown_function_in_an_expression_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.gantry.hcl",
        &format!("{HEADER}ecr_repository \"r\" {{\n  name = \"${{lowr(\"A\")}}-${{frobnicate(\"b\")}}\"\n  tags = {{ a = uper(\"x\") }}\n}}\n"),
    );
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    for (msg, loc) in [
        ("unknown function `lowr`", "a.gantry.hcl:5:13"),
        ("unknown function `frobnicate`", "a.gantry.hcl:5:26"),
        ("unknown function `uper`", "a.gantry.hcl:6:16"),
    ] {
        assert!(text.contains(msg) && text.contains(loc), "missing {msg:?} at {loc} in:\n{text}");
    }
    assert!(text.contains("did you mean lower()?") && text.contains("did you mean upper()?"), "{text}");
    assert_eq!(l.diags.error_count(), 3, "one diagnostic per unknown function:\n{text}");
}

#[test]
fn variables_come_from_defaults_env_files_and_flags_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.gantry.hcl",
        &format!(
            "{HEADER}variable \"prefix\" {{\n  type = string\n  default = \"def\"\n}}\nvariable \"n\" {{\n  type = number\n}}\nvariable \"tags\" {{\n  type = map(string)\n  default = {{}}\n}}\necr_repository \"r\" {{\n  count = var.n\n  name = \"${{var.prefix}}-${{count.index}}\"\n  tags = var.tags\n}}\n"
        ),
    );
    write(dir.path(), "vals.tfvars", "prefix = \"file\"\ntags = { team = \"ml\" }\n");
    let opts = LoadOptions {
        vars: vec!["n=2".into()],
        var_files: vec![dir.path().join("vals.tfvars")],
        env_vars: vec![("prefix".into(), "env".into()), ("n".into(), "9".into())],
        ..Default::default()
    };
    let l = load(dir.path(), opts);
    let s = l.stack.unwrap_or_else(|| panic!("{}", l.diags.render(&l.sources, false)));
    let names: Vec<_> = s.resources.iter().map(|r| r.attrs["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, vec!["file-0", "file-1"], "-var beats env for n; the file beats env for prefix");
    assert_eq!(s.resources[0].attrs["tags"]["team"], "ml");
    assert_eq!(s.resources[1].address, "ecr_repository.r[1]");

    let l = load(dir.path(), LoadOptions { vars: vec!["nope=1".into()], ..LoadOptions::default() });
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("no value for required variable \"n\""), "{text}");
    assert!(text.contains("undeclared variable \"nope\""), "{text}");
    assert!(text.contains("GANTRY_VAR_n"), "{text}");
}

#[test]
fn for_each_and_references_between_instances() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.gantry.hcl",
        &format!(
            "{HEADER}ecr_repository \"img\" {{\n  for_each = {{ train = \"t\", serve = \"s\" }}\n  name = \"img-${{each.key}}\"\n  tags = {{ short = each.value }}\n}}\necr_repository \"index\" {{\n  tags = {{ train = ecr_repository.img[\"train\"].repository_url }}\n}}\n"
        ),
    );
    let l = load(dir.path(), LoadOptions { account_id: Some("123456789012".into()), ..LoadOptions::default() });
    let s = l.stack.unwrap_or_else(|| panic!("{}", l.diags.render(&l.sources, false)));
    let idx = s.resources.iter().find(|r| r.address == "ecr_repository.index").unwrap();
    assert_eq!(idx.attrs["tags"]["train"], "123456789012.dkr.ecr.eu-central-1.amazonaws.com/img-train");
    assert!(idx.depends_on.contains("ecr_repository.img"));
    assert!(s.resources.iter().any(|r| r.address == "ecr_repository.img[\"serve\"]"));
}

#[test]
fn duplicate_names_after_count_expansion_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}ecr_repository \"r\" {{\n  count = 2\n  name = \"same\"\n}}\n"));
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("ecr_repository.r[0] and ecr_repository.r[1] would both manage the ecr_repository named \"same\""), "{text}");
}

#[test]
fn missing_stack_and_unreadable_directory() {
    let dir = tempfile::tempdir().unwrap();
    let l = load(&dir.path().join("nope"), LoadOptions::default());
    assert!(l.diags.render(&l.sources, false).contains("cannot read stack directory"));
    let l = load(dir.path(), LoadOptions::default());
    assert!(l.diags.render(&l.sources, false).contains("no *.gantry.hcl files"));
    write(dir.path(), "main.gantry.hcl", "ecr_repository \"abc\" {}\n");
    let l = load(dir.path(), LoadOptions::default());
    assert!(l.diags.render(&l.sources, false).contains("no `stack` block found"));
}

#[test]
fn bad_json_policy_file_points_into_the_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}ecr_repository \"p\" {{\n  repository_policy_file = \"policy.json\"\n}}\n"));
    write(dir.path(), "policy.json", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}\n");
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("policy.json is not valid JSON"), "{text}");
    assert!(text.contains("policy.json:3:"), "{text}");
}

/// Never a panic on any input: mangle a valid stack many ways and load it.
#[test]
fn no_panic_on_mangled_input() {
    let valid = format!(
        "{HEADER}variable \"v\" {{\n  type = list(string)\n  default = [\"a\"]\n}}\nlocals {{\n  x = [for s in var.v : upper(s)]\n}}\necr_repository \"r\" {{\n  for_each = toset(var.v)\n  name = \"r-${{each.key}}\"\n  lifecycle_policy {{\n    keep_last_tagged = 3\n  }}\n  tags = {{ a = local.x[0] }}\n}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let pieces = ["{", "}", "\"", "${", "=", "[", "]", "\n", "count = -1", "ecr_repository.r.arn", "local.", "var.", "<<EOT\n", "#", "é", "\u{0}", "1e999"];
    for _ in 0..400 {
        let mut s: Vec<char> = valid.chars().collect();
        for _ in 0..rng.usize(1..4) {
            let at = rng.usize(0..=s.len());
            if rng.bool() && at < s.len() {
                let end = (at + rng.usize(1..8)).min(s.len());
                s.drain(at..end);
            } else {
                let p = pieces[rng.usize(0..pieces.len())];
                for (i, c) in p.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
        }
        let text: String = s.into_iter().collect();
        write(dir.path(), "main.gantry.hcl", &text);
        let l = load(dir.path(), LoadOptions::default());
        let _ = l.diags.render(&l.sources, false);
    }
}

const TYPED_VARS: &str = r#"variable "max_size" {
  type    = number
  default = 4
  validation {
    condition     = var.max_size >= 0 && var.max_size <= 10
    error_message = "max_size must be between 0 and 10."
  }
}

variable "fleets" {
  type = map(object({
    instance_type = string
    max_size      = optional(number, 2)
    gpus          = optional(list(number), [])
  }))
  default = {
    cpu = { instance_type = "c7i.large" }
  }
}

variable "extra" {
  type    = map(any)
  default = { a = [1], b = "x" }
}

ecr_repository "images" {
  for_each = var.fleets
  name     = "ci/${each.key}"
  tags     = { max = tostring(each.value.max_size), gpus = tostring(length(each.value.gpus)) }
}
"#;

#[test]
fn object_list_and_map_types_with_optional_attributes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{TYPED_VARS}"));
    let l = load(dir.path(), LoadOptions::default());
    assert!(l.stack.is_some(), "{}", l.diags.render(&l.sources, false));
    let opts = LoadOptions { vars: vec![r#"fleets={gpu={instance_type="g6.xlarge", gpus=[1, "2"]}}"#.into()], ..LoadOptions::default() };
    let l = load(dir.path(), opts);
    let stack = l.stack.unwrap_or_else(|| panic!("{}", l.diags.render(&l.sources, false)));
    let gpu = &stack.resources[0];
    assert_eq!(gpu.attrs["tags"], serde_json::json!({"max": "2", "gpus": "2"}), "optional attribute filled from its default");
    // A typo in an object attribute is refused (Terraform would drop it silently).
    let opts = LoadOptions { vars: vec![r#"fleets={gpu={instance_type="g6", max_sise=3}}"#.into()], ..LoadOptions::default() };
    let l = load(dir.path(), opts);
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("key \"gpu\": attribute \"max_sise\" is not in the type (did you mean \"max_size\"?)"), "{text}");
    assert_eq!(l.diags.error_count(), 1, "{text}");
    // list(number) elements are checked one by one.
    let opts = LoadOptions { vars: vec![r#"fleets={gpu={instance_type="g6", gpus=[1, "many"]}}"#.into()], ..LoadOptions::default() };
    let text = {
        let l = load(dir.path(), opts);
        l.diags.render(&l.sources, false)
    };
    assert!(text.contains("attribute \"gpus\": element 1: expected number, got string \"many\""), "{text}");
}

#[test]
fn validation_blocks_report_their_message_at_the_condition() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{TYPED_VARS}"));
    let l = load(dir.path(), LoadOptions { vars: vec!["max_size=12".into()], ..LoadOptions::default() });
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("invalid value for variable \"max_size\": max_size must be between 0 and 10."), "{text}");
    assert!(text.contains("main.gantry.hcl:8:21"), "{text}");
    assert!(text.contains("the value came from -var"), "{text}");
    assert_eq!(l.diags.error_count(), 1, "{text}");
    // A bad default is caught as well, and so are malformed validation blocks and types.
    let broken = TYPED_VARS
        .replace("default = 4", "default = 40")
        .replace("    error_message = \"max_size must be between 0 and 10.\"\n", "")
        .replace("map(any)", "mapp(any)");
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{broken}"));
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("a validation block needs error_message"), "{text}");
    assert!(text.contains("unsupported type `mapp`"), "{text}");
    assert_eq!(l.diags.error_count(), 2, "{text}");
}

#[test]
fn file_templatefile_and_try_read_next_to_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "motd.tpl", "team ${team}: %{ for q in queues }${upper(q)} %{ endfor }\n");
    write(dir.path(), "boot.sh", "#!/bin/sh\necho up\n");
    let stack = r#"
variable "limits" {
  type    = map(number)
  default = { gpu = 4 }
}

locals {
  motd   = templatefile("motd.tpl", { team = "ml", queues = ["gpu", "tpu"] })
  script = file("boot.sh")
  tpu    = try(var.limits["tpu"], 0)
  gpu    = try(var.limits["gpu"], 0)
}

ecr_repository "images" {
  tags = { motd = trimspace(local.motd), lines = tostring(length(split("\n", local.script))), tpu = tostring(local.tpu), gpu = tostring(local.gpu) }
}
"#;
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{stack}"));
    let l = load(dir.path(), LoadOptions::default());
    let s = l.stack.unwrap_or_else(|| panic!("{}", l.diags.render(&l.sources, false)));
    assert_eq!(s.resources[0].attrs["tags"], serde_json::json!({"motd": "team ml: GPU TPU", "lines": "3", "tpu": "0", "gpu": "4"}));

    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{}", stack.replace("file(\"boot.sh\")", "file(\"scripts/missing.sh\")")));
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("error calling function `file`: cannot read scripts/missing.sh"), "{text}");
    assert!(text.contains("main.gantry.hcl:12:12"), "{text}");
    assert_eq!(l.diags.error_count(), 1, "{text}");
}

/// Hostile input that used to crash or run away: a template that renders
/// itself, a range that a nested `for` multiplies.
#[test]
fn self_rendering_templates_and_huge_ranges_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "self.tpl", "again: ${templatefile(\"self.tpl\", {})}\n");
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}locals {{\n  t = templatefile(\"self.tpl\", {{}})\n}}\n"));
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("templatefile calls nest deeper than 8") && text.contains("main.gantry.hcl:5:7"), "{text}");
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}locals {{\n  n = [for a in range(10000) : [for b in range(10000) : b]]\n}}\n"));
    let started = std::time::Instant::now();
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("range: at most 1024 elements") && text.contains("main.gantry.hcl:5:7"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Within range()'s limit, three nested `for`s (a billion elements) and a
    // `for` that copies a large value stop at the evaluation budgets.
    for (locals, says) in [
        ("  n = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]\n", "iterate more than 1000000 elements"),
        ("  big = join(\"\", [for i in range(1024) : \"0123456789abcdef\"])\n  n   = [for i in range(1024) : join(\"\", [for j in range(64) : local.big])]\n", "produce more than 256 MB"),
        (
            "  a = join(\"\", [for i in range(1024) : \"0123456789abcdef\"])\n  b = \"${local.a}${local.a}${local.a}${local.a}${local.a}${local.a}${local.a}${local.a}\"\n  c = \"${local.b}${local.b}${local.b}${local.b}${local.b}${local.b}${local.b}${local.b}\"\n  d = \"${local.c}${local.c}${local.c}${local.c}${local.c}${local.c}${local.c}${local.c}\"\n  e = \"${local.d}${local.d}${local.d}${local.d}${local.d}${local.d}${local.d}${local.d}\"\n",
            "one value may hold at most 16 MB",
        ),
    ] {
        write(dir.path(), "main.gantry.hcl", &format!("{HEADER}locals {{\n{locals}}}\n"));
        let started = std::time::Instant::now();
        let l = load(dir.path(), LoadOptions::default());
        let text = l.diags.render(&l.sources, false);
        assert!(text.contains(says) && text.contains("main.gantry.hcl:"), "{text}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{says}: {:?}", started.elapsed());
    }
}

#[test]
fn untrusted_queues_are_linted_and_the_findings_can_be_waived() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "push.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:PutImage"], "Resource": "arn:aws:ecr:eu-central-1:123456789012:repository/cache"}]}"#,
    );
    let queue = r#"
agent_queue "premerge" {
  instance_types        = ["c7i.large"]
  max_size              = 4
  agent_token_parameter = "/bk/token"
  untrusted_code        = true
  instance_policies     = ["push.json"]
  agent_secrets         = { HF_TOKEN = "ssm:/ci/hf" }
}
"#;
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{queue}"));
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    for (rule, at) in [("GANTRY-QUEUE-001", "push.json:1:"), ("GANTRY-QUEUE-002", "main.gantry.hcl:"), ("GANTRY-QUEUE-003", "main.gantry.hcl:")] {
        assert!(text.contains(rule), "{rule}: {text}");
        assert!(text.contains(at), "{at}: {text}");
    }
    assert!(text.contains("(ecr:PutImage)"), "{text}");
    let waived = queue.replace(
        "  agent_secrets         = { HF_TOKEN = \"ssm:/ci/hf\" }\n",
        "  agent_secrets         = { HF_TOKEN = \"ssm:/ci/hf\" }\n  terminate_after_job   = true\n  waive \"GANTRY-QUEUE-001\" {\n    reason = \"the cache push is keyed by PR number and never read by post-merge builds\"\n  }\n  waive \"GANTRY-QUEUE-002\" {\n    reason = \"a read-only token for public models\"\n  }\n",
    );
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{waived}"));
    let l = load(dir.path(), LoadOptions::default());
    let s = l.stack.unwrap_or_else(|| panic!("{}", l.diags.render(&l.sources, false)));
    assert_eq!(s.waivers.len(), 2, "{:?}", s.waivers);
}

#[test]
fn arithmetic_the_evaluator_panics_on_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.gantry.hcl",
        &format!("{HEADER}locals {{\n  a = 1 % 0\n  b = 10 / 0\n}}\necr_repository \"r\" {{\n  tags = {{ n = \"${{2 % 0}}\" }}\n}}\n"),
    );
    let l = load(dir.path(), LoadOptions::default());
    let text = l.diags.render(&l.sources, false);
    assert!(text.contains("main.gantry.hcl:5:7") && text.contains("remainder with a divisor of zero"), "{text}");
    assert!(text.contains("main.gantry.hcl:9:"), "the template's error is located too: {text}");
}

#[test]
fn special_files_are_refused_and_a_flood_of_errors_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{HEADER}locals {{\n  z = file(\"/dev/zero\")\n}}\n");
    for i in 0..80 {
        text.push_str(&format!("ecr_repository \"r{i}\" {{\n  bogus = 1\n}}\n"));
    }
    write(dir.path(), "main.gantry.hcl", &text);
    // Outside the repository: refused before anything else is looked at.
    let l = load(dir.path(), LoadOptions::default());
    assert!(l.diags.render(&l.sources, false).contains("cannot read /dev/zero (relative to"), "outside the repository");
    // Allowed outside (local use): a device is still never read.
    let t = std::time::Instant::now();
    let l = load(dir.path(), LoadOptions { allow_outside_files: true, ..LoadOptions::default() });
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "a device is never read: {:?}", t.elapsed());
    let out = l.diags.render(&l.sources, false);
    assert!(out.contains("/dev/zero") && out.contains("not a regular file"), "{out}");
    assert!(out.contains("… and 31 more"), "81 errors, 50 shown: {out}");
    assert_eq!(l.diags.error_count(), 81, "all are still counted");
}

#[test]
fn a_broken_stack_block_is_one_syntax_error_and_an_empty_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.gantry.hcl", "stack \"y\" {\n  aws { region = \"us-west-2\" \n}\necr_repository \"rr\" {\n  name = \n}\n");
    let l = load(dir.path(), LoadOptions::default());
    let out = l.diags.render(&l.sources, false);
    assert!(out.contains("unclosed block") && !out.contains("no `stack` block found"), "no cascade: {out}");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.gantry.hcl", "  \n");
    let l = load(dir.path(), LoadOptions::default());
    let out = l.diags.render(&l.sources, false);
    assert!(out.contains("warning: this stack file is empty") && out.contains("main.gantry.hcl:1:1"), "{out}");
    assert!(out.contains("no `stack` block found") && out.contains("read: main.gantry.hcl"), "{out}");
}

#[test]
fn queues_whose_cloud_names_collide_after_normalisation_are_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let q = |label: &str| {
        format!("agent_queue \"{label}\" {{\n  instance_types        = [\"c7i.large\"]\n  max_size              = 2\n  agent_token_parameter = \"/t\"\n}}\n")
    };
    write(dir.path(), "main.gantry.hcl", &format!("{HEADER}{}{}{}", q("a_b"), q("a-b"), q("c")));
    let l = load(dir.path(), LoadOptions::default());
    let out = l.diags.render(&l.sources, false);
    assert_eq!(l.diags.error_count(), 1, "{out}");
    assert!(out.contains("agent_queue.a_b and agent_queue.a-b would both create CloudFormation stack eu-central-1/gantry-t-a-b"), "{out}");
    assert!(out.contains("main.gantry.hcl:9:1"), "at the second block: {out}");
}
