//! Guards every Terraform user relies on: a saved plan is applied only with
//! the account and the gantry it was made with, and `aws {
//! allowed_account_ids }` keeps a stack out of every other account. The
//! other account is real to moto: credentials from STS AssumeRole into it.

use crate::support::{gantry, stack_dir, Moto};

const STACK: &str = r#"stack "guarded" {
  aws { region = "us-west-2" }
}

ecr_repository "cache" {}
"#;

/// Environment for credentials of `account` (moto issues keys that belong
/// to the account of the assumed role).
fn other_account_env(moto: &Moto, account: &str) -> Vec<(&'static str, String)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let creds = rt.block_on(async {
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-west-2"))
            .endpoint_url(&moto.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new("testing", "testing", None, None, "test"))
            .build();
        let out = aws_sdk_sts::Client::from_conf(conf)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/deployer"))
            .role_session_name("plan-safety")
            .send()
            .await
            .unwrap();
        out.credentials.unwrap()
    });
    let mut env: Vec<(&'static str, String)> = moto.env().into_iter().filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET")).collect();
    env.push(("AWS_ACCESS_KEY_ID", creds.access_key_id().to_string()));
    env.push(("AWS_SECRET_ACCESS_KEY", creds.secret_access_key().to_string()));
    env.push(("AWS_SESSION_TOKEN", creds.session_token().to_string()));
    env
}

#[test]
fn a_saved_plan_is_refused_in_another_account_and_by_another_gantry() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let r = gantry(&["plan", ".", "-out", "p.plan"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let other = other_account_env(&moto, "222233334444");
    let r = gantry(&["apply", "p.plan"], &other, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("made for AWS account 123456789012, but the credentials in use are for 222233334444"), "{}", r.all());

    let text = std::fs::read_to_string(dir.path().join("p.plan")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plan["plan"]["gantry_version"], env!("CARGO_PKG_VERSION"));
    plan["plan"]["gantry_version"] = serde_json::json!("0.0.1");
    std::fs::write(dir.path().join("old.plan"), serde_json::to_string(&plan).unwrap()).unwrap();
    let r = gantry(&["apply", "old.plan"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("made by gantry 0.0.1"), "{}", r.all());

    // With the plan's own account and gantry it applies.
    let r = gantry(&["apply", "p.plan"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn allowed_account_ids_keep_a_stack_out_of_other_accounts() {
    let moto = Moto::start();
    let guarded =
        STACK.replace("aws { region = \"us-west-2\" }", "aws {\n    region              = \"us-west-2\"\n    allowed_account_ids = [\"123456789012\"]\n  }");
    let dir = stack_dir(&[("main.gantry.hcl", &guarded)]);
    let r = gantry(&["plan", "."], &moto.env(), dir.path());
    assert_eq!(r.code, 0, "the allowed account plans: {}", r.all());
    let r = gantry(&["apply", ".", "--auto-approve"], &other_account_env(&moto, "222233334444"), dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("AWS account 222233334444, which the stack does not allow"), "{}", r.all());
    assert!(!r.stdout.contains("will be created"), "nothing was planned: {}", r.all());

    let bad = STACK.replace("aws { region = \"us-west-2\" }", "aws {\n    region              = \"us-west-2\"\n    allowed_account_ids = [\"12345\"]\n  }");
    let dir = stack_dir(&[("main.gantry.hcl", &bad)]);
    let r = gantry(&["validate", "."], &[], dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("\"12345\" is not a 12-digit AWS account id"), "{}", r.all());
}

/// A saved plan records its stack's directory absolutely: applied from
/// anywhere, it takes (and respects) that stack's lock.
#[test]
fn a_saved_plan_applied_elsewhere_takes_its_stacks_lock() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let r = gantry(&["plan", ".", "-out", "p.plan"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    // Another apply holds the stack's lock.
    std::fs::create_dir_all(dir.path().join(".gantry")).unwrap();
    let held = r#"{"id": "0123456789abcdef", "operation": "apply", "pid": 1, "host": "ci-7", "user": "ci", "created": "2099-01-01T00:00:00Z"}"#;
    std::fs::write(dir.path().join(".gantry/lock"), held).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("p.plan");
    let r = gantry(&["apply", plan_file.to_str().unwrap()], &env, elsewhere.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("the stack is locked by ci (pid 1 on ci-7"), "{}", r.all());
    assert!(!elsewhere.path().join(".gantry").exists(), "no lock taken in the working directory");
}
