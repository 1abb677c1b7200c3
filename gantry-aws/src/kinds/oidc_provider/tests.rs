//! Driver tests against the in-memory IAM (computed thumbprints, ARNs).

use super::fake::{FakeIam, ACCOUNT, COMPUTED};
use super::{GithubOidcProvider, OidcDriver};
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use serde_json::{json, Value};
use std::sync::Arc;

const ARN: &str = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

fn env() -> Env {
    Env {
        stack: "ml".into(),
        region: "us-west-2".into(),
        account_id: ACCOUNT.into(),
        dir: ".".into(),
        regions: vec![],
        gcp_project: String::new(),
        gcp_project_number: String::new(),
        workspace: "default".into(),
    }
}

fn attrs(extra: Value) -> State {
    let mut v = json!({"url": "https://token.actions.githubusercontent.com", "client_ids": [], "tags": {"team": "infra"}});
    for (k, val) in extra.as_object().cloned().unwrap_or_default() {
        v[k] = val;
    }
    v.as_object().cloned().unwrap()
}

fn owner() -> Owner {
    Owner { stack: "ml".into(), address: "github_oidc_provider.github".into(), protect: false, notes: None }
}

fn scope() -> ReadScope {
    ReadScope { stack: "ml".into(), owner: "ml".into(), identities: vec![], regions: vec![], zones: vec![] }
}

fn driver() -> (Arc<FakeIam>, OidcDriver) {
    let fake = Arc::new(FakeIam::default());
    (fake.clone(), OidcDriver::new(fake))
}

#[tokio::test]
async fn a_provider_without_thumbprints_accepts_the_one_iam_computes() {
    let (fake, d) = driver();
    let desired = GithubOidcProvider.block(&attrs(json!({}))).desired_state(&env());
    d.create(&desired, &owner()).await.unwrap();
    assert_eq!(fake.provider(ARN).unwrap().thumbprints, [COMPUTED]);
    let live = d.read(&scope()).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].owner_address.as_deref(), Some("github_oidc_provider.github"));
    let changes = diff_fields(GithubOidcProvider.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "{changes:?}");
}

#[tokio::test]
async fn client_ids_thumbprints_and_tags_update_in_place() {
    let (fake, d) = driver();
    d.create(&GithubOidcProvider.block(&attrs(json!({}))).desired_state(&env()), &owner()).await.unwrap();
    let after = GithubOidcProvider
        .block(&attrs(
            json!({"client_ids": ["sts.amazonaws.com", "https://github.com/org"], "thumbprints": ["ABCDEF0123456789ABCDEF0123456789ABCDEF01"], "tags": {}}),
        ))
        .desired_state(&env());
    let live = d.read(&scope()).await.unwrap().remove(0);
    let changed: Vec<String> = diff_fields(GithubOidcProvider.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed, ["client_ids", "thumbprints", "tags"]);
    d.update(&after, &live, &changed, &owner()).await.unwrap();
    let live = d.read(&scope()).await.unwrap().remove(0);
    assert!(diff_fields(GithubOidcProvider.fields(), &after, &live.state).is_empty());
    let tags = fake.provider(ARN).unwrap().tags;
    assert_eq!(tags.keys().map(String::as_str).collect::<Vec<_>>(), ["gantry:address", "gantry:stack"], "the stale user tag is removed, ownership kept");
}

#[tokio::test]
async fn clearing_thumbprints_is_refused_with_the_way_out_and_delete_is_idempotent() {
    let (fake, d) = driver();
    d.create(&GithubOidcProvider.block(&attrs(json!({"thumbprints": [COMPUTED]}))).desired_state(&env()), &owner()).await.unwrap();
    let live = d.read(&scope()).await.unwrap().remove(0);
    let mut cleared = GithubOidcProvider.block(&attrs(json!({}))).desired_state(&env());
    cleared.insert("thumbprints".into(), json!([]));
    let e = d.update(&cleared, &live, &["thumbprints".into()], &owner()).await.unwrap_err();
    assert!(e.message.contains("cannot clear"), "{e}");
    d.delete(&live).await.unwrap();
    assert!(fake.provider(ARN).is_none());
    d.delete(&live).await.unwrap();
}
