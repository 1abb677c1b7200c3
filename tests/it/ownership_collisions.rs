//! Owners never collide: stack `ow` in workspace `dev` and a stack named
//! `ow-dev` are two owners (stack and workspace are two tags, never one
//! joined name); Google Cloud stacks `GC` and `gc` are two owners (the
//! exact owner is in metadata: label values are lowercase). Neither plans
//! the other's resources away, and a name both want is refused, never
//! adopted or replaced.

use crate::support::{ecr_client, gantry, stack_dir, Moto};
use gantry_emulators::gcp::FakeGcp;

fn aws_stack(name: &str, repos: &[&str]) -> String {
    let mut s = format!("stack \"{name}\" {{\n  aws {{ region = \"us-west-2\" }}\n}}\n");
    for r in repos {
        s.push_str(&format!("\necr_repository \"{r}\" {{\n  name = \"{r}\"\n}}\n"));
    }
    s
}

#[test]
fn a_workspace_and_a_stack_named_like_it_are_two_owners() {
    let moto = Moto::start();
    let env = moto.env();
    let ws = stack_dir(&[("main.gantry.hcl", &aws_stack("ow", &["ws-repo"]))]);
    let named = stack_dir(&[("main.gantry.hcl", &aws_stack("ow-dev", &["named-repo"]))]);
    let (w, n) = (ws.path().to_str().unwrap(), named.path().to_str().unwrap());
    let r = gantry(&["apply", n, "--auto-approve"], &env, named.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["apply", w, "--auto-approve", "--workspace", "dev"], &env, ws.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 added, 0 changed, 0 destroyed"), "the other stack's repository is not this one's: {}", r.all());
    let r = gantry(&["plan", n, "--detailed-exitcode"], &env, named.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let tags = rt.block_on(async {
        let ecr = ecr_client(&moto).await;
        let arn = ecr.describe_repositories().repository_names("ws-repo").send().await.unwrap().repositories()[0].repository_arn().unwrap().to_string();
        let out = ecr.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
        out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect::<std::collections::BTreeMap<_, _>>()
    });
    assert_eq!(tags.get("gantry:stack").map(String::as_str), Some("ow"), "{tags:?}");
    assert_eq!(tags.get("gantry:workspace").map(String::as_str), Some("dev"), "{tags:?}");

    // Both want one name: the second is refused (the first keeps it).
    std::fs::write(ws.path().join("main.gantry.hcl"), aws_stack("ow", &["ws-repo", "named-repo"])).unwrap();
    let r = gantry(&["plan", w, "--workspace", "dev"], &env, ws.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("named-repo") && r.stderr.contains("ow-dev"), "{}", r.all());
    // Destroying one leaves the other's.
    let r = gantry(&["destroy", w, "--auto-approve", "--workspace", "dev"], &env, ws.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("0 added, 0 changed, 1 destroyed"), "{}", r.all());
    let r = gantry(&["plan", n, "--detailed-exitcode"], &env, named.path());
    assert_eq!(r.code, 0, "named-repo survived: {}", r.all());
    eprintln!("ownership collisions refused: 1/1 (and 0 foreign deletions)");
}

fn gcp_stack(name: &str, node: &str) -> String {
    format!(
        r#"stack "{name}" {{
  gcp {{ project = "ci-project" }}
}}

tpu_node "n" {{
  name             = "{node}"
  zone             = "us-east5-b"
  accelerator_type = "v6e-1"
  runtime_version  = "v2-alpha-tpuv6e"
}}
"#
    )
}

#[test]
fn google_cloud_stacks_differing_in_case_are_two_owners() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gcp = rt.block_on(FakeGcp::start(0)).unwrap();
    let env = vec![("GANTRY_GCP_ENDPOINT", gcp.endpoint())];
    let upper = stack_dir(&[("main.gantry.hcl", &gcp_stack("GC", "node-upper"))]);
    let lower = stack_dir(&[("main.gantry.hcl", &gcp_stack("gc", "node-lower"))]);
    let (u, l) = (upper.path().to_str().unwrap(), lower.path().to_str().unwrap());
    let r = gantry(&["apply", u, "--auto-approve"], &env, upper.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["apply", l, "--auto-approve"], &env, lower.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 added, 0 changed, 0 destroyed"), "GC's node is not gc's: {}", r.all());
    for (d, p) in [(u, upper.path()), (l, lower.path())] {
        let r = gantry(&["plan", d, "--detailed-exitcode"], &env, p);
        assert_eq!(r.code, 0, "{}", r.all());
    }
    // One name both want: refused for the second.
    std::fs::write(lower.path().join("main.gantry.hcl"), gcp_stack("gc", "node-upper")).unwrap();
    let r = gantry(&["plan", l], &env, lower.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("node-upper") && r.stderr.contains("GC"), "{}", r.all());
    let r = gantry(&["destroy", u, "--auto-approve"], &env, upper.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 destroyed"), "{}", r.all());
    std::fs::write(lower.path().join("main.gantry.hcl"), gcp_stack("gc", "node-lower")).unwrap();
    let r = gantry(&["plan", l, "--detailed-exitcode"], &env, lower.path());
    assert_eq!(r.code, 0, "gc's node survived GC's destroy: {}", r.all());
}
