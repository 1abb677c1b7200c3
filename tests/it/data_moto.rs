//! `data` blocks on moto: lookups of what a stack does not own, read at
//! plan time and never changed.

use crate::support::{ec2_call, ecr_client, gantry, iam_client, put_token, s3_client, stack_dir, xml_text, Moto};

const SHARED: &str = r#"stack "account-github-oidc" {
  aws { region = "us-west-2" }
}

github_oidc_provider "github" {}
"#;

const TEAM: &str = r#"stack "team" {
  aws { region = "us-west-2" }
}

data "github_oidc_provider" "github" {}

ci_role "push" {
  provider = data.github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
  }
  policy_files = []
}
"#;

#[test]
fn stacks_share_the_provider_another_stack_owns() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("shared/main.gantry.hcl", SHARED), ("team/main.gantry.hcl", TEAM)]);
    let (shared, team) = (dir.path().join("shared"), dir.path().join("team"));
    let (shared, team) = (shared.to_str().unwrap(), team.to_str().unwrap());

    // Before the provider exists, the lookup fails at the data block, and nothing is planned.
    let r = gantry(&["plan", team], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("data.github_oidc_provider.github: no IAM OIDC provider for token.actions.githubusercontent.com"), "{}", r.all());
    assert!(r.stderr.contains("main.gantry.hcl:5:1"), "the error points at the data block: {}", r.all());

    let r = gantry(&["apply", shared, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["apply", team, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 added"), "only the role is created: {}", r.all());
    for d in [team, shared] {
        let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
        assert_eq!(r.code, 0, "{d} re-plan must be empty: {}", r.all());
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let iam = rt.block_on(iam_client(&moto));
    let role = rt.block_on(iam.get_role().role_name("team-push").send());
    let role = role.map(|o| o.role.unwrap()).or_else(|_| {
        let roles = rt.block_on(iam.list_roles().send()).unwrap();
        roles.roles.into_iter().find(|r| r.role_name.contains("push")).ok_or("no role")
    });
    let trust = percent_encoding::percent_decode_str(role.unwrap().assume_role_policy_document().unwrap()).decode_utf8().unwrap().to_string();
    assert!(trust.contains(":oidc-provider/token.actions.githubusercontent.com"), "{trust}");

    // Destroying the stack that only looked the provider up leaves it in place.
    let r = gantry(&["destroy", team, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("1 destroyed"), "{}", r.all());
    let r = gantry(&["plan", shared, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "the provider is untouched: {}", r.all());
}

const LOOKUPS: &str = r#"stack "lookups" {
  aws { region = "us-west-2" }
}

variable "bucket" {
  type    = string
  default = "team-artifacts"
}

data "vpc" "ci" {
  tags = { Name = "ci-vpc" }
}

data "subnets" "private" {
  vpc_id = data.vpc.ci.id
  tags   = { tier = "private" }
}

data "s3_bucket" "artifacts" {
  bucket = var.bucket
}

data "ecr_repository" "base" {
  name = "platform/base"
}

data "iam_role" "boundary_owner" {
  name = "platform-admin"
}

ci_role "upload" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
  }
  policy_files = ["upload.json"]
  policy_vars = {
    bucket = data.s3_bucket.artifacts.arn
    base   = data.ecr_repository.base.arn
  }
  description = "uploads (admin: ${data.iam_role.boundary_owner.arn})"
}

github_oidc_provider "github" {}

agent_queue "cpu" {
  instance_types        = ["c7i.2xlarge"]
  max_size              = 2
  image_ssm_parameter   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  agent_token_parameter = "/bk/token"
  vpc_id                = data.vpc.ci.id
  subnets               = data.subnets.private.ids
}
"#;

const UPLOAD: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${policy.bucket}/uploads/*"},
    {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "${policy.base}"}
  ]
}
"#;

#[test]
fn network_storage_and_identity_lookups_feed_the_plan() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ec2 = |action: &str, params: &[(&str, &str)]| rt.block_on(ec2_call(&moto, "us-west-2", action, params));
    let tagged = |kind: &'static str, key: &'static str, value: &'static str| {
        [("TagSpecification.1.ResourceType", kind), ("TagSpecification.1.Tag.1.Key", key), ("TagSpecification.1.Tag.1.Value", value)]
    };
    let vpc_id = xml_text(&ec2("CreateVpc", &[&[("CidrBlock", "10.40.0.0/16")][..], &tagged("vpc", "Name", "ci-vpc")].concat()), "vpcId");
    let mut private = Vec::new();
    for (cidr, zone, tier) in [("10.40.2.0/24", "us-west-2b", "private"), ("10.40.1.0/24", "us-west-2a", "private"), ("10.40.3.0/24", "us-west-2a", "public")] {
        let params = [&[("VpcId", vpc_id.as_str()), ("CidrBlock", cidr), ("AvailabilityZone", zone)][..], &tagged("subnet", "tier", tier)].concat();
        let id = xml_text(&ec2("CreateSubnet", &params), "subnetId");
        if tier == "private" {
            private.push(id);
        }
    }
    private.sort();
    let s3 = rt.block_on(s3_client(&moto));
    let loc = aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2).build();
    rt.block_on(s3.create_bucket().bucket("team-artifacts").create_bucket_configuration(loc).send()).unwrap();
    let ecr = rt.block_on(ecr_client(&moto));
    rt.block_on(ecr.create_repository().repository_name("platform/base").send()).unwrap();
    let iam = rt.block_on(iam_client(&moto));
    rt.block_on(
        iam.create_role().role_name("platform-admin").path("/platform/").assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#).send(),
    )
    .unwrap();
    rt.block_on(put_token(&moto, "us-west-2", "/bk/token"));

    let dir = stack_dir(&[("main.gantry.hcl", LOOKUPS), ("upload.json", UPLOAD)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["validate", d], &[], dir.path());
    assert_eq!(r.code, 0, "validate reads nothing and checks the rest: {}", r.all());

    let r = gantry(&["plan", d, "--json"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let text = plan.to_string();
    assert!(text.contains("arn:aws:s3:::team-artifacts/uploads/*"), "the bucket's ARN reaches the policy: {text}");
    assert!(text.contains("arn:aws:ecr:us-west-2:123456789012:repository/platform/base"), "{text}");
    assert!(text.contains("arn:aws:iam::123456789012:role/platform/platform-admin"), "{text}");
    for s in &private {
        assert!(text.contains(s.as_str()), "queue subnets come from the lookup ({s}): {text}");
    }
    let adds: Vec<&str> = plan["changes"].as_array().unwrap().iter().map(|c| c["address"].as_str().unwrap()).collect();
    assert_eq!(adds, ["agent_queue.cpu", "ci_role.upload", "github_oidc_provider.github"], "data blocks are never changes");

    // A lookup that matches nothing says what it looked for, at the block.
    let broken = LOOKUPS.replace("tier = \"private\"", "tier = \"isolated\"");
    std::fs::write(dir.path().join("main.gantry.hcl"), broken).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains(&format!("data.subnets.private: no subnet in us-west-2 in {vpc_id} tagged tier=isolated")), "{}", r.all());
    assert_eq!(r.stderr.matches("error:").count(), 1, "one problem, one diagnostic: {}", r.all());
}
