//! The I/O half of `gcp_custom_role`: one paged list of the project's
//! roles (deleted ones included) per plan; ownership from the
//! description's marker. A deleted role is not read; a create that finds
//! its ID held by one this stack deleted undeletes and updates it.

use super::api::RoleApi;
use super::spec::Spec;
use crate::cloud::gcp_iam::Role;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Driver, LiveResource, Owner, ReadScope, State};
use crate::kinds::common::gcp::all_pages;
use crate::kinds::common::gcp::description_marker::{read_marker, written_description};
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// IAM driver for custom roles.
pub(crate) struct RoleDriver {
    api: Arc<dyn RoleApi>,
}

impl RoleDriver {
    pub(crate) fn new(api: Arc<dyn RoleApi>) -> Self {
        RoleDriver { api }
    }

    fn live(r: &Role) -> LiveResource {
        let id = r.name.rsplit('/').next().unwrap_or_default().to_string();
        let (description, owner_stack, owner_address, protected) = read_marker(&r.description);
        let mut perms = r.included_permissions.clone();
        perms.sort();
        let mut st = State::new();
        st.insert("role_id".into(), json!(id));
        st.insert("title".into(), json!(r.title));
        st.insert("description".into(), json!(description));
        st.insert("permissions".into(), json!(perms));
        // The API's default stage is ALPHA; proto3 JSON leaves it out only when unset.
        st.insert("stage".into(), json!(if r.stage.is_empty() { "ALPHA" } else { &r.stage }));
        st.insert("etag".into(), json!(r.etag));
        LiveResource { identity: id, owner_stack, owner_address, protected, state: st }
    }

    fn role(desired: &Spec, owner: &Owner, etag: &str) -> Role {
        Role {
            title: desired.title.clone(),
            description: written_description(&desired.description, owner),
            included_permissions: desired.permissions.iter().cloned().collect(),
            stage: desired.stage.clone(),
            etag: etag.to_string(),
            ..Role::default()
        }
    }
}

#[async_trait]
impl Driver for RoleDriver {
    /// The roles this stack marked and those the files name, not deleted.
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let all = all_pages(|token| async move { self.api.list(&token).await }).await?;
        Ok(all
            .iter()
            .filter(|r| !r.deleted)
            .map(Self::live)
            .filter(|l| scope.identities.contains(&l.identity) || l.owner_stack.as_deref() == Some(scope.owner.as_str()))
            .collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let desired = Spec::from_state(desired, "CreateRole")?;
        let id = desired.role_id.as_str();
        let e = match self.api.create(id, &Self::role(&desired, owner, "")).await {
            Err(e) if e.class == ErrorClass::Conflict => e,
            other => return other.map(|_| ()),
        };
        // Held by a role this stack deleted (7 days undeletable): restore it.
        let all = all_pages(|token| async move { self.api.list(&token).await }).await?;
        if let Some(r) =
            all.iter().find(|r| r.deleted && r.name.ends_with(&format!("/{id}")) && read_marker(&r.description).1.as_deref() == Some(owner.stack.as_str()))
        {
            owner.note(format!("undeleting role {id}, which this stack deleted"));
            let etag = self.api.undelete(id, &r.etag).await?.etag;
            return self.api.patch(id, &Self::role(&desired, owner, &etag)).await.map(|_| ());
        }
        Err(ProviderError::google(
            e.class,
            e.service,
            e.operation,
            format!(
                "{}: the role ID {id} is taken in project {}: by a role of someone else's (`gantry import` it or choose another role_id), \
                 or by one deleted 7-37 days ago, which IAM keeps unusable until 37 days after the delete",
                e.message,
                self.api.project()
            ),
        ))
    }

    async fn update(&self, desired: &State, live: &LiveResource, _changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let desired = Spec::from_state(desired, "UpdateRole")?;
        let etag = Spec::from_state(&live.state, "UpdateRole")?.etag;
        self.api.patch(&desired.role_id, &Self::role(&desired, owner, &etag)).await.map(|_| ())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        match self.api.delete(&Spec::from_state(&live.state, "DeleteRole")?.role_id).await {
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }
}
