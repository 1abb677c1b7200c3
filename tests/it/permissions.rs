//! The shipped least-privilege policies (`policies/gantry-plan.json`,
//! `policies/gantry-apply.json`) cover what gantry really calls. The calls
//! are not listed by hand: a stack with every AWS kind (and the S3 lock) is
//! planned, applied, changed, re-planned and destroyed on moto, and `-v`
//! reports every (service, operation) the SDK sent. CloudFormation creates
//! the queue's resources with the caller's permissions, so the resource
//! types in the generated template are checked too, through a table that
//! fails when the template gains a type it does not know.

use crate::support::{gantry, put_token, stack_dir, Moto};
use serde_json::Value;
use std::collections::BTreeSet;

const STACK: &str = r#"stack "perm" {
  aws { region = "us-west-2" }
  backend "s3" {
    bucket = "gantry-locks"
  }
}

# Data sources read what exists (set up below); their reads need the plan policy too.
data "vpc" "default" {
  default = true
}

data "subnets" "default" {
  vpc_id = data.vpc.default.id
}

data "s3_bucket" "locks" {
  bucket = "gantry-locks"
}

data "ecr_repository" "base" {
  name = "platform/base"
}

data "iam_role" "admin" {
  name = "platform-admin"
}

ecr_repository "images" {
  lifecycle_policy {
    expire_untagged_after_days = 7
  }
  repository_policy_file = "policy.json"
  tags                   = { team = "ml" }
}

ecr_public_repository "public" {
  name          = "perm/public"
  description   = "images anyone may pull"
  architectures = ["x86-64"]
}

s3_bucket "artifacts" {
  name         = "perm-artifacts-1"
  versioning   = true
  force_delete = true
  lifecycle_rule {
    id                = "tmp"
    prefix            = "tmp/"
    expire_after_days = 7
  }
}

github_oidc_provider "github" {}

ci_role "push" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/ml"
    branches = ["main"]
  }
  policy_files = ["push.json"]
  policy_vars  = { repositories = [ecr_repository.images.arn] }
}

agent_queue "cpu" {
  instance_types        = ["c7i.large"]
  max_size              = 2
  image_ssm_parameter   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  agent_token_parameter = "/bk/token"
}

agent_queue "runners" {
  instance_types = ["c7i.large"]
  max_size       = 2
  github {
    repository  = "acme/ml"
    labels      = ["cpu"]
    credentials = "/gh/app"
  }
}
"#;

const REPO_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": ["ecr:BatchGetImage"]}]}"#;
const PUSH_POLICY: &str =
    r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": ${jsonencode(policy.repositories)}}]}"#;

/// IAM action for an SDK (service, operation), where the two differ.
fn iam_action(service: &str, op: &str) -> Option<String> {
    let prefix = service.to_ascii_lowercase().replace(' ', "");
    match (prefix.as_str(), op) {
        // Needs no permission: every principal may ask who it is.
        ("sts", "GetCallerIdentity") => None,
        // S3 authorizes HEAD as GET, and listing as ListBucket.
        ("s3", "HeadObject") => Some("s3:GetObject".into()),
        ("s3", "HeadBucket") => Some("s3:ListBucket".into()),
        ("s3", "ListObjectsV2") => Some("s3:ListBucket".into()),
        // Bucket settings: S3's actions are named after the resource, not the call.
        ("s3", "ListBuckets") => Some("s3:ListAllMyBuckets".into()),
        ("s3", "GetBucketEncryption") => Some("s3:GetEncryptionConfiguration".into()),
        ("s3", "PutBucketEncryption") => Some("s3:PutEncryptionConfiguration".into()),
        ("s3", "GetPublicAccessBlock") => Some("s3:GetBucketPublicAccessBlock".into()),
        ("s3", "PutPublicAccessBlock") => Some("s3:PutBucketPublicAccessBlock".into()),
        ("s3", "GetBucketLifecycleConfiguration") => Some("s3:GetLifecycleConfiguration".into()),
        ("s3", "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle") => Some("s3:PutLifecycleConfiguration".into()),
        ("s3", "ListObjectVersions") => Some("s3:ListBucketVersions".into()),
        ("s3", "DeleteObjects") => Some("s3:DeleteObjectVersion".into()),
        // ECR Public's actions are `ecr-public:…`.
        ("ecrpublic", op) => Some(format!("ecr-public:{op}")),
        // The Resource Groups Tagging API's actions are `tag:…`.
        ("resourcegroupstaggingapi", op) => Some(format!("tag:{op}")),
        _ => Some(format!("{prefix}:{op}")),
    }
}

