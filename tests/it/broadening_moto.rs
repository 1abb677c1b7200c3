//! Broadening end to end on moto: each widening change the adversarial run
//! applied unreviewed (a public repository policy, port 22 from anywhere, a
//! managed policy and new actions on a queue's machines, a longer session,
//! a removed boundary) now shows in the plan's Broadening block and makes
//! `apply --auto-approve` exit 3 without `--allow-broadening`; narrowing
//! changes do not.

use crate::support::{gantry, put_token, stack_dir, Moto};

const STACK: &str = r#"stack "widen" {
  aws { region = "us-west-2" }
}

ecr_repository "cache" {
  name = "widen/cache"
  #REPO
}

agent_queue "cpu" {
  instance_types        = ["c7i.large"]
  max_size              = 2
  image_id              = "ami-12c6146b"
  agent_token_parameter = "/bk/token"
  instance_policies     = ["read.json"]
  #QUEUE
}

github_oidc_provider "github" {}

ci_role "push" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
  }
  policy_files         = ["read.json"]
  permissions_boundary = "arn:aws:iam::123456789012:policy/ci-boundary"
  #ROLE
}
"#;

const READ: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-cache/*"}]}"#;
const READ_WRITE: &str =
    r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::acme-cache/*"}]}"#;
const READ_OVER_TLS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-cache/*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}"#;
const PUBLIC: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}]}"#;

fn edited(repo: &str, queue: &str, role: &str) -> String {
    STACK.replace("  #REPO\n", repo).replace("  #QUEUE\n", queue).replace("  #ROLE\n", role)
}

#[test]
fn widening_changes_need_review_and_narrowing_ones_do_not() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));
    rt.block_on(async {
        let iam = crate::support::iam_client(&moto).await;
        let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
        iam.create_policy().policy_name("ci-boundary").policy_document(doc).send().await.unwrap();
    });
    let dir = stack_dir(&[
        ("main.gantry.hcl", &edited("", "", "")),
        ("read.json", READ),
        ("rw.json", READ_WRITE),
        ("tls.json", READ_OVER_TLS),
        ("public.json", PUBLIC),
    ]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let widening: Vec<(&str, String, &str)> = vec![
        (
            "a public repository policy (its lint finding waived)",
            edited("  repository_policy_file = \"public.json\"\n  waive \"GANTRY-REPO-001\" {\n    reason = \"public base images\"\n  }\n", "", ""),
            "anyone may now ecr:batchgetimage on *",
        ),
        (
            "port 22 from anywhere",
            edited("", "  ingress {\n    port = 22\n    cidr = \"0.0.0.0/0\"\n  }\n", ""),
            "gains ingress tcp 22 from 0.0.0.0/0 (SecurityGroup)",
        ),
        (
            "a managed policy on the queue's machines",
            edited("", "  managed_policy_arns   = [\"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore\"]\n", ""),
            "gains managed policy arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore on InstanceRole",
        ),
        (
            "new actions on the queue's machines",
            edited("", "", "").replacen("instance_policies     = [\"read.json\"]", "instance_policies     = [\"rw.json\"]", 1),
            "InstanceRole may now s3:putobject on arn:aws:s3:::acme-cache/*",
        ),
        ("a session of 12h", edited("", "", "  max_session_duration = \"12h\"\n"), "max session duration grows from 1h to 12h"),
        (
            "the boundary removed",
            edited("", "", "").replace("  permissions_boundary = \"arn:aws:iam::123456789012:policy/ci-boundary\"\n", ""),
            "loses its permissions boundary",
        ),
    ];
    let mut flagged = 0;
    for (what, files, says) in &widening {
        std::fs::write(dir.path().join("main.gantry.hcl"), files).unwrap();
        let r = gantry(&["plan", d], &env, dir.path());
        assert_eq!(r.code, 0, "{what}: {}", r.all());
        let shown = r.stdout.contains("Broadening") && r.stdout.contains(says);
        assert!(shown, "{what}: {}", r.all());
        let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
        assert_eq!(r.code, 3, "{what}: applied without review: {}", r.all());
        flagged += usize::from(shown);
    }
    // Narrowing: the role's grant under a condition — an update, no review needed.
    std::fs::write(
        dir.path().join("main.gantry.hcl"),
        edited("", "", "").replace("  policy_files         = [\"read.json\"]", "  policy_files         = [\"tls.json\"]"),
    )
    .unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("~ ci_role") || r.stdout.contains("will be updated"), "{}", r.all());
    assert!(!r.stdout.contains("Broadening"), "narrowing is not broadening: {}", r.all());
    eprintln!("broadening corpus (moto): widening flagged {flagged}/{}, narrowing flagged 0/1", widening.len());
}
