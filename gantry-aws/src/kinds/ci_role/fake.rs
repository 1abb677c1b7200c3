//! An in-memory IAM for roles, answering as IAM does: documents come back
//! URL-encoded ("The policy document returned in this structure is
//! URL-encoded compliant with RFC 3986", IAM API reference, Role and
//! GetRolePolicy); ARNs hold the path; `MaxSessionDuration` defaults to
//! 3600; a role with policies or instance profiles cannot be deleted
//! (`DeleteConflict`).

use super::api::{NewRole, RoleApi, RoleInfo};
use crate::cloud::aws::class_of_code;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

pub(super) const ACCOUNT: &str = "123456789012";

#[derive(Default, Clone)]
pub(super) struct StoredRole {
    pub info: RoleInfo,
    pub inline: BTreeMap<String, String>,
    pub attached: BTreeSet<String>,
    pub profiles: BTreeSet<String>,
}

#[derive(Default)]
pub(super) struct FakeIam {
    roles: Mutex<BTreeMap<String, StoredRole>>,
}

fn err(op: &'static str, code: &str, msg: String) -> ProviderError {
    ProviderError::aws(class_of_code(code), "iam", op, format!("{code}: {msg}"))
}

fn encode(doc: &str) -> String {
    utf8_percent_encode(doc, NON_ALPHANUMERIC).to_string()
}

impl FakeIam {
    pub(super) fn role(&self, name: &str) -> Option<StoredRole> {
        self.roles.lock().unwrap().get(name).cloned()
    }

    /// Puts the role in an instance profile, as another tool might.
    pub(super) fn add_to_profile(&self, name: &str, profile: &str) {
        self.roles.lock().unwrap().get_mut(name).expect("role exists").profiles.insert(profile.into());
    }

    fn with<T>(&self, op: &'static str, name: &str, f: impl FnOnce(&mut StoredRole) -> T) -> Result<T, ProviderError> {
        self.roles.lock().unwrap().get_mut(name).map(f).ok_or_else(|| err(op, "NoSuchEntity", format!("The role with name {name} cannot be found.")))
    }
}

#[async_trait]
impl RoleApi for FakeIam {
    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<String>, ProviderError> {
        Ok(self.roles.lock().unwrap().values().filter(|r| r.info.path.starts_with(path_prefix)).map(|r| r.info.name.clone()).collect())
    }

    async fn get_role(&self, name: &str) -> Result<Option<RoleInfo>, ProviderError> {
        Ok(self.role(name).map(|r| r.info))
    }

    async fn create_role(&self, role: NewRole) -> Result<(), ProviderError> {
        let mut all = self.roles.lock().unwrap();
        if all.contains_key(&role.name) {
            return Err(err("CreateRole", "EntityAlreadyExists", format!("Role with name {} already exists.", role.name)));
        }
        let info = RoleInfo {
            arn: format!("arn:aws:iam::{ACCOUNT}:role{}{}", role.path, role.name),
            name: role.name.clone(),
            path: role.path,
            description: Some(role.description).filter(|d| !d.is_empty()),
            max_session_duration: Some(role.max_session_duration),
            permissions_boundary: role.permissions_boundary,
            trust_document: Some(encode(&role.trust_document)),
            tags: role.tags,
        };
        all.insert(role.name, StoredRole { info, ..StoredRole::default() });
        Ok(())
    }

    async fn update_trust(&self, name: &str, document: &str) -> Result<(), ProviderError> {
        self.with("UpdateAssumeRolePolicy", name, |r| r.info.trust_document = Some(encode(document)))
    }

    async fn update_role(&self, name: &str, description: &str, max_session_duration: i32) -> Result<(), ProviderError> {
        self.with("UpdateRole", name, |r| {
            r.info.description = Some(description.to_string()).filter(|d| !d.is_empty());
            r.info.max_session_duration = Some(max_session_duration);
        })
    }

    async fn put_boundary(&self, name: &str, arn: &str) -> Result<(), ProviderError> {
        self.with("PutRolePermissionsBoundary", name, |r| r.info.permissions_boundary = Some(arn.to_string()))
    }

    async fn delete_boundary(&self, name: &str) -> Result<(), ProviderError> {
        self.with("DeleteRolePermissionsBoundary", name, |r| r.info.permissions_boundary = None)
    }

    async fn list_inline(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        self.with("ListRolePolicies", name, |r| r.inline.keys().cloned().collect())
    }

    async fn get_inline(&self, name: &str, policy: &str) -> Result<String, ProviderError> {
        let doc = self.with("GetRolePolicy", name, |r| r.inline.get(policy).cloned())?;
        doc.map(|d| encode(&d)).ok_or_else(|| err("GetRolePolicy", "NoSuchEntity", format!("The role policy with name {policy} cannot be found.")))
    }

    async fn put_inline(&self, name: &str, policy: &str, document: &str) -> Result<(), ProviderError> {
        self.with("PutRolePolicy", name, |r| drop(r.inline.insert(policy.to_string(), document.to_string())))
    }

    async fn delete_inline(&self, name: &str, policy: &str) -> Result<(), ProviderError> {
        self.with("DeleteRolePolicy", name, |r| drop(r.inline.remove(policy)))
    }

    async fn list_attached(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        self.with("ListAttachedRolePolicies", name, |r| r.attached.iter().cloned().collect())
    }

    async fn attach(&self, name: &str, arn: &str) -> Result<(), ProviderError> {
        self.with("AttachRolePolicy", name, |r| {
            r.attached.insert(arn.to_string());
        })
    }

    async fn detach(&self, name: &str, arn: &str) -> Result<(), ProviderError> {
        self.with("DetachRolePolicy", name, |r| {
            r.attached.remove(arn);
        })
    }

    async fn tag(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.with("TagRole", name, |r| r.info.tags.extend(tags.clone()))
    }

    async fn untag(&self, name: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.with("UntagRole", name, |r| r.info.tags.retain(|k, _| !keys.contains(k)))
    }

    async fn list_instance_profiles(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        self.with("ListInstanceProfilesForRole", name, |r| r.profiles.iter().cloned().collect())
    }

    async fn remove_from_instance_profile(&self, profile: &str, name: &str) -> Result<(), ProviderError> {
        self.with("RemoveRoleFromInstanceProfile", name, |r| {
            r.profiles.remove(profile);
        })
    }

    async fn delete_role(&self, name: &str) -> Result<(), ProviderError> {
        let role = self.role(name).ok_or_else(|| err("DeleteRole", "NoSuchEntity", format!("The role with name {name} cannot be found.")))?;
        if !role.inline.is_empty() || !role.attached.is_empty() || !role.profiles.is_empty() {
            return Err(err("DeleteRole", "DeleteConflict", "Cannot delete entity, must remove policies and instance profiles first.".into()));
        }
        self.roles.lock().unwrap().remove(name);
        Ok(())
    }
}
