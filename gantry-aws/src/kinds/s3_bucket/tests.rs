//! Pure checks, and driver tests against the in-memory S3 (global names,
//! Block Public Access on by default, public policies refused while it is
//! on, non-empty buckets).

use super::fake::{FakeS3, REGION};
use super::{name_problem, S3Bucket, S3Driver};
use crate::core::error::ErrorClass;
use crate::core::{Action, AttrChange, Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use serde_json::{json, Value};
use std::sync::Arc;

fn env() -> Env {
    Env { stack: "ml".into(), region: REGION.into(), account_id: "123456789012".into(), dir: ".".into(), workspace: "default".into(), ..Env::default() }
}

/// Attributes as the loader hands them over (defaults applied).
fn attrs(name: &str, extra: Value) -> State {
    let mut v = json!({"name": name, "versioning": false, "encryption": "AES256", "public_read_prefixes": [], "force_delete": false, "tags": {"team": "ml"},
                       "public_access_block": {"block_public_acls": true, "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true}});
    for (k, val) in extra.as_object().cloned().unwrap_or_default() {
        v[k] = val;
    }
    v.as_object().cloned().unwrap()
}

fn public(name: &str) -> State {
    attrs(
        name,
        json!({"public_read_prefixes": ["models/"],
               "public_access_block": {"block_public_acls": true, "ignore_public_acls": true, "block_public_policy": false, "restrict_public_buckets": false}}),
    )
}

fn owner(name: &str) -> Owner {
    Owner { stack: "ml".into(), address: format!("s3_bucket.{name}"), protect: false, notes: None }
}

fn scope(identities: &[&str]) -> ReadScope {
    ReadScope { stack: "ml".into(), owner: "ml".into(), identities: identities.iter().map(|s| s.to_string()).collect(), regions: vec![], zones: vec![] }
}

fn driver() -> (Arc<FakeS3>, S3Driver) {
    let fake = Arc::new(FakeS3::default());
    (fake.clone(), S3Driver::new(fake, REGION.into()))
}

fn problems(a: &State) -> Vec<String> {
    S3Bucket.block(a).check().into_iter().map(|p| p.message).collect()
}

#[test]
fn bucket_names_follow_s3_rules() {
    for ok in ["ersilia-models", "a.b-c", "abc"] {
        assert_eq!(name_problem(ok), None, "{ok}");
    }
    for bad in ["ab", "Upper", "-lead", "trail-", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", "under_score"] {
        assert!(name_problem(bad).is_some(), "{bad}");
    }
}

#[test]
fn a_public_prefix_is_an_explicit_choice() {
    // Public read with the switches left on: refused, saying what to write.
    let mut a = attrs("b-1", json!({"public_read_prefixes": ["models/"]}));
    assert!(problems(&a).iter().any(|p| p.contains("block_public_policy = false")), "{:?}", problems(&a));
    // The whole bucket is not a prefix.
    a = public("b-1");
    a.insert("public_read_prefixes".into(), json!(["*"]));
    assert!(problems(&a).iter().any(|p| p.contains("whole bucket")), "{:?}", problems(&a));
    assert!(problems(&public("b-1")).is_empty(), "{:?}", problems(&public("b-1")));
    assert!(problems(&attrs("b-1", json!({"kms_key": "alias/x"}))).iter().any(|p| p.contains("aws:kms")));
    let no_expiry = attrs("b-1", json!({"lifecycle_rule": [{"id": "r", "prefix": ""}]}));
    assert!(problems(&no_expiry).iter().any(|p| p.contains("needs an expiry")));
}

#[test]
fn opening_a_bucket_is_broadening_and_closing_it_is_not() {
    let closed = S3Bucket.block(&attrs("b-1", json!({}))).desired_state(&env());
    let open = S3Bucket.block(&public("b-1")).desired_state(&env());
    let lines = S3Bucket.broadening(Some(&closed), &open);
    assert!(lines.iter().any(|l| l.starts_with("anyone may now s3:getobject on arn:aws:s3:::b-1/models/*")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("block_public_policy turned off")), "{lines:?}");
    assert!(S3Bucket.broadening(Some(&open), &closed).is_empty());
    assert!(S3Bucket.broadening(None, &closed).is_empty(), "a new, private bucket widens nothing");
    assert!(!S3Bucket.broadening(None, &open).is_empty(), "a new public bucket is reviewed");
}

#[test]
fn suspending_versioning_says_what_it_keeps() {
    let desired = S3Bucket.block(&attrs("b-1", json!({}))).desired_state(&env());
    let change = AttrChange {
        name: "versioning".into(),
        before: json!(true),
        after: json!(false),
        forces_replacement: false,
        sensitive: false,
        known_after_apply: false,
    };
    let notes = S3Bucket.change_notes(Action::Update, &[change], &desired);
    assert!(notes.iter().any(|n| n.contains("suspended, not removed")), "{notes:?}");
}

#[tokio::test]
async fn a_created_bucket_reads_back_with_nothing_to_change() {
    let (fake, d) = driver();
    let a = public("models-1");
    let mut a = a;
    a.insert("versioning".into(), json!(true));
    a.insert("lifecycle_rule".into(), json!([{"id": "old", "prefix": "", "noncurrent_expire_after_days": 30}]));
    let desired = S3Bucket.block(&a).desired_state(&env());
    // The public policy is put after Block Public Access is relaxed (S3 refuses it before).
    d.create(&desired, &owner("models-1")).await.unwrap();
    let calls = fake.calls();
    let pab = calls.iter().position(|c| c.starts_with("PutPublicAccessBlock")).unwrap();
    let policy = calls.iter().position(|c| c.starts_with("PutBucketPolicy")).unwrap();
    assert!(pab < policy, "{calls:?}");
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].owner_address.as_deref(), Some("s3_bucket.models-1"));
    // A private bucket is created without a policy call at all.
    let private = S3Bucket.block(&attrs("private-1", json!({}))).desired_state(&env());
    d.create(&private, &owner("private-1")).await.unwrap();
    assert!(!fake.calls().iter().any(|c| c.ends_with("BucketPolicy private-1")), "{:?}", fake.calls());
    let changes = diff_fields(S3Bucket.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "{changes:?}");
    let live = d.read(&scope(&[])).await.unwrap();
    let private_live = live.iter().find(|l| l.identity == "private-1").unwrap();
    assert!(diff_fields(S3Bucket.fields(), &private, &private_live.state).is_empty());
}

#[tokio::test]
async fn closing_a_public_bucket_removes_the_policy_before_blocking() {
    let (fake, d) = driver();
    let open = S3Bucket.block(&public("m-2")).desired_state(&env());
    d.create(&open, &owner("m-2")).await.unwrap();
    let live = d.read(&scope(&["m-2"])).await.unwrap().remove(0);
    let closed = S3Bucket.block(&attrs("m-2", json!({}))).desired_state(&env());
    let changed: Vec<String> = diff_fields(S3Bucket.fields(), &closed, &live.state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed, ["public_access_block", "policy"]);
    d.update(&closed, &live, &changed, &owner("m-2")).await.unwrap();
    let again = d.read(&scope(&["m-2"])).await.unwrap().remove(0);
    assert!(diff_fields(S3Bucket.fields(), &closed, &again.state).is_empty());
    let calls = fake.calls();
    let del = calls.iter().position(|c| c.starts_with("DeleteBucketPolicy")).unwrap();
    let pab = calls.iter().rposition(|c| c.starts_with("PutPublicAccessBlock")).unwrap();
    assert!(del < pab, "{calls:?}");
}

#[tokio::test]
async fn global_names_are_checked_before_anything_is_created() {
    let (fake, d) = driver();
    fake.seed("taken-name", REGION, false);
    fake.seed("in-east", "us-east-1", true);
    let desired = |n: &str| (format!("s3_bucket.{n}"), S3Bucket.block(&attrs(n, json!({}))).desired_state(&env()));
    let problems = d.preflight(&[desired("taken-name"), desired("in-east"), desired("free-name")]).await.unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().any(|p| p.message.contains("another AWS account")), "{problems:?}");
    assert!(problems.iter().any(|p| p.address == "s3_bucket.in-east" && p.message.contains("exists in us-east-1")), "{problems:?}");
    // Another account's bucket is not listed, so it is never read as ours.
    assert!(d.read(&scope(&["taken-name"])).await.unwrap().is_empty());
}

#[tokio::test]
async fn only_a_bucket_that_records_force_delete_is_emptied() {
    let (fake, d) = driver();
    let desired = S3Bucket.block(&attrs("full-1", json!({}))).desired_state(&env());
    d.create(&desired, &owner("full-1")).await.unwrap();
    fake.put_objects("full-1", 3);
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    let e = d.delete(&live).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(e.message.contains("force_delete = true"), "{e}");
    let forced = S3Bucket.block(&attrs("full-1", json!({"force_delete": true}))).desired_state(&env());
    d.update(&forced, &live, &["force_delete".into()], &owner("full-1")).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    assert_eq!(live.state["force_delete"], true);
    d.delete(&live).await.unwrap();
    assert_eq!(fake.objects("full-1"), None);
}

#[tokio::test]
async fn an_unowned_bucket_of_the_same_name_is_not_carried_on() {
    let (fake, d) = driver();
    fake.seed("mine-untagged", REGION, true);
    let desired = S3Bucket.block(&attrs("mine-untagged", json!({}))).desired_state(&env());
    let e = d.create(&desired, &owner("mine-untagged")).await.unwrap_err();
    assert!(e.message.contains("not tagged as this block's"), "{e}");
}
