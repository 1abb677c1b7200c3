//! Terraform habits at the command line: single-dash spellings of every
//! long flag, `-input=false`, `gantry version`, help text for every flag,
//! shell completions, a man page and `fmt -recursive`.

use crate::support::{gantry, stack_dir, Moto};

const STACK: &str = "stack \"tf\" {\n  aws { region = \"us-west-2\" }\n}\n\necr_repository \"cache\" {}\n";

#[test]
fn terraform_single_dash_flags_work_as_in_terraform() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    // -no-color, -destroy, -input=false, -detailed-exitcode, -out=FILE, -var-file, -parallelism=N
    std::fs::write(dir.path().join("vals.tfvars"), "").unwrap();
    let r = gantry(&["plan", ".", "-no-color", "-input=false", "-detailed-exitcode", "-out=tf.plan", "-var-file=vals.tfvars"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.stdout.contains('\u{1b}'), "no ANSI with -no-color: {}", r.stdout);
    let r = gantry(&["apply", "-input=false", "-parallelism=4", "tf.plan"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", ".", "-destroy", "-detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("0 to add, 0 to change, 1 to destroy"), "{}", r.all());
    // -input=false: a confirmation becomes a refusal, nothing changes.
    let r = gantry(&["destroy", ".", "-input=false"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("cannot ask for confirmation") && r.stderr.contains("-input=false"), "{}", r.all());
    // A bare -input never takes the next word as its value.
    let r = gantry(&["-input", "validate", "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // Short flags keep working; an unknown single-dash word is still an error.
    assert_eq!(gantry(&["-v", "validate", "."], &[], dir.path()).code, 0);
    let r = gantry(&["plan", ".", "-bogus"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
}

#[test]
fn version_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let r = gantry(&["version"], &[], dir.path());
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with(&format!("gantry {} (", env!("CARGO_PKG_VERSION"))), "{}", r.stdout);
    let r = gantry(&["version", "-json"], &[], dir.path());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["scaler_zips"][0], format!("gantry-scaler-{}-arm64.zip", env!("CARGO_PKG_VERSION")));
    assert_eq!(gantry(&["--version"], &[], dir.path()).stdout.trim(), format!("gantry {}", env!("CARGO_PKG_VERSION")));
}

/// Every flag and argument of every command says what it does.
#[test]
fn every_flag_has_help_text() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments().filter(|a| !["help", "version"].contains(&a.get_id().as_str())) {
            if a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                missing.push(format!("{path} {}", a.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() && sub.get_name() != "help" {
                missing.push(format!("{path} {} (no about)", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&gantry::cli::command(), "gantry", &mut missing);
    assert!(missing.is_empty(), "without help text: {missing:?}");
    // And the rendered help shows it.
    let dir = tempfile::tempdir().unwrap();
    let r = gantry(&["apply", "--help"], &[], dir.path());
    assert!(r.stdout.contains("--target <ADDR>") && r.stdout.contains("Limit to these addresses"), "{}", r.stdout);
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = gantry(&["completions", shell], &[], dir.path());
        assert_eq!(r.code, 0, "{shell}: {}", r.all());
        assert!(r.stdout.contains("gantry") && r.stdout.contains("force-unlock") && r.stdout.contains("allow-broadening"), "{shell}: {}", r.stdout);
    }
    let script = dir.path().join("gantry.bash");
    std::fs::write(&script, gantry(&["completions", "bash"], &[], dir.path()).stdout).unwrap();
    let out = std::process::Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = gantry(&["man"], &[], dir.path());
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with(".ie") || r.stdout.contains(".TH gantry"), "{}", &r.stdout[..200.min(r.stdout.len())]);
    assert!(r.stdout.contains("validate") && r.stdout.contains("Exit codes"), "the man page lists the commands and exit codes");
}

#[test]
fn fmt_recursive_checks_every_stack_below() {
    let dir = stack_dir(&[
        ("a/main.gantry.hcl", STACK),
        ("b/deep/main.gantry.hcl", "stack \"x\" {\n aws { region = \"us-west-2\" }\n}\n"),
        (".hidden/main.gantry.hcl", "x {"),
    ]);
    // Without -recursive a parent folder has no stack files: an error, not a silent pass.
    let r = gantry(&["fmt", "-check", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("add --recursive"), "{}", r.all());
    let r = gantry(&["fmt", "-check", "-recursive", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.stdout.trim(), "./b/deep/main.gantry.hcl", "only the unformatted file, hidden folders skipped: {}", r.all());
    assert_eq!(gantry(&["fmt", "-recursive", "."], &[], dir.path()).code, 0);
    assert_eq!(gantry(&["fmt", "-check", "-recursive", "."], &[], dir.path()).code, 0);
}

#[test]
fn var_values_that_are_not_expressions_are_literal_strings() {
    let dir = stack_dir(&[("main.gantry.hcl", &format!("{STACK}\nvariable \"n\" {{\n  type    = number\n  default = 1\n}}\n"))]);
    let r = gantry(&["validate", ".", "-var", "n=abc"], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("\"abc\"") && !r.stderr.contains("undefined variable"), "{}", r.all());
    assert_eq!(gantry(&["validate", ".", "-var", "n=3"], &[], dir.path()).code, 0);
}

/// An SDK failure is one line (the request id when AWS gave one); the
/// chain in full is logged with -v, and no output carries colour codes
/// when colour is off.
#[test]
fn sdk_errors_are_one_line_and_logs_follow_no_color() {
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let env = crate::support::unreachable_aws_env();
    let r = gantry(&["plan", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    let error = r.stderr.lines().find(|l| l.starts_with("Error:")).unwrap_or_else(|| panic!("{}", r.all()));
    assert!(error.len() < 400 && !error.contains("ConnectError(") && error.contains("Connection refused") && error.contains("details with -v"), "{error}");
    let r = gantry(&["-v", "-no-color", "plan", "."], &env, dir.path());
    assert!(r.stderr.contains("AWS SDK error in full"), "{}", r.all());
    assert!(!r.stderr.contains('\u{1b}'), "no ANSI anywhere with -no-color: {:?}", r.stderr);
}

#[test]
fn a_binary_stack_file_is_reported_with_line_and_column() {
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    std::fs::write(dir.path().join("blob.gantry.hcl"), b"# ok\nlocals {\n  a = \"\xff\xfe\"\n}\n").unwrap();
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("blob.gantry.hcl:3:8") && r.stderr.contains("is not UTF-8 text (byte 0xff)"), "{}", r.all());
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("error")).count(), 1, "one problem, one diagnostic: {}", r.all());
}

#[test]
fn every_unknown_function_is_reported_with_a_suggestion() {
    let text = format!("{STACK}\nlocals {{\n  a = lowr(\"X\")\n  b = startswith(\"a\", \"b\")\n  c = tomapp({{}})\n}}\n");
    let dir = stack_dir(&[("main.gantry.hcl", &text)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 2, "two unknown functions, two diagnostics: {}", r.all());
    assert!(r.stderr.contains("main.gantry.hcl:8:7") && r.stderr.contains("did you mean lower()?"), "{}", r.all());
    assert!(r.stderr.contains("main.gantry.hcl:10:7") && r.stderr.contains("did you mean tomap()?"), "{}", r.all());
}

/// Without Google credentials a plan fails within seconds with the ADC
/// hint (the client libraries would retry the metadata server for ~48 s).
/// Skipped on Google Cloud hardware, where the metadata server answers.
#[test]
fn missing_google_credentials_fail_fast_with_the_adc_hint() {
    if std::fs::read_to_string("/sys/class/dmi/id/product_name").is_ok_and(|p| p.contains("Google")) {
        return;
    }
    let text = "stack \"g\" {\n  gcp {\n    project = \"p\"\n    zones   = [\"us-east5-b\"]\n  }\n}\n\ngpu_node \"n\" {\n  zone         = \"us-east5-b\"\n  machine_type = \"g2-standard-4\"\n  accelerator {\n    type  = \"nvidia-l4\"\n    count = 1\n  }\n  boot_disk {\n    size_gb = 100\n  }\n}\n";
    let dir = stack_dir(&[("main.gantry.hcl", text)]);
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.args(["plan", "."]).current_dir(dir.path()).env("HOME", home.path()).env("NO_COLOR", "1");
    for k in ["GANTRY_GCP_ENDPOINT", "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "GCE_METADATA_HOST"] {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(stderr.contains("gcloud auth application-default login") && !stderr.contains("AWS"), "{stderr}");
}

/// `*.auto.vars.hcl` / `*.auto.vars.json` in the stack directory are always
/// read (before -var-file); JSON var files work anywhere a var file does.
#[test]
fn auto_loaded_and_json_var_files() {
    let text = format!(
        "{STACK}\nvariable \"n\" {{\n  type = number\n}}\n\nvariable \"tags\" {{\n  type    = map(string)\n  default = {{}}\n}}\n\necr_repository \"r\" {{\n  count = var.n\n  name  = \"r-${{count.index}}\"\n  tags  = var.tags\n}}\n"
    );
    let dir = stack_dir(&[
        ("main.gantry.hcl", &text),
        ("a.auto.vars.hcl", "n = 2\n"),
        ("b.auto.vars.json", "{\"tags\": {\"team\": \"ml\"}}\n"),
        ("prod.json", "{\n  \"n\": 5\n}\n"),
        ("bad.json", "{\n  \"n\": \"many\"\n}\n"),
    ]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("3 resource(s)"), "n = 2 from the auto file (plus the cache repository): {}", r.all());
    let r = gantry(&["validate", ".", "-var-file=prod.json"], &[], dir.path());
    assert!(r.stdout.contains("6 resource(s)"), "-var-file beats the auto file: {}", r.all());
    let r = gantry(&["validate", ".", "-var-file", "bad.json"], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("bad.json:2:3") && r.stderr.contains("invalid value for variable \"n\""), "{}", r.all());
}
