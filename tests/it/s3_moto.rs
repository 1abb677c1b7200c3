//! S3 buckets end to end on moto, through the real CLI: a bucket with a
//! public prefix, versioning, a lifecycle rule and a policy file is
//! created, re-plans empty, is closed again, and is destroyed with the
//! object versions it holds (force_delete); a name used in another region
//! is refused at plan.

use crate::support::{gantry, s3_client, s3_client_in, stack_dir, Moto};
use aws_sdk_s3::primitives::ByteStream;

const STACK: &str = r#"
stack "bk" {
  aws { region = "us-west-2" }
}

s3_bucket "models" {
  name                 = "bk-models-1"
  versioning           = true
  force_delete         = true
  policy_file          = "policy.json"
  public_read_prefixes = ["models/"]
  public_access_block {
    block_public_policy     = false
    restrict_public_buckets = false
  }
  lifecycle_rule {
    id                           = "old-versions"
    noncurrent_expire_after_days = 30
  }
  tags = { team = "ml" }
}
"#;

const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Uploads", "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::123456789012:role/uploader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bk-models-1/metadata/*"}]}"#;

#[test]
fn a_bucket_lives_and_dies_on_moto() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK), ("policy.json", POLICY)]);
    let d = dir.path().to_str().unwrap();

    // Opening a bucket to anyone is broadening: refused without review.
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.all().contains("anyone may now s3:getobject on arn:aws:s3:::bk-models-1/models/*"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan after apply must be empty: {}", r.all());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = rt.block_on(s3_client(&moto));
    rt.block_on(async {
        let pab = s3.get_public_access_block().bucket("bk-models-1").send().await.unwrap();
        assert_eq!(pab.public_access_block_configuration().and_then(|c| c.block_public_acls()), Some(true));
        let policy = s3.get_bucket_policy().bucket("bk-models-1").send().await.unwrap();
        assert!(policy.policy().unwrap().contains("GantryPublicRead"), "{policy:?}");
        // Two versions of one key: destroy must delete both.
        for body in ["v1", "v2"] {
            s3.put_object().bucket("bk-models-1").key("models/eos1/model.zip").body(ByteStream::from_static(body.as_bytes())).send().await.unwrap();
        }
    });

    // Closed again: the public statement and the switches go, nothing else moves.
    let closed = STACK
        .replace("  public_read_prefixes = [\"models/\"]\n", "")
        .replace("  public_access_block {\n    block_public_policy     = false\n    restrict_public_buckets = false\n  }\n", "");
    std::fs::write(dir.path().join("main.gantry.hcl"), &closed).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("s3_bucket.models will be updated in place") && r.stdout.contains("block_public_policy     = false -> true"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "closing needs no review: {}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let gone = rt.block_on(s3.head_bucket().bucket("bk-models-1").send());
    assert!(gone.is_err(), "the bucket is deleted with its versions");
    let r = gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn a_name_this_account_uses_in_another_region_is_refused_at_plan() {
    let moto = Moto::start_plain();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // us-east-1 takes no location constraint.
    rt.block_on(async { s3_client_in(&moto, "us-east-1").await.create_bucket().bucket("bk-east").send().await.unwrap() });
    let dir = stack_dir(&[("main.gantry.hcl", "stack \"bk\" {\n  aws { region = \"us-west-2\" }\n}\n\ns3_bucket \"east\" {\n  name = \"bk-east\"\n}\n")]);
    let r = gantry(&["plan", dir.path().to_str().unwrap()], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("bucket \"bk-east\" exists in us-east-1, not in us-west-2"), "{}", r.all());
}
