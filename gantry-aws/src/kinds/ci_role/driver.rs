//! The I/O half of `ci_role`, through [`RoleApi`]: roles are found by path
//! (`ListRoles` with `/gantry/<stack>/`, which carries no tags or policies),
//! then read in full per role; names declared in the files are also looked
//! up directly so a clash with a role gantry does not own is caught at plan
//! time.

use super::api::{NewRole, RoleApi};
use super::role_path;
use super::spec::Desired;
use crate::core::error::ProviderError;
use crate::core::{owner_of, stale_tag_keys, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_PROTECT};
use crate::kinds::common::aws_tags::user_tags;
use crate::kinds::common::lost_create;
use crate::policy::{normalize, parse_document};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Roles read at once.
const READ_CONCURRENCY: usize = 8;

/// IAM driver for CI roles.
pub(crate) struct RoleDriver {
    api: Arc<dyn RoleApi>,
}

impl RoleDriver {
    pub(crate) fn new(api: Arc<dyn RoleApi>) -> Self {
        RoleDriver { api }
    }

    async fn inline_policies(&self, name: &str) -> Result<Map<String, Value>, ProviderError> {
        let mut out = Map::new();
        for p in self.api.list_inline(name).await? {
            let doc = self.api.get_inline(name, &p).await?;
            out.insert(p, parse_document(&doc).map(|d| normalize(&d)).unwrap_or(Value::Null));
        }
        Ok(out)
    }

    async fn managed(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let mut arns = self.api.list_attached(name).await?;
        arns.sort();
        Ok(arns)
    }

    /// Full state of one role (GetRole + ListRolePolicies + GetRolePolicy×N + ListAttachedRolePolicies).
    async fn read_role(&self, name: String) -> Result<Option<LiveResource>, ProviderError> {
        let Some(role) = self.api.get_role(&name).await? else { return Ok(None) };
        let (inline, managed) = futures::try_join!(self.inline_policies(&name), self.managed(&name))?;
        let trust = role.trust_document.as_deref().and_then(|d| parse_document(d).ok()).map(|d| normalize(&d)).unwrap_or(Value::Null);
        let mut st = State::new();
        st.insert("name".into(), json!(role.name));
        st.insert("arn".into(), json!(role.arn));
        st.insert("path".into(), json!(role.path));
        st.insert("description".into(), json!(role.description.unwrap_or_default()));
        st.insert("max_session_duration".into(), json!(role.max_session_duration.unwrap_or(3600)));
        st.insert("permissions_boundary".into(), role.permissions_boundary.map(|a| json!(a)).unwrap_or(Value::Null));
        st.insert("trust_policy".into(), trust);
        st.insert("inline_policies".into(), Value::Object(inline));
        st.insert("managed_policy_arns".into(), json!(managed));
        st.insert("tags".into(), user_tags(&role.tags));
        Ok(Some(LiveResource {
            identity: name,
            owner_stack: owner_of(&role.tags),
            owner_address: role.tags.get(TAG_ADDRESS).cloned(),
            protected: role.tags.contains_key(TAG_PROTECT),
            state: st,
        }))
    }

    /// Makes the role's inline policies the desired ones (`live`: what it has).
    async fn put_inline(&self, name: &str, desired: &Desired, live: Option<&Desired>) -> Result<(), ProviderError> {
        let want = &desired.inline_policies;
        let none = BTreeMap::new();
        let have = live.map(|l| &l.inline_policies).unwrap_or(&none);
        for (p, normal) in want {
            if have.get(p) != Some(normal) {
                self.api.put_inline(name, p, &desired.inline_text(p).unwrap_or_default()).await?;
            }
        }
        for p in have.keys().filter(|p| !want.contains_key(*p)) {
            self.api.delete_inline(name, p).await?;
        }
        Ok(())
    }

    /// Attaches and detaches so the role has the `want` managed policies (`have`: what it has).
    async fn put_managed(&self, name: &str, want: &[String], have: &[String]) -> Result<(), ProviderError> {
        let (want, have): (BTreeSet<&String>, BTreeSet<&String>) = (want.iter().collect(), have.iter().collect());
        for arn in want.difference(&have) {
            self.api.attach(name, arn).await?;
        }
        for arn in have.difference(&want) {
            self.api.detach(name, arn).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Driver for RoleDriver {
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let mut names: BTreeSet<String> = self.api.list_roles(&role_path(&scope.stack)).await?.into_iter().collect();
        names.extend(scope.identities.iter().cloned());
        let found: Vec<Option<LiveResource>> =
            futures::stream::iter(names.into_iter().map(|n| self.read_role(n))).buffer_unordered(READ_CONCURRENCY).try_collect().await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "CreateRole")?;
        let name = desired.name.as_str();
        let created = self
            .api
            .create_role(NewRole {
                name: name.to_string(),
                path: desired.path.clone(),
                trust_document: desired.trust_text(),
                description: desired.description.clone(),
                max_session_duration: desired.max_session_duration as i32,
                permissions_boundary: desired.permissions_boundary.clone(),
                tags: owner.with_ownership(desired.tags.clone()),
            })
            .await;
        match created {
            Err(e) if lost_create::already_exists(&e) => {
                let found = self.api.get_role(name).await?.map(|r| r.tags);
                lost_create::carry_on_if_ours(e, found, &format!("role {name}"), owner)?;
            }
            other => other?,
        }
        self.put_inline(name, &desired, None).await?;
        self.put_managed(name, &desired.managed_policy_arns, &[]).await
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "UpdateRole")?;
        let live_role = Desired::parse(&live.state, "UpdateRole")?;
        let name = desired.name.as_str();
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("trust_policy") {
            self.api.update_trust(name, &desired.trust_text()).await?;
        }
        if has("description") || has("max_session_duration") {
            self.api.update_role(name, &desired.description, desired.max_session_duration as i32).await?;
        }
        if has("permissions_boundary") {
            match desired.permissions_boundary.as_deref() {
                Some(b) => self.api.put_boundary(name, b).await?,
                None => self.api.delete_boundary(name).await?,
            }
        }
        if has("inline_policies") {
            self.put_inline(name, &desired, Some(&live_role)).await?;
        }
        if has("managed_policy_arns") {
            self.put_managed(name, &desired.managed_policy_arns, &live_role.managed_policy_arns).await?;
        }
        if has("tags") || has("owner") {
            let current = self.api.get_role(name).await?.map(|r| r.tags).unwrap_or_default();
            let want = owner.with_ownership(desired.tags.clone());
            let stale = stale_tag_keys(&current, &want);
            if !stale.is_empty() {
                self.api.untag(name, stale).await?;
            }
            self.api.tag(name, &want).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let name = live.identity.as_str();
        if self.api.get_role(name).await?.is_none() {
            return Ok(());
        }
        // A role can only go once it has no policies and no instance profiles.
        self.put_inline(name, &Desired::default(), Some(&Desired::parse(&live.state, "DeleteRole")?)).await?;
        self.put_managed(name, &[], &self.managed(name).await?).await?;
        for p in self.api.list_instance_profiles(name).await? {
            self.api.remove_from_instance_profile(&p, name).await?;
        }
        self.api.delete_role(name).await
    }
}
