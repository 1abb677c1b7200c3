use super::api::ServiceAccountApi;
use super::*;
use crate::cloud::gcp_iam::{Binding, Policy, ServiceAccount};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use crate::kinds::common::gcp::description_marker::{marker, read_marker, written_description};
use async_trait::async_trait;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// Accounts in memory, listed two per page (callers must follow tokens).
#[derive(Default)]
struct Fake {
    accounts: Mutex<Vec<ServiceAccount>>,
    /// Policies by email; a write must carry the etag of the last read.
    policies: Mutex<std::collections::BTreeMap<String, Policy>>,
    sets: Mutex<u32>,
}

#[async_trait]
impl ServiceAccountApi for Fake {
    fn project(&self) -> &str {
        "p"
    }
    async fn list(&self, token: &str) -> Result<(Vec<ServiceAccount>, String), ProviderError> {
        let all = self.accounts.lock().unwrap().clone();
        let start: usize = token.parse().unwrap_or(0);
        let next = if start + 2 < all.len() { (start + 2).to_string() } else { String::new() };
        Ok((all.into_iter().skip(start).take(2).collect(), next))
    }
    async fn create(&self, id: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError> {
        let email = email(id, "p");
        let mut all = self.accounts.lock().unwrap();
        if all.iter().any(|a| a.email == email) {
            return Err(ProviderError::google(ErrorClass::Conflict, "gcp-iam", "CreateServiceAccount", "ALREADY_EXISTS: exists"));
        }
        let sa = ServiceAccount { email, display_name: display_name.into(), description: description.into(), ..ServiceAccount::default() };
        all.push(sa.clone());
        Ok(sa)
    }
    async fn patch(&self, email: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError> {
        let mut all = self.accounts.lock().unwrap();
        let sa = all.iter_mut().find(|a| a.email == email).ok_or_else(|| ProviderError::google(ErrorClass::NotFound, "gcp-iam", "Patch", "gone"))?;
        sa.display_name = display_name.into();
        sa.description = description.into();
        Ok(sa.clone())
    }
    async fn delete(&self, email: &str) -> Result<(), ProviderError> {
        let mut all = self.accounts.lock().unwrap();
        let before = all.len();
        all.retain(|a| a.email != email);
        if all.len() == before {
            return Err(ProviderError::google(ErrorClass::NotFound, "gcp-iam", "Delete", "gone"));
        }
        self.policies.lock().unwrap().remove(email);
        Ok(())
    }
    async fn policy(&self, email: &str) -> Result<Policy, ProviderError> {
        Ok(self.policies.lock().unwrap().get(email).cloned().unwrap_or(Policy { etag: "ACAB".into(), ..Policy::default() }))
    }
    async fn set_policy(&self, email: &str, p: &Policy) -> Result<(), ProviderError> {
        let mut all = self.policies.lock().unwrap();
        let current = all.get(email).map(|p| p.etag.clone()).unwrap_or("ACAB".into());
        if p.etag != current {
            return Err(ProviderError::google(ErrorClass::Conflict, "gcp-iam", "SetIamPolicy", "ABORTED: concurrent policy changes"));
        }
        *self.sets.lock().unwrap() += 1;
        all.insert(email.into(), Policy { etag: format!("{current}x"), ..p.clone() });
        Ok(())
    }
}

fn owner(protect: bool) -> Owner {
    Owner { stack: "gpu@dev".into(), address: "gcp_service_account.waker[0]".into(), protect, notes: None }
}

fn scope(ids: &[&str]) -> ReadScope {
    ReadScope { stack: "gpu-dev".into(), owner: "gpu@dev".into(), identities: ids.iter().map(|s| s.to_string()).collect(), regions: vec![], zones: vec![] }
}

fn desired(id: &str, description: &str) -> State {
    GcpServiceAccount
        .block(
            &[("account_id".to_string(), json!(id)), ("display_name".into(), json!("Waker")), ("description".into(), json!(description))].into_iter().collect(),
        )
        .desired_state(&Env::default())
}

#[test]
fn the_ownership_marker_round_trips_and_hides_from_the_plan() {
    let o = owner(true);
    assert_eq!(marker(&o), "[gantry:gpu@dev gcp_service_account.waker[0] protected]");
    let (user, stack, address, protected) = read_marker(&written_description("Starts the runner [x]", &o));
    assert_eq!(
        (user.as_str(), stack.as_deref(), address.as_deref(), protected),
        ("Starts the runner [x]", Some("gpu@dev"), Some("gcp_service_account.waker[0]"), true)
    );
    assert_eq!(read_marker("someone's account"), ("someone's account".to_string(), None, None, false));
    assert_eq!(read_marker(&written_description("", &owner(false))).0, "");
}

#[test]
fn account_ids_and_lengths_are_checked_as_iam_does() {
    let check = |id: &str, d: &str| {
        GcpServiceAccount.block(&[("account_id".to_string(), json!(id)), ("description".into(), json!(d))].into_iter().collect()).check().len()
    };
    assert_eq!(check("gpu-ci-waker", ""), 0);
    assert_eq!(check("short", ""), 1, "at least 6");
    assert_eq!(check("Gpu-ci-waker", ""), 1);
    assert_eq!(check("gpu-ci-waker-", ""), 1);
    assert_eq!(check("gpu-ci-waker", &"d".repeat(181)), 1);
    assert_eq!(check("gpu-ci-waker", "x [gantry:other a]"), 1, "a forged marker");
    let a: State = [("account_id".to_string(), json!("gpu-ci-waker"))].into_iter().collect();
    let out = GcpServiceAccount.block(&a).outputs(&a, &Env { gcp_project: "proj".into(), ..Env::default() });
    assert_eq!(out["member"], json!("serviceAccount:gpu-ci-waker@proj.iam.gserviceaccount.com"));
}

#[tokio::test]
async fn accounts_are_created_read_updated_and_deleted_with_their_owner() {
    let fake = Arc::new(Fake::default());
    // Someone else's accounts, across pages, are not read.
    for id in ["other-one", "other-two", "other-three"] {
        fake.create(id, "", "theirs").await.unwrap();
    }
    let d = ServiceAccountDriver::new(fake.clone());
    d.create(&desired("gpu-ci-waker", "Starts the runner"), &owner(false)).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1, "found by its marker on the last page");
    assert_eq!(live[0].owner_stack.as_deref(), Some("gpu@dev"));
    assert_eq!(live[0].state["description"], json!("Starts the runner"), "the marker is not part of the compared state");
    assert_eq!(live[0].state["account_id"], desired("gpu-ci-waker", "")["account_id"]);
    // A name in the files is read even when unmarked (so a collision is seen).
    assert_eq!(d.read(&scope(&["other-two"])).await.unwrap().len(), 2);
    d.update(&desired("gpu-ci-waker", "Wakes it"), &live[0], &["description".into()], &owner(true)).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert!(live[0].protected && live[0].state["description"] == json!("Wakes it"));
    let e = d.create(&desired("other-one", ""), &owner(false)).await.unwrap_err();
    assert!(e.message.contains("gantry import") && e.message.contains("project p"), "{e}");
    d.delete(&live[0]).await.unwrap();
    d.delete(&live[0]).await.unwrap();
    assert!(d.read(&scope(&[])).await.unwrap().is_empty());
}

fn with_iam(id: &str, iam: serde_json::Value) -> State {
    let attrs: State = [("account_id".to_string(), json!(id)), ("iam_binding".into(), iam)].into_iter().collect();
    GcpServiceAccount.block(&attrs).desired_state(&Env::default())
}

#[tokio::test]
async fn the_iam_bindings_are_the_accounts_policy_written_with_its_etag() {
    let fake = Arc::new(Fake::default());
    let d = ServiceAccountDriver::new(fake.clone());
    let member = "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/github/attribute.repository/o/r";
    let want = with_iam("gpu-ci-waker", json!([{"role": "roles/iam.workloadIdentityUser", "members": [member]}]));
    d.create(&want, &owner(false)).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live[0].state["iam"], want["iam"], "read back as written");
    // A binding made by hand, and one under a condition.
    let email = live[0].state["email"].as_str().unwrap().to_string();
    {
        let mut all = fake.policies.lock().unwrap();
        let p = all.get_mut(&email).unwrap();
        p.bindings.push(Binding { role: "roles/iam.serviceAccountUser".into(), members: vec!["user:eve@example.com".into()], condition: None });
        p.bindings.push(Binding { role: "roles/x".into(), members: vec!["user:a@b.c".into()], condition: Some(json!({"title": "t", "expression": "true"})) });
    }
    let live = d.read(&scope(&[])).await.unwrap();
    assert_ne!(live[0].state["iam"], want["iam"], "the hand-made grant shows as a difference");
    assert_eq!(GcpServiceAccount.broadening(Some(&live[0].state), &want), Vec::<String>::new());
    let sets = *fake.sets.lock().unwrap();
    d.update(&want, &live[0], &["iam".into()], &owner(false)).await.unwrap();
    assert_eq!(*fake.sets.lock().unwrap(), sets + 1, "only the policy was written");
    let p = fake.policies.lock().unwrap().get(&email).cloned().unwrap();
    assert_eq!(p.bindings.len(), 2, "the hand-made grant is gone, the conditional one kept: {p:?}");
    assert_eq!(p.version, 3);
    // An account without blocks writes no policy on create.
    d.create(&desired("plain-account", ""), &owner(false)).await.unwrap();
    assert_eq!(*fake.sets.lock().unwrap(), sets + 1);
}
