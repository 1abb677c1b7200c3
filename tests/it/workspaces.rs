//! One directory, two environments: `--workspace` (or GANTRY_WORKSPACE)
//! makes the stack `<label>-<workspace>`, so dev and prod own their own
//! resources, derive their own names and never plan over each other.

use crate::support::{gantry, put_token, stack_dir, Moto};

const STACK: &str = r#"stack "ml" {
  aws { region = "us-west-2" }
}

ecr_repository "cache" {
  name = "${stack.workspace}/cache"
}

agent_queue "cpu" {
  instance_types        = ["c7i.large"]
  max_size              = 2
  image_id              = "ami-12c6146b"
  agent_token_parameter = "/bk/token"
  tags                  = { env = stack.workspace }
}
"#;

#[test]
fn one_directory_serves_two_environments() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    for ws in ["dev", "prod"] {
        let r = gantry(&["apply", d, "--auto-approve", "-workspace", ws], &env, dir.path());
        assert_eq!(r.code, 0, "{ws}: {}", r.all());
        assert!(r.stdout.contains(&format!("stack \"ml-{ws}\"")) && r.stdout.contains("2 added"), "{ws}: {}", r.all());
    }
    // Each environment sees only its own resources, and nothing to do.
    for ws in ["dev", "prod"] {
        let mut e = env.clone();
        e.push(("GANTRY_WORKSPACE", ws.to_string()));
        let r = gantry(&["plan", d, "--detailed-exitcode"], &e, dir.path());
        assert_eq!(r.code, 0, "{ws}: {}", r.all());
    }
    let names: Vec<String> = rt.block_on(async {
        let ecr = crate::support::ecr_client(&moto).await;
        ecr.describe_repositories().send().await.unwrap().repositories().iter().filter_map(|r| r.repository_name().map(String::from)).collect()
    });
    assert!(names.contains(&"dev/cache".to_string()) && names.contains(&"prod/cache".to_string()), "{names:?}");
    // Destroying dev leaves prod alone.
    let r = gantry(&["destroy", d, "--auto-approve", "--workspace", "dev"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("2 destroyed"), "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode", "--workspace", "prod"], &env, dir.path());
    assert_eq!(r.code, 0, "prod untouched: {}", r.all());
    // The default workspace is the bare label, and a bad name is refused.
    let r = gantry(&["plan", d, "--workspace", "Prod_1"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("invalid workspace \"Prod_1\""), "{}", r.all());
}
