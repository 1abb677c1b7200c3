//! Pure checks and desired state, and driver tests against the in-memory
//! IAM (URL-encoded documents, path ARNs, delete conflicts).

use super::fake::FakeIam;
use super::*;
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::engine::diff::diff_fields;
use serde_json::{json, Value};
use std::sync::Arc;

fn attrs(v: Value) -> State {
    v.as_object().unwrap().clone()
}

fn env() -> Env {
    Env {
        stack: "ci".into(),
        region: "eu-central-1".into(),
        account_id: "123456789012".into(),
        dir: ".".into(),
        regions: vec![],
        gcp_project: String::new(),
        gcp_project_number: String::new(),
        workspace: "default".into(),
    }
}

fn base() -> State {
    attrs(json!({
        "name": "ecr-push", "description": "", "max_session_duration": "1h", "managed_policy_arns": [], "tags": {}, "policy_files": [],
        "provider": {"arn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", "host": "token.actions.githubusercontent.com"},
        "allow": [{"repo": "acme/mlops", "branches": ["main"], "tags": [], "environments": [], "pull_request": false, "workflow_refs": []}]
    }))
}

#[test]
fn checks() {
    assert!(CiRole.block(&base()).check().is_empty());
    let mut a = base();
    a.insert("allow".into(), json!([{"repo": "acme"}]));
    a.insert("max_session_duration".into(), json!("13h"));
    let p: Vec<_> = CiRole.block(&a).check().into_iter().map(|p| p.attr).collect();
    assert_eq!(p, vec!["allow", "max_session_duration"]);
    let mut a = base();
    a.remove("provider");
    assert_eq!(CiRole.block(&a).check()[0].attr, "provider");
}

#[test]
fn workflow_refs_name_one_workflow_and_removing_them_is_broadening() {
    let with = |refs: Value| {
        let mut a = base();
        a["allow"][0]["workflow_refs"] = refs;
        a
    };
    let good = with(json!(["acme/ci/.github/workflows/push.yml@refs/heads/main"]));
    assert!(CiRole.block(&good).check().is_empty());
    for bad in ["acme/ci/.github/workflows/*@refs/heads/main", "push.yml@refs/heads/main", "acme/ci/.github/workflows/push.yml", "acme/ci/workflows/push.yml@x"]
    {
        let p: Vec<_> = CiRole.block(&with(json!([bad]))).check().into_iter().map(|p| p.attr).collect();
        assert_eq!(p, ["allow.workflow_refs"], "{bad}");
    }
    // Dropping the workflow lets every workflow of the branch assume: the review must see it.
    let narrow = CiRole.block(&good).desired_state(&env());
    let wide = CiRole.block(&base()).desired_state(&env());
    assert!(!CiRole.broadening(Some(&narrow), &wide).is_empty(), "removing workflow_refs widens who may assume");
}

#[test]
fn desired_state_and_outputs() {
    let s = CiRole.block(&base()).desired_state(&env());
    assert_eq!(s["path"], "/gantry/ci/");
    assert_eq!(s["max_session_duration"], 3600);
    assert_eq!(CiRole.block(&base()).outputs(&base(), &env())["arn"], "arn:aws:iam::123456789012:role/gantry/ci/ecr-push");
    assert!(CiRole.block(&base()).lint(&env()).is_empty());
}

#[test]
fn broadening_lists_new_assumers_and_grants() {
    let before = CiRole.block(&base()).desired_state(&env());
    let mut wider = base();
    wider["allow"][0]["branches"] = json!(["main", "*", "dev"]);
    wider.insert(
        "policy_files".into(),
        json!([{"name": "p", "file": "p.json", "document": {"Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "arn:r"}]}}]),
    );
    let after = CiRole.block(&wider).desired_state(&env());
    let b = CiRole.broadening(Some(&before), &after);
    assert_eq!(
        b,
        vec![
            "may now be assumed by repo:acme/mlops:ref:refs/heads/*, repo:acme/mlops:ref:refs/heads/dev (via arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com)",
            "may now ecr:putimage on arn:r"
        ]
    );
    assert!(CiRole.broadening(Some(&before), &before).is_empty());
}

fn owner() -> Owner {
    Owner { stack: "ci".into(), address: "ci_role.ecr_push".into(), protect: false, notes: None }
}

fn scope(identities: &[&str]) -> ReadScope {
    ReadScope { stack: "ci".into(), owner: "ci".into(), identities: identities.iter().map(|s| s.to_string()).collect(), regions: vec![], zones: vec![] }
}

fn with_policy(mut a: State, action: &str) -> State {
    // Written as a user would: key order and single-item lists IAM normalises away.
    a.insert(
        "policy_files".into(),
        json!([{"name": "push", "file": "push.json", "document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": action, "Resource": "arn:aws:ecr:eu-central-1:123456789012:repository/cache"}}}]),
    );
    a
}

fn driver() -> (Arc<FakeIam>, RoleDriver) {
    let fake = Arc::new(FakeIam::default());
    (fake.clone(), RoleDriver::new(fake))
}

#[tokio::test]
async fn a_created_role_reads_back_url_encoded_with_nothing_to_change() {
    let (fake, d) = driver();
    let mut a = with_policy(base(), "ecr:PutImage");
    a.insert("managed_policy_arns".into(), json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]));
    let desired = CiRole.block(&a).desired_state(&env());
    d.create(&desired, &owner()).await.unwrap();
    assert!(fake.role("ecr-push").unwrap().info.trust_document.unwrap().starts_with("%7B"), "IAM answers documents URL-encoded");
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].state["arn"], "arn:aws:iam::123456789012:role/gantry/ci/ecr-push");
    assert_eq!(live[0].owner_address.as_deref(), Some("ci_role.ecr_push"));
    let changes = diff_fields(CiRole.fields(), &desired, &live[0].state);
    assert!(changes.is_empty(), "{changes:?}");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_carries_on_only_for_our_own_role() {
    let (fake, d) = driver();
    let desired = CiRole.block(&with_policy(base(), "ecr:PutImage")).desired_state(&env());
    d.create(&desired, &owner()).await.unwrap();
    // The SDK's retry meets the role the first request made: ours by its tags, so the create carries on.
    d.create(&desired, &owner()).await.unwrap();
    assert_eq!(fake.role("ecr-push").unwrap().inline.len(), 1);
    // Someone else's role of that name is still refused.
    let other = Owner { address: "ci_role.other".into(), ..owner() };
    let e = d.create(&desired, &other).await.unwrap_err();
    assert!(e.message.contains("EntityAlreadyExists") && e.message.contains("not tagged as this block's"), "{e}");
}

