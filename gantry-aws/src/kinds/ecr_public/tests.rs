//! Pure checks, and driver tests against the emulated ECR Public.

use super::fake::FakeEcrPublic;
use super::{EcrPublicDriver, EcrPublicRepository};
use crate::core::error::ErrorClass;
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use serde_json::{json, Value};
use std::sync::Arc;

fn env() -> Env {
    Env { stack: "llm".into(), region: "eu-west-1".into(), account_id: "123456789012".into(), dir: ".".into(), workspace: "default".into(), ..Env::default() }
}

fn attrs(extra: Value) -> State {
    let mut v = json!({"name": "bentoml/openllm", "description": "OpenLLM images", "architectures": ["x86-64"], "operating_systems": ["Linux"],
                       "force_delete": false, "tags": {"team": "llm"}});
    for (k, val) in extra.as_object().cloned().unwrap_or_default() {
        v[k] = val;
    }
    v.as_object().cloned().unwrap()
}

fn owner() -> Owner {
    Owner { stack: "llm".into(), address: "ecr_public_repository.openllm".into(), protect: false, notes: None }
}

fn scope(identities: &[&str]) -> ReadScope {
    ReadScope { stack: "llm".into(), owner: "llm".into(), identities: identities.iter().map(|s| s.to_string()).collect(), regions: vec![], zones: vec![] }
}

fn driver() -> (Arc<FakeEcrPublic>, EcrPublicDriver) {
    let fake = Arc::new(FakeEcrPublic::default());
    (fake.clone(), EcrPublicDriver::new(fake))
}

#[test]
fn catalog_data_is_checked_against_what_the_gallery_shows() {
    let problems = |a: &State| EcrPublicRepository.block(a).check().into_iter().map(|p| format!("{}: {}", p.attr, p.message)).collect::<Vec<_>>();
    assert!(problems(&attrs(json!({}))).is_empty());
    assert!(problems(&attrs(json!({"architectures": ["amd64"]}))).iter().any(|p| p.starts_with("architectures: \"amd64\"")));
    assert!(problems(&attrs(json!({"description": "x".repeat(1025)}))).iter().any(|p| p.starts_with("description: at most 1024")));
    assert!(problems(&attrs(json!({"name": "BentoML/OpenLLM"}))).iter().any(|p| p.starts_with("name:")));
}

#[test]
fn a_policy_letting_anyone_push_is_refused_and_widening() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["ecr-public:PutImage"]}]});
    let a = attrs(json!({"repository_policy_file": doc}));
    let rules: Vec<&str> = EcrPublicRepository.block(&a).lint(&env()).iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["GANTRY-REPO-001", "GANTRY-REPO-002"]);
    let before = EcrPublicRepository.block(&attrs(json!({}))).desired_state(&env());
    let after = EcrPublicRepository.block(&a).desired_state(&env());
    assert!(!EcrPublicRepository.broadening(Some(&before), &after).is_empty());
}

#[tokio::test]
async fn a_created_repository_reads_back_with_nothing_to_change() {
    let (_, d) = driver();
    let desired = EcrPublicRepository.block(&attrs(json!({"about_text": "## OpenLLM"}))).desired_state(&env());
    d.create(&desired, &owner()).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].state["arn"], "arn:aws:ecr-public::123456789012:repository/bentoml/openllm");
    assert!(diff_fields(EcrPublicRepository.fields(), &desired, &live[0].state).is_empty());
    // A field taken out of the block is cleared, not left behind.
    let trimmed = EcrPublicRepository.block(&attrs(json!({}))).desired_state(&env());
    let changed: Vec<String> = diff_fields(EcrPublicRepository.fields(), &trimmed, &live[0].state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed, ["catalog"]);
    d.update(&trimmed, &live[0], &changed, &owner()).await.unwrap();
    let again = d.read(&scope(&[])).await.unwrap();
    assert!(diff_fields(EcrPublicRepository.fields(), &trimmed, &again[0].state).is_empty());
}

#[tokio::test]
async fn a_repository_with_images_needs_force_delete_recorded_on_it() {
    let (fake, d) = driver();
    let desired = EcrPublicRepository.block(&attrs(json!({}))).desired_state(&env());
    d.create(&desired, &owner()).await.unwrap();
    fake.registry.lock().unwrap().push_images("bentoml/openllm", 2);
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    let e = d.delete(&live).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    let forced = EcrPublicRepository.block(&attrs(json!({"force_delete": true}))).desired_state(&env());
    d.update(&forced, &live, &["force_delete".into()], &owner()).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    d.delete(&live).await.unwrap();
    assert!(d.read(&scope(&["bentoml/openllm"])).await.unwrap().is_empty());
}

#[tokio::test]
async fn another_stacks_repository_is_not_read_unless_named() {
    let (fake, d) = driver();
    let other = Owner { stack: "someone-else".into(), ..owner() };
    d.create(&EcrPublicRepository.block(&attrs(json!({}))).desired_state(&env()), &other).await.unwrap();
    assert!(d.read(&scope(&[])).await.unwrap().is_empty());
    let named = d.read(&scope(&["bentoml/openllm"])).await.unwrap();
    assert_eq!(named[0].owner_stack.as_deref(), Some("someone-else"));
    // Its catalog and policy were not read for the unnamed listing.
    assert_eq!(fake.calls().iter().filter(|c| *c == "GetRepositoryCatalogData").count(), 1);
}