/// Actions CloudFormation needs from the caller to create, update and
/// delete each resource type gantry's queue template uses (AWS resource
/// and property types reference, "required permissions" per handler).
fn cfn_type_actions(ty: &str) -> Option<&'static [&'static str]> {
    Some(match ty {
        "AWS::IAM::Role" => &[
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:ListRolePolicies",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:TagRole",
            "iam:UntagRole",
        ],
        "AWS::IAM::InstanceProfile" => &[
            "iam:CreateInstanceProfile",
            "iam:DeleteInstanceProfile",
            "iam:GetInstanceProfile",
            "iam:AddRoleToInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile",
        ],
        "AWS::EC2::SecurityGroup" => &[
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:DescribeSecurityGroups",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        "AWS::EC2::LaunchTemplate" => &[
            "ec2:CreateLaunchTemplate",
            "ec2:CreateLaunchTemplateVersion",
            "ec2:DeleteLaunchTemplate",
            "ec2:DescribeLaunchTemplates",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:ModifyLaunchTemplate",
            "ssm:GetParameters",
            "iam:PassRole",
        ],
        "AWS::AutoScaling::AutoScalingGroup" => &[
            "autoscaling:CreateAutoScalingGroup",
            "autoscaling:UpdateAutoScalingGroup",
            "autoscaling:DeleteAutoScalingGroup",
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeScalingActivities",
            // The termination lifecycle hook (LifecycleHookSpecificationList) is created and changed with the group.
            "autoscaling:PutLifecycleHook",
            "autoscaling:DeleteLifecycleHook",
            "autoscaling:DescribeLifecycleHooks",
            "autoscaling:CreateOrUpdateTags",
            "autoscaling:DeleteTags",
            "ec2:RunInstances",
            "ec2:DescribeLaunchTemplateVersions",
            "iam:CreateServiceLinkedRole",
            "iam:PassRole",
        ],
        "AWS::Events::Rule" => &["events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets"],
        _ => return None,
    })
}

/// Every action a policy file allows (exact names; gantry's policies use no wildcards).
fn allowed(file: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeSet::new();
    for st in doc["Statement"].as_array().expect("Statement list") {
        assert_eq!(st["Effect"], "Allow", "{file}: only Allow statements");
        match &st["Action"] {
            Value::String(a) => drop(out.insert(a.clone())),
            Value::Array(list) => out.extend(list.iter().map(|a| a.as_str().unwrap().to_string())),
            other => panic!("{file}: Action {other}"),
        }
    }
    assert!(out.iter().all(|a| !a.contains('*')), "{file}: no wildcard actions: {out:?}");
    out
}

/// (service, operation) pairs from `-v` output: lines "  SERVICE Op: N".
fn operations(stderr: &str) -> BTreeSet<(String, String)> {
    let mut in_stats = false;
    let mut out = BTreeSet::new();
    for line in stderr.lines() {
        if line.starts_with("API calls:") {
            in_stats = true;
            continue;
        }
        let Some(rest) = line.strip_prefix("  ").filter(|_| in_stats) else {
            in_stats = false;
            continue;
        };
        let Some((svc_op, _n)) = rest.rsplit_once(": ") else { continue };
        if let Some((svc, op)) = svc_op.rsplit_once(' ') {
            out.insert((svc.to_string(), op.to_string()));
        }
    }
    out
}

fn actions(ops: &BTreeSet<(String, String)>) -> BTreeSet<String> {
    ops.iter().filter_map(|(s, o)| iam_action(s, o)).collect()
}