#[tokio::test]
async fn policies_trust_and_settings_change_in_place() {
    let (_, d) = driver();
    d.create(&CiRole.block(&with_policy(base(), "ecr:PutImage")).desired_state(&env()), &owner()).await.unwrap();
    let mut a = with_policy(base(), "ecr:BatchGetImage");
    a["allow"][0]["branches"] = json!(["main", "release"]);
    a.insert("description".into(), json!("pushes images"));
    a.insert("permissions_boundary".into(), json!("arn:aws:iam::123456789012:policy/boundary"));
    a.insert("tags".into(), json!({"team": "ml"}));
    let after = CiRole.block(&a).desired_state(&env());
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    let changed: Vec<String> = diff_fields(CiRole.fields(), &after, &live.state).into_iter().map(|c| c.name).collect();
    assert_eq!(changed.len(), 5, "{changed:?}");
    d.update(&after, &live, &changed, &owner()).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    assert!(diff_fields(CiRole.fields(), &after, &live.state).is_empty());
}

#[tokio::test]
async fn deleting_empties_the_role_first_and_an_absent_role_is_done() {
    let (fake, d) = driver();
    let mut a = with_policy(base(), "ecr:PutImage");
    a.insert("managed_policy_arns".into(), json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"]));
    d.create(&CiRole.block(&a).desired_state(&env()), &owner()).await.unwrap();
    fake.add_to_profile("ecr-push", "runner-profile");
    let live = d.read(&scope(&[])).await.unwrap().remove(0);
    d.delete(&live).await.unwrap();
    assert!(fake.role("ecr-push").is_none());
    d.delete(&live).await.unwrap();
}

#[tokio::test]
async fn a_named_role_of_another_owner_is_read_for_the_clash_check() {
    let (fake, d) = driver();
    let mut other = CiRole.block(&base()).desired_state(&env());
    other.insert("path".into(), json!("/"));
    d.create(&other, &Owner { stack: "someone-else".into(), address: "x".into(), protect: false, notes: None }).await.unwrap();
    assert!(d.read(&scope(&[])).await.unwrap().is_empty(), "outside our path and not named");
    let live = d.read(&scope(&["ecr-push"])).await.unwrap();
    assert_eq!(live[0].owner_stack.as_deref(), Some("someone-else"));
    assert!(fake.role("ecr-push").is_some());
}

/// Many repositories, each named: one `sub` each, every new one a
/// broadening line, and a trust policy IAM would refuse caught at validate.
#[test]
fn many_repositories_are_each_named_and_the_trust_policy_fits_iam() {
    let rule = |repos: Vec<String>| json!([{"repos": repos, "branches": ["main"], "tags": [], "environments": [], "pull_request": false, "workflow_refs": []}]);
    let names = |n: usize| (0..n).map(|i| format!("ersilia-os/eos{i:04}")).collect::<Vec<_>>();
    let mut a = base();
    a.insert("allow".into(), rule(names(3)));
    assert!(CiRole.block(&a).check().is_empty(), "{:?}", CiRole.block(&a).check());
    let doc = trust_policy(&crate::core::read_spec(&CiRole, &a).unwrap());
    let subs = &doc["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"];
    assert_eq!(
        subs,
        &json!(["repo:ersilia-os/eos0000:ref:refs/heads/main", "repo:ersilia-os/eos0001:ref:refs/heads/main", "repo:ersilia-os/eos0002:ref:refs/heads/main"])
    );
    // One repository more: the plan names it as broadening.
    let before = CiRole.block(&a).desired_state(&env());
    let mut grown = a.clone();
    grown.insert("allow".into(), rule(names(4)));
    let lines = CiRole.broadening(Some(&before), &CiRole.block(&grown).desired_state(&env()));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("repo:ersilia-os/eos0003:ref:refs/heads/main"), "{lines:?}");
    // 60 repositories do not fit IAM's default 2048 characters; with the quota raised they do.
    grown.insert("allow".into(), rule(names(60)));
    let problems: Vec<String> = CiRole.block(&grown).check().into_iter().map(|p| p.message).collect();
    assert!(problems.iter().any(|p| p.contains("IAM takes 2048")), "{problems:?}");
    grown.insert("trust_policy_quota".into(), json!(4096));
    assert!(CiRole.block(&grown).check().is_empty(), "{:?}", CiRole.block(&grown).check());
    // A rule naming both, or an empty list, says so.
    a.insert("allow".into(), json!([{"repo": "acme/x", "repos": ["acme/y"]}]));
    assert!(CiRole.block(&a).check().iter().any(|p| p.message.contains("not both")));
    a.insert("allow".into(), json!([{"repos": []}]));
    assert!(CiRole.block(&a).check().iter().any(|p| p.message.contains("repos is empty")));
}
