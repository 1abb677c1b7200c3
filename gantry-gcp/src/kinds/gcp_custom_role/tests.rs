use super::api::RoleApi;
use super::*;
use crate::cloud::gcp_iam::Role;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Driver, Env, Kind, Owner, ReadScope, State};
use async_trait::async_trait;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// Roles in memory with IAM's soft delete and etags, one per page.
#[derive(Default)]
struct Fake {
    roles: Mutex<Vec<Role>>,
    tick: Mutex<u32>,
}

impl Fake {
    fn etag(&self) -> String {
        let mut t = self.tick.lock().unwrap();
        *t += 1;
        format!("e{t}")
    }
}

fn gone() -> ProviderError {
    ProviderError::google(ErrorClass::NotFound, "gcp-iam", "X", "gone")
}

#[async_trait]
impl RoleApi for Fake {
    fn project(&self) -> &str {
        "p"
    }
    async fn list(&self, token: &str) -> Result<(Vec<Role>, String), ProviderError> {
        let all = self.roles.lock().unwrap().clone();
        let start: usize = token.parse().unwrap_or(0);
        let next = if start + 1 < all.len() { (start + 1).to_string() } else { String::new() };
        Ok((all.into_iter().skip(start).take(1).collect(), next))
    }
    async fn create(&self, id: &str, role: &Role) -> Result<Role, ProviderError> {
        let etag = self.etag();
        let mut all = self.roles.lock().unwrap();
        let name = format!("projects/p/roles/{id}");
        if all.iter().any(|r| r.name == name) {
            return Err(ProviderError::google(ErrorClass::Conflict, "gcp-iam", "CreateRole", "ALREADY_EXISTS: deleted state"));
        }
        let r = Role { name, etag, ..role.clone() };
        all.push(r.clone());
        Ok(r)
    }
    async fn patch(&self, id: &str, role: &Role) -> Result<Role, ProviderError> {
        let etag = self.etag();
        let mut all = self.roles.lock().unwrap();
        let r = all.iter_mut().find(|r| r.name.ends_with(&format!("/{id}"))).ok_or_else(gone)?;
        if r.deleted || r.etag != role.etag {
            return Err(ProviderError::google(ErrorClass::Conflict, "gcp-iam", "UpdateRole", "deleted or stale etag"));
        }
        *r = Role { name: r.name.clone(), etag, deleted: false, ..role.clone() };
        Ok(r.clone())
    }
    async fn delete(&self, id: &str) -> Result<(), ProviderError> {
        let etag = self.etag();
        let mut all = self.roles.lock().unwrap();
        let r = all.iter_mut().find(|r| r.name.ends_with(&format!("/{id}"))).ok_or_else(gone)?;
        r.deleted = true;
        r.etag = etag;
        Ok(())
    }
    async fn undelete(&self, id: &str, etag: &str) -> Result<Role, ProviderError> {
        let next = self.etag();
        let mut all = self.roles.lock().unwrap();
        let r = all.iter_mut().find(|r| r.name.ends_with(&format!("/{id}"))).ok_or_else(gone)?;
        assert!(r.deleted && r.etag == etag, "undelete of a live role or with a stale etag");
        r.deleted = false;
        r.etag = next;
        Ok(r.clone())
    }
}

fn owner() -> Owner {
    Owner { stack: "gpu".into(), address: "gcp_custom_role.waker".into(), protect: false, notes: None }
}

fn scope(ids: &[&str]) -> ReadScope {
    ReadScope { stack: "gpu".into(), owner: "gpu".into(), identities: ids.iter().map(|s| s.to_string()).collect(), regions: vec![], zones: vec![] }
}

fn attrs(perms: &[&str]) -> State {
    serde_json::from_value(json!({"role_id": "gantryRunnerWaker", "title": "waker", "description": "", "stage": "GA", "permissions": perms})).unwrap()
}

#[test]
fn ids_and_permissions_are_checked_and_gains_are_broadening() {
    assert!(GcpCustomRole.block(&attrs(&["compute.instances.start"])).check().is_empty());
    let bad: State = serde_json::from_value(json!({"role_id": "x", "title": "t", "permissions": ["compute.*", "start"]})).unwrap();
    let msgs: Vec<String> = GcpCustomRole.block(&bad).check().into_iter().map(|p| p.message).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    let env = Env::default();
    let before = GcpCustomRole.block(&attrs(&["compute.instances.get"])).desired_state(&env);
    let after = GcpCustomRole.block(&attrs(&["compute.instances.get", "compute.instances.start"])).desired_state(&env);
    assert_eq!(GcpCustomRole.broadening(Some(&before), &after), vec!["grants compute.instances.start to whoever holds gantryRunnerWaker"]);
    assert_eq!(
        GcpCustomRole.block(&attrs(&[])).outputs(&attrs(&[]), &Env { gcp_project: "proj".into(), ..env })["name"],
        json!("projects/proj/roles/gantryRunnerWaker")
    );
}

#[tokio::test]
async fn a_role_deleted_by_the_stack_is_undeleted_when_created_again() {
    let fake = Arc::new(Fake::default());
    fake.create("someoneElses", &Role { title: "x".into(), ..Role::default() }).await.unwrap();
    let d = RoleDriver::new(fake.clone());
    let want = GcpCustomRole.block(&attrs(&["compute.instances.start", "compute.instances.get"])).desired_state(&Env::default());
    d.create(&want, &owner()).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!(live.len(), 1, "only the stack's role, found across pages");
    assert_eq!(live[0].state["permissions"], want["permissions"], "sorted both sides");
    d.delete(&live[0]).await.unwrap();
    // Deleted: gone for the plan, even when the files name it.
    assert!(d.read(&scope(&["gantryRunnerWaker"])).await.unwrap().is_empty());
    // Created again: the API refuses the ID; the driver undeletes the stack's role.
    let again = GcpCustomRole.block(&attrs(&["compute.instances.start"])).desired_state(&Env::default());
    d.create(&again, &owner()).await.unwrap();
    let live = d.read(&scope(&[])).await.unwrap();
    assert_eq!((live.len(), &live[0].state["permissions"]), (1, &json!(["compute.instances.start"])), "undeleted, then set as declared");
    // Someone else's deleted role is not taken over.
    fake.delete("someoneElses").await.unwrap();
    let theirs: State =
        serde_json::from_value(json!({"role_id": "someoneElses", "title": "t", "description": "", "stage": "GA", "permissions": ["a.b.c"]})).unwrap();
    let e = d.create(&GcpCustomRole.block(&theirs).desired_state(&Env::default()), &owner()).await.unwrap_err();
    assert!(e.message.contains("37 days"), "{e}");
}
