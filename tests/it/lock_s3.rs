//! The S3 lock for CI on moto: a conditional PUT wins once, others are told
//! who holds it, stale locks are reported, force-unlock removes it.

use crate::support::{gantry, s3_client, stack_dir, Moto};
use gantry::cloud::s3::S3Object;
use gantry::engine::s3_lock::{S3Lock, S3LockConfig};
use std::sync::Arc;

const STACK: &str = r#"stack "locked" {
  aws { region = "us-west-2" }
  backend "s3" {
    bucket = "ci-locks"
  }
}

ecr_repository "cache" {}
"#;

#[test]
fn s3_lock_serialises_applies_and_can_be_forced() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = rt.block_on(s3_client(&moto));
    rt.block_on(async {
        s3.create_bucket()
            .bucket("ci-locks")
            .create_bucket_configuration(aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint("us-west-2".into()).build())
            .send()
            .await
            .unwrap();
    });
    let lock = S3Lock::new(Arc::new(S3Object::new(s3.clone(), S3LockConfig { bucket: "ci-locks".into(), key: "gantry/locked/lock".into() })));
    let held = rt.block_on(lock.acquire("apply")).unwrap();
    // A second taker loses the conditional PUT.
    assert!(rt.block_on(lock.acquire("apply")).is_err());

    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("the stack is locked by") && r.stderr.contains(&held.id), "{}", r.all());
    assert!(!r.stderr.contains("looks stale"), "{}", r.all());

    let r = gantry(&["force-unlock", "not-the-id", "."], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    let r = gantry(&["force-unlock", &held.id, "."], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(rt.block_on(lock.read()).unwrap().is_none(), "apply releases the lock");

    // A lock hours old is reported as probably stale.
    let mut old = gantry::engine::lock::LockInfo::new("apply");
    old.created = humantime::format_rfc3339_seconds(std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600)).to_string();
    rt.block_on(async {
        s3.put_object().bucket("ci-locks").key("gantry/locked/lock").body(serde_json::to_vec(&old).unwrap().into()).send().await.unwrap();
    });
    let r = gantry(&["apply", ".", "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("looks stale"), "{}", r.all());
}