#[test]
fn shipped_policies_allow_every_call_gantry_makes() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        put_token(&moto, "us-west-2", "/bk/token").await;
        for k in ["app_id", "installation_id", "private_key", "webhook_secret"] {
            put_token(&moto, "us-west-2", &format!("/gh/app/{k}")).await;
        }
        let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": "*"}]}"#;
        crate::support::iam_client(&moto).await.create_policy().policy_name("gantry-test-readonly").policy_document(doc).send().await.unwrap();
        let location = aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint("us-west-2".into()).build();
        crate::support::s3_client(&moto).await.create_bucket().bucket("gantry-locks").create_bucket_configuration(location).send().await.unwrap();
        crate::support::ecr_client(&moto).await.create_repository().repository_name("platform/base").send().await.unwrap();
        let trust = r#"{"Version": "2012-10-17", "Statement": []}"#;
        crate::support::iam_client(&moto).await.create_role().role_name("platform-admin").assume_role_policy_document(trust).send().await.unwrap();
    });
    let dir = stack_dir(&[("main.gantry.hcl", STACK), ("policy.json", REPO_POLICY), ("push.json", PUSH_POLICY)]);
    let d = dir.path().to_str().unwrap();
    let run = |args: &[&str], want: i32| {
        let mut all = vec!["-v"];
        all.extend_from_slice(args);
        let r = gantry(&all, &env, dir.path());
        assert_eq!(r.code, want, "{args:?}: {}", r.all());
        let ops = operations(&r.stderr);
        assert!(!ops.is_empty(), "{args:?} reported no calls: {}", r.all());
        (r, ops)
    };
    let mut plan_ops = BTreeSet::new();
    let mut apply_ops = BTreeSet::new();
    let (created, ops) = run(&["plan", d, "--detailed-exitcode", "--json"], 2);
    plan_ops.extend(ops);
    apply_ops.extend(run(&["apply", d, "--auto-approve", "--allow-broadening"], 0).1);
    // An object in the bucket, so destroy empties it (force_delete).
    rt.block_on(async {
        let body = aws_sdk_s3::primitives::ByteStream::from_static(b"x");
        crate::support::s3_client(&moto).await.put_object().bucket("perm-artifacts-1").key("tmp/a").body(body).send().await.unwrap();
    });
    // Every kind changes in place, through every update call it has.
    let changed = STACK
        .replace("  lifecycle_policy {\n    expire_untagged_after_days = 7\n  }\n  repository_policy_file = \"policy.json\"\n  tags                   = { team = \"ml\" }", "  image_tag_mutability = \"MUTABLE\"\n  scan_on_push         = false")
        // (moto has no AddClientIDToOpenIDConnectProvider: client ids stay.)
        .replace("github_oidc_provider \"github\" {}", "github_oidc_provider \"github\" {\n  tags = { team = \"ml\" }\n}")
        .replace("branches = [\"main\"]", "branches = [\"main\", \"release\"]")
        .replace("  policy_vars  = {", "  max_session_duration = \"2h\"\n  managed_policy_arns  = [\"arn:aws:iam::123456789012:policy/gantry-test-readonly\"]\n  tags                 = { team = \"ml\" }\n  policy_vars  = {")
        .replace("  max_size              = 2\n", "  max_size              = 3\n  scaler {\n    memory_mb = 256\n  }\n")
        .replace(
            "  versioning   = true\n",
            "  versioning   = false\n  encryption   = \"aws:kms\"\n  tags         = { team = \"ml\" }\n  public_read_prefixes = [\"pub/\"]\n  public_access_block {\n    block_public_policy     = false\n    restrict_public_buckets = false\n  }\n",
        )
        .replace("    prefix            = \"tmp/\"\n", "    prefix            = \"scratch/\"\n")
        .replace("  architectures = [\"x86-64\"]\n", "  architectures = [\"x86-64\", \"ARM 64\"]\n  tags          = { team = \"ml\" }\n");
    assert!(
        changed.contains("MUTABLE")
            && changed.contains("tags = { team")
            && changed.contains("release")
            && changed.contains("2h")
            && changed.contains("256")
            && changed.contains("pub/")
            && changed.contains("scratch/")
            && changed.contains("ARM 64"),
        "{changed}"
    );
    std::fs::write(dir.path().join("main.gantry.hcl"), &changed).unwrap();
    std::fs::write(dir.path().join("push.json"), PUSH_POLICY.replace("ecr:PutImage\"", "ecr:PutImage\", \"ecr:InitiateLayerUpload\"")).unwrap();
    plan_ops.extend(run(&["plan", d, "--detailed-exitcode", "--change-sets"], 2).1);
    apply_ops.extend(run(&["apply", d, "--auto-approve", "--allow-broadening"], 0).1);
    plan_ops.extend(run(&["plan", d, "--detailed-exitcode"], 0).1);
    apply_ops.extend(run(&["destroy", d, "--auto-approve"], 0).1);
    apply_ops.extend(plan_ops.iter().cloned());

    let plan_policy = allowed("gantry-plan.json");
    let apply_policy = allowed("gantry-apply.json");
    let missing: Vec<_> = actions(&plan_ops).into_iter().filter(|a| !plan_policy.contains(a)).collect();
    assert!(missing.is_empty(), "policies/gantry-plan.json misses {missing:?} (plan called {plan_ops:?})");
    let missing: Vec<_> = actions(&apply_ops).into_iter().filter(|a| !apply_policy.contains(a)).collect();
    assert!(missing.is_empty(), "policies/gantry-apply.json misses {missing:?} (apply called {apply_ops:?})");
    // The plan policy reads: nothing in it creates, changes or deletes a resource.
    let writes: Vec<_> = plan_policy
        .iter()
        .filter(|a| {
            let op = a.split(':').nth(1).unwrap_or_default();
            ["Create", "Delete", "Put", "Update", "Tag", "Untag", "Set", "Attach", "Detach", "Execute", "Add", "Remove"].iter().any(|w| op.starts_with(w))
        })
        .filter(|a| !PLAN_WRITES.contains(&a.as_str()))
        .collect();
    assert!(writes.is_empty(), "gantry-plan.json should only read: {writes:?}");

    // CloudFormation acts with the caller's permissions on the template's resources.
    let plan: Value = serde_json::from_str(&created.stdout).unwrap();
    let mut types = BTreeSet::new();
    for c in plan["changes"].as_array().unwrap().iter().filter(|c| c["kind"] == "agent_queue") {
        let template = c["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "template").expect("a new queue shows its template");
        types.extend(template["after"]["Resources"].as_object().unwrap().values().map(|r| r["Type"].as_str().unwrap().to_string()));
    }
    assert!(types.len() >= 5, "{types:?}");
    for ty in &types {
        let needed = cfn_type_actions(ty)
            .unwrap_or_else(|| panic!("the queue template now has {ty}: add its permissions to cfn_type_actions and policies/gantry-apply.json"));
        let missing: Vec<_> = needed.iter().filter(|a| !apply_policy.contains(**a)).collect();
        assert!(missing.is_empty(), "policies/gantry-apply.json misses {missing:?} for {ty}");
    }
}

