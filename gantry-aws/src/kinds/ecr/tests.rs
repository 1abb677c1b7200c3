//! Pure checks, and driver tests against the in-memory ECR (service-side ARNs, reformatted
//! policies, non-empty repositories).

use super::fake::FakeEcr;
use super::{valid_name, EcrDriver, EcrRepository};
use crate::core::error::ErrorClass;
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use serde_json::{json, Value};
use std::sync::Arc;

fn env() -> Env {
    Env {
        stack: "ml".into(),
        region: "us-west-2".into(),
        account_id: "123456789012".into(),
        dir: ".".into(),
        regions: vec![],
        gcp_project: String::new(),
        gcp_project_number: String::new(),
        workspace: "default".into(),
    }
}

/// Attributes as the loader hands them over (defaults applied).
fn attrs(name: &str, extra: Value) -> State {
    let mut v = json!({"name": name, "image_tag_mutability": "IMMUTABLE", "scan_on_push": true, "encryption": "AES256", "force_delete": false,
                       "tags": {"team": "ml"}, "lifecycle_policy": {"expire_untagged_after_days": 7}});
    for (k, val) in extra.as_object().cloned().unwrap_or_default() {
        v[k] = val;
    }
    v.as_object().cloned().unwrap()
}

fn owner(name: &str) -> Owner {
    Owner { stack: "ml".into(), address: format!("ecr_repository.{name}"), protect: false, notes: None }
}

fn scope(identities: &[&str]) -> ReadScope {
    ReadScope { stack: "ml".into(), owner: "ml".into(), identities: identities.iter().map(|s| s.to_string()).collect(), regions: vec![], zones: vec![] }
}

fn driver() -> (Arc<FakeEcr>, EcrDriver) {
    let fake = Arc::new(FakeEcr::default());
    (fake.clone(), EcrDriver::new(fake))
}

fn policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})
}

#[tokio::test]
async fn a_created_repository_reads_back_with_nothing_to_change() {
    let (_, d) = driver();
    let desired = EcrRepository.block(&attrs("cache", json!({"repository_policy_file": policy()}))).desired_state(&env());
    d.create(&desired, &owner("cache")).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].owner_address.as_deref(), Some("ecr_repository.cache"));
    assert_eq!(live[0].state["arn"], "arn:aws:ecr:us-west-2:123456789012:repository/cache");
    let changes = diff_fields(EcrRepository.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "a reformatted policy is the same policy: {changes:?}");
}

#[tokio::test]
async fn repositories_of_others_cost_one_tag_read_unless_named() {
    let (fake, d) = driver();
    fake.seed("theirs");
    fake.seed("adopt-me");
    let live = d.read(&scope(&["adopt-me"])).await.unwrap();
    assert_eq!(live.iter().map(|l| l.identity.as_str()).collect::<Vec<_>>(), ["adopt-me"]);
    assert_eq!(live[0].owner_stack, None);
    let theirs: Vec<String> = fake.calls().into_iter().filter(|c| c.ends_with(" theirs")).collect();
    assert_eq!(theirs, ["ListTagsForResource theirs"], "no policy reads for a repository that is neither ours nor named");
}

#[tokio::test]
async fn tag_updates_remove_stale_keys_and_keep_ownership() {
    let (fake, d) = driver();
    d.create(&EcrRepository.block(&attrs("cache", json!({"force_delete": true}))).desired_state(&env()), &owner("cache")).await.unwrap();
    let after = EcrRepository.block(&attrs("cache", json!({"tags": {"owner": "infra"}}))).desired_state(&env());
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    let changed: Vec<String> = diff_fields(EcrRepository.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed, ["force_delete", "tags"]);
    d.update(&after, &live, &changed, &owner("cache")).await.unwrap();
    let tags = fake.tags_of("cache");
    assert_eq!(tags.keys().map(String::as_str).collect::<Vec<_>>(), ["gantry:address", "gantry:stack", "owner"]);
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    assert!(diff_fields(EcrRepository.fields(), &after, &live.state).is_empty());
}

#[tokio::test]
async fn policies_set_and_removed_in_place() {
    let (_, d) = driver();
    let before = EcrRepository.block(&attrs("cache", json!({}))).desired_state(&env());
    d.create(&before, &owner("cache")).await.unwrap();
    for want in [json!({"repository_policy_file": policy(), "lifecycle_policy": null}), json!({})] {
        let mut a = attrs("cache", json!({}));
        for (k, v) in want.as_object().unwrap() {
            if v.is_null() {
                a.remove(k);
            } else {
                a.insert(k.clone(), v.clone());
            }
        }
        let after = EcrRepository.block(&a).desired_state(&env());
        let live = d.read(&scope(&[])).await.unwrap().remove(0);
        let changed: Vec<String> = diff_fields(EcrRepository.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
        assert!(!changed.is_empty());
        d.update(&after, &live, &changed, &owner("cache")).await.unwrap();
        let live = d.read(&scope(&[])).await.unwrap().remove(0);
        assert!(diff_fields(EcrRepository.fields(), &after, &live.state).is_empty(), "{changed:?}");
    }
}

#[tokio::test]
async fn a_repository_with_images_is_kept_unless_force_delete_was_recorded() {
    let (fake, d) = driver();
    d.create(&EcrRepository.block(&attrs("cache", json!({}))).desired_state(&env()), &owner("cache")).await.unwrap();
    fake.push_images("cache", 3);
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    let e = d.delete(&live).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(e.message.contains("set force_delete = true"), "{e}");
    let mut forced = live.clone();
    forced.state.insert("force_delete".into(), json!(true));
    d.delete(&forced).await.unwrap();
    d.delete(&forced).await.unwrap();
}

#[test]
fn names() {
    assert!(valid_name("vllm-ci/test-cache"));
    assert!(valid_name("a.b_c-d"));
    assert!(!valid_name("Upper"));
    assert!(!valid_name("a--"));
    assert!(!valid_name("x"));
    assert!(!valid_name("/lead"));
}

#[test]
fn desired_state_renders_lifecycle_and_defaults() {
    let mut attrs = State::new();
    attrs.insert("name".into(), json!("cache"));
    attrs.insert("image_tag_mutability".into(), json!("IMMUTABLE"));
    attrs.insert("scan_on_push".into(), json!(true));
    attrs.insert("encryption".into(), json!("AES256"));
    attrs.insert("force_delete".into(), json!(false));
    attrs.insert("tags".into(), json!({}));
    attrs.insert("lifecycle_policy".into(), json!({"expire_untagged_after_days": 7}));
    let env = Env { stack: "s".into(), ..env() };
    let s = EcrRepository.block(&attrs).desired_state(&env);
    assert_eq!(s["lifecycle_policy"]["rules"][0]["selection"]["countNumber"], 7);
    assert_eq!(s["kms_key"], Value::Null);
    let o = EcrRepository.block(&attrs).outputs(&attrs, &env);
    assert_eq!(o["arn"], "arn:aws:ecr:us-west-2:123456789012:repository/cache");
}

#[test]
fn checks_catch_bad_combinations() {
    let mut attrs = State::new();
    attrs.insert("name".into(), json!("Bad_Name"));
    attrs.insert("encryption".into(), json!("AES256"));
    attrs.insert("kms_key".into(), json!("arn:aws:kms:..."));
    attrs.insert("tags".into(), json!({"gantry:stack": "x"}));
    let p = EcrRepository.block(&attrs).check();
    let names: Vec<_> = p.iter().map(|p| p.attr.as_str()).collect();
    assert_eq!(names, vec!["name", "kms_key", "tags"]);
}
