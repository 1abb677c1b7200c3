//! IAM calls for `ci_role`: roles are found by path (`ListRoles` with
//! `/gantry/<stack>/`, which carries no tags or policies), then read in full
//! per role; names declared in the files are also looked up directly so a
//! clash with a role gantry does not own is caught at plan time.

use super::{role_path, DOC_INLINE, DOC_TRUST};
use crate::cloud::aws::classify;
use crate::core::error::ProviderError;
use crate::core::{Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_STACK};
use crate::kinds::common::iam::{all_tags, stale_keys, tag_map, user_tags};
use crate::policy::{normalize, parse_document};
use async_trait::async_trait;
use aws_sdk_iam::types::Role;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Roles read at once.
const READ_CONCURRENCY: usize = 8;

/// IAM driver for CI roles.
pub struct RoleDriver {
    client: aws_sdk_iam::Client,
}

fn s<'a>(st: &'a State, k: &str) -> &'a str {
    st.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn doc_text(v: Option<&Value>) -> String {
    v.map(|d| d.to_string()).unwrap_or_else(|| "{}".into())
}

impl RoleDriver {
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        RoleDriver { client }
    }

    async fn get_role(&self, name: &str) -> Result<Option<Role>, ProviderError> {
        match self.client.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(None),
            Err(e) => Err(classify("iam", "GetRole", e)),
        }
    }

    async fn inline_policies(&self, name: &str) -> Result<Map<String, Value>, ProviderError> {
        let names: Vec<String> = self
            .client
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam", "ListRolePolicies", e))?;
        let mut out = Map::new();
        for p in names {
            let doc = self.client.get_role_policy().role_name(name).policy_name(&p).send().await.map_err(|e| classify("iam", "GetRolePolicy", e))?;
            let parsed = parse_document(doc.policy_document()).map(|d| normalize(&d)).unwrap_or(Value::Null);
            out.insert(p, parsed);
        }
        Ok(out)
    }

    async fn managed(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let attached: Vec<aws_sdk_iam::types::AttachedPolicy> = self
            .client
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam", "ListAttachedRolePolicies", e))?;
        let mut arns: Vec<String> = attached.iter().map(|p| p.policy_arn().unwrap_or_default().to_string()).collect();
        arns.sort();
        Ok(arns)
    }

    /// Full state of one role (GetRole + ListRolePolicies + GetRolePolicy×N + ListAttachedRolePolicies).
    async fn read_role(&self, name: String) -> Result<Option<LiveResource>, ProviderError> {
        let Some(role) = self.get_role(&name).await? else { return Ok(None) };
        let (inline, managed) = futures::try_join!(self.inline_policies(&name), self.managed(&name))?;
        let tags = tag_map(role.tags());
        // IAM returns trust documents URL-encoded.
        let trust = role.assume_role_policy_document().and_then(|d| parse_document(d).ok()).map(|d| normalize(&d)).unwrap_or(Value::Null);
        let mut st = State::new();
        st.insert("name".into(), json!(role.role_name()));
        st.insert("arn".into(), json!(role.arn()));
        st.insert("path".into(), json!(role.path()));
        st.insert("description".into(), json!(role.description().unwrap_or("")));
        st.insert("max_session_duration".into(), json!(role.max_session_duration().unwrap_or(3600)));
        st.insert(
            "permissions_boundary".into(),
            role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(|a| json!(a)).unwrap_or(Value::Null),
        );
        st.insert("trust_policy".into(), trust);
        st.insert("inline_policies".into(), Value::Object(inline));
        st.insert("managed_policy_arns".into(), json!(managed));
        st.insert("tags".into(), user_tags(&tags));
        Ok(Some(LiveResource { identity: name, owner_stack: tags.get(TAG_STACK).cloned(), owner_address: tags.get(TAG_ADDRESS).cloned(), state: st }))
    }

    async fn put_inline(&self, name: &str, desired: &State, live: Option<&State>) -> Result<(), ProviderError> {
        let empty = Map::new();
        let want = desired.get("inline_policies").and_then(Value::as_object).unwrap_or(&empty);
        let written = desired.get(DOC_INLINE).and_then(Value::as_object).unwrap_or(want);
        let have = live.and_then(|l| l.get("inline_policies")).and_then(Value::as_object).unwrap_or(&empty);
        for (p, normal) in want {
            if have.get(p) != Some(normal) {
                let doc = written.get(p).unwrap_or(normal);
                self.client
                    .put_role_policy()
                    .role_name(name)
                    .policy_name(p)
                    .policy_document(doc.to_string())
                    .send()
                    .await
                    .map_err(|e| classify("iam", "PutRolePolicy", e))?;
            }
        }
        for p in have.keys().filter(|p| !want.contains_key(*p)) {
            self.client.delete_role_policy().role_name(name).policy_name(p).send().await.map_err(|e| classify("iam", "DeleteRolePolicy", e))?;
        }
        Ok(())
    }

    async fn put_managed(&self, name: &str, desired: &State, live: Option<&State>) -> Result<(), ProviderError> {
        let list = |s: Option<&State>| -> BTreeSet<String> {
            s.and_then(|s| s.get("managed_policy_arns")).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
        };
        let (want, have) = (list(Some(desired)), list(live));
        for arn in want.difference(&have) {
            self.client.attach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| classify("iam", "AttachRolePolicy", e))?;
        }
        for arn in have.difference(&want) {
            self.client.detach_role_policy().role_name(name).policy_arn(arn).send().await.map_err(|e| classify("iam", "DetachRolePolicy", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Driver for RoleDriver {
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let listed: Vec<Role> = self
            .client
            .list_roles()
            .path_prefix(role_path(&scope.stack))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam", "ListRoles", e))?;
        let mut names: BTreeSet<String> = listed.iter().map(|r| r.role_name().to_string()).collect();
        names.extend(scope.identities.iter().cloned());
        let found: Vec<Option<LiveResource>> =
            futures::stream::iter(names.into_iter().map(|n| self.read_role(n))).buffer_unordered(READ_CONCURRENCY).try_collect().await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let name = s(desired, "name");
        let mut req = self
            .client
            .create_role()
            .role_name(name)
            .path(s(desired, "path"))
            .assume_role_policy_document(doc_text(desired.get(DOC_TRUST).or(desired.get("trust_policy"))))
            .description(s(desired, "description"))
            .max_session_duration(desired.get("max_session_duration").and_then(Value::as_i64).unwrap_or(3600) as i32)
            .set_tags(Some(all_tags(desired, owner)));
        if let Some(b) = desired.get("permissions_boundary").and_then(Value::as_str) {
            req = req.permissions_boundary(b);
        }
        req.send().await.map_err(|e| classify("iam", "CreateRole", e))?;
        self.put_inline(name, desired, None).await?;
        self.put_managed(name, desired, None).await
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let name = s(desired, "name");
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("trust_policy") {
            self.client
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(doc_text(desired.get(DOC_TRUST).or(desired.get("trust_policy"))))
                .send()
                .await
                .map_err(|e| classify("iam", "UpdateAssumeRolePolicy", e))?;
        }
        if has("description") || has("max_session_duration") {
            self.client
                .update_role()
                .role_name(name)
                .description(s(desired, "description"))
                .max_session_duration(desired.get("max_session_duration").and_then(Value::as_i64).unwrap_or(3600) as i32)
                .send()
                .await
                .map_err(|e| classify("iam", "UpdateRole", e))?;
        }
        if has("permissions_boundary") {
            match desired.get("permissions_boundary").and_then(Value::as_str) {
                Some(b) => self
                    .client
                    .put_role_permissions_boundary()
                    .role_name(name)
                    .permissions_boundary(b)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify("iam", "PutRolePermissionsBoundary", e))?,
                None => self
                    .client
                    .delete_role_permissions_boundary()
                    .role_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify("iam", "DeleteRolePermissionsBoundary", e))?,
            }
        }
        if has("inline_policies") {
            self.put_inline(name, desired, Some(&live.state)).await?;
        }
        if has("managed_policy_arns") {
            self.put_managed(name, desired, Some(&live.state)).await?;
        }
        if has("tags") || has("owner") {
            let role = self.get_role(name).await?;
            let current = role.map(|r| tag_map(r.tags())).unwrap_or_default();
            let want = all_tags(desired, owner);
            let stale = stale_keys(&current, &want);
            if !stale.is_empty() {
                self.client.untag_role().role_name(name).set_tag_keys(Some(stale)).send().await.map_err(|e| classify("iam", "UntagRole", e))?;
            }
            self.client.tag_role().role_name(name).set_tags(Some(want)).send().await.map_err(|e| classify("iam", "TagRole", e))?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let name = live.identity.as_str();
        if self.get_role(name).await?.is_none() {
            return Ok(());
        }
        // A role can only go once it has no policies and no instance profiles.
        self.put_inline(name, &State::new(), Some(&live.state)).await?;
        let current = self.managed(name).await?;
        let mut have = State::new();
        have.insert("managed_policy_arns".into(), json!(current));
        self.put_managed(name, &State::new(), Some(&have)).await?;
        let profiles =
            self.client.list_instance_profiles_for_role().role_name(name).send().await.map_err(|e| classify("iam", "ListInstanceProfilesForRole", e))?;
        for p in profiles.instance_profiles() {
            self.client
                .remove_role_from_instance_profile()
                .instance_profile_name(p.instance_profile_name())
                .role_name(name)
                .send()
                .await
                .map_err(|e| classify("iam", "RemoveRoleFromInstanceProfile", e))?;
        }
        self.client.delete_role().role_name(name).send().await.map_err(|e| classify("iam", "DeleteRole", e))?;
        Ok(())
    }
}