/// Writes a plan may make: `--change-sets` creates a change set to preview
/// an update and deletes it again (no resource changes), and the lock.
const PLAN_WRITES: &[&str] = &["cloudformation:CreateChangeSet", "cloudformation:DeleteChangeSet", "s3:PutObject", "s3:DeleteObject"];

/// The quickstart's stacks, with the shipped policies as it tells you to
/// use them, pass validate and gantry's own security lint: the only waivers
/// are the apply role's wildcard-named resources (GANTRY-POLICY-002) and
/// its IAM writes (GANTRY-POLICY-007: it manages the CI roles).
#[test]
fn quickstart_stacks_validate_with_the_shipped_policies() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/quickstart.md")).unwrap();
    let blocks: Vec<&str> = doc.split("```hcl\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    assert_eq!(blocks.len(), 2, "the ci stack and the bootstrap stack");
    let apply = std::fs::read_to_string(root.join("policies/gantry-apply.json")).unwrap().replace("LOCK-BUCKET", "acme-gantry-locks");
    let plan = std::fs::read_to_string(root.join("policies/gantry-plan.json")).unwrap();
    let dir = stack_dir(&[
        ("stacks/ci/main.gantry.hcl", blocks[0]),
        ("stacks/bootstrap/main.gantry.hcl", blocks[1]),
        ("stacks/bootstrap/gantry-apply.json", &apply),
        ("policies/gantry-plan.json", &plan),
    ]);
    for stack in ["stacks/ci", "stacks/bootstrap"] {
        let r = gantry(&["validate", stack], &[], dir.path());
        assert_eq!(r.code, 0, "{stack}: {}", r.all());
        let waived: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("warning[")).collect();
        let expected: &[&str] = if stack == "stacks/bootstrap" { &["GANTRY-POLICY-002", "GANTRY-POLICY-007"] } else { &[] };
        let rules: std::collections::BTreeSet<&str> = waived.iter().filter_map(|l| l.strip_prefix("warning[")?.split(']').next()).collect();
        assert_eq!(rules.into_iter().collect::<Vec<_>>(), expected, "{stack}: {}", r.all());
    }
}
