//! The IAM calls a `ci_role` driver makes. Documents travel as text; IAM
//! answers them URL-encoded (RFC 3986), which `crate::policy::parse_document`
//! reads. A missing role reads as `None`; other failures arrive classified.

use crate::cloud::aws::{classify, gone_is_done};
use crate::core::error::ProviderError;
use crate::kinds::common::iam::iam_tags;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// A role as `GetRole` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RoleInfo {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i32>,
    pub permissions_boundary: Option<String>,
    /// The trust policy as IAM returns it (URL-encoded).
    pub trust_document: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// What a new role is created with.
#[derive(Debug, Clone)]
pub(crate) struct NewRole {
    pub name: String,
    pub path: String,
    pub trust_document: String,
    pub description: String,
    pub max_session_duration: i32,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// Roles of one account.
#[async_trait]
pub(crate) trait RoleApi: Send + Sync {
    /// Names of the roles under a path (all pages; the list carries no tags).
    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<String>, ProviderError>;
    async fn get_role(&self, name: &str) -> Result<Option<RoleInfo>, ProviderError>;
    async fn create_role(&self, role: NewRole) -> Result<(), ProviderError>;
    async fn update_trust(&self, name: &str, document: &str) -> Result<(), ProviderError>;
    async fn update_role(&self, name: &str, description: &str, max_session_duration: i32) -> Result<(), ProviderError>;
    async fn put_boundary(&self, name: &str, arn: &str) -> Result<(), ProviderError>;
    async fn delete_boundary(&self, name: &str) -> Result<(), ProviderError>;
    /// Names of the inline policies (all pages).
    async fn list_inline(&self, name: &str) -> Result<Vec<String>, ProviderError>;
    /// An inline policy document (URL-encoded).
    async fn get_inline(&self, name: &str, policy: &str) -> Result<String, ProviderError>;
    async fn put_inline(&self, name: &str, policy: &str, document: &str) -> Result<(), ProviderError>;
    async fn delete_inline(&self, name: &str, policy: &str) -> Result<(), ProviderError>;
    /// ARNs of the attached managed policies (all pages).
    async fn list_attached(&self, name: &str) -> Result<Vec<String>, ProviderError>;
    async fn attach(&self, name: &str, arn: &str) -> Result<(), ProviderError>;
    async fn detach(&self, name: &str, arn: &str) -> Result<(), ProviderError>;
    async fn tag(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;
    async fn untag(&self, name: &str, keys: Vec<String>) -> Result<(), ProviderError>;
    /// Names of the instance profiles holding the role.
    async fn list_instance_profiles(&self, name: &str) -> Result<Vec<String>, ProviderError>;
    async fn remove_from_instance_profile(&self, profile: &str, name: &str) -> Result<(), ProviderError>;
    async fn delete_role(&self, name: &str) -> Result<(), ProviderError>;
}

#[async_trait]
impl RoleApi for aws_sdk_iam::Client {
    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<String>, ProviderError> {
        let roles: Vec<aws_sdk_iam::types::Role> = aws_sdk_iam::Client::list_roles(self)
            .path_prefix(path_prefix)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam", "ListRoles", e))?;
        Ok(roles.iter().map(|r| r.role_name().to_string()).collect())
    }

    async fn get_role(&self, name: &str) -> Result<Option<RoleInfo>, ProviderError> {
        let role = match aws_sdk_iam::Client::get_role(self).role_name(name).send().await {
            Ok(out) => out.role,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => None,
            Err(e) => return Err(classify("iam", "GetRole", e)),
        };
        Ok(role.map(|r| RoleInfo {
            name: r.role_name().to_string(),
            arn: r.arn().to_string(),
            path: r.path().to_string(),
            description: r.description().map(String::from),
            max_session_duration: r.max_session_duration(),
            permissions_boundary: r.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(String::from),
            trust_document: r.assume_role_policy_document().map(String::from),
            tags: r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
        }))
    }

    async fn create_role(&self, role: NewRole) -> Result<(), ProviderError> {
        aws_sdk_iam::Client::create_role(self)
            .role_name(role.name)
            .path(role.path)
            .assume_role_policy_document(role.trust_document)
            .description(role.description)
            .max_session_duration(role.max_session_duration)
            .set_permissions_boundary(role.permissions_boundary)
            .set_tags(Some(iam_tags(&role.tags)))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "CreateRole", e))
    }

    async fn update_trust(&self, name: &str, document: &str) -> Result<(), ProviderError> {
        self.update_assume_role_policy()
            .role_name(name)
            .policy_document(document)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "UpdateAssumeRolePolicy", e))
    }

    async fn update_role(&self, name: &str, description: &str, max_session_duration: i32) -> Result<(), ProviderError> {
        aws_sdk_iam::Client::update_role(self)
            .role_name(name)
            .description(description)
            .max_session_duration(max_session_duration)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "UpdateRole", e))
    }

    async fn put_boundary(&self, name: &str, arn: &str) -> Result<(), ProviderError> {
        self.put_role_permissions_boundary()
            .role_name(name)
            .permissions_boundary(arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "PutRolePermissionsBoundary", e))
    }

    async fn delete_boundary(&self, name: &str) -> Result<(), ProviderError> {
        self.delete_role_permissions_boundary().role_name(name).send().await.map(drop).map_err(|e| classify("iam", "DeleteRolePermissionsBoundary", e))
    }

    async fn list_inline(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        self.list_role_policies().role_name(name).into_paginator().items().send().try_collect().await.map_err(|e| classify("iam", "ListRolePolicies", e))
    }

    async fn get_inline(&self, name: &str, policy: &str) -> Result<String, ProviderError> {
        let out = self.get_role_policy().role_name(name).policy_name(policy).send().await.map_err(|e| classify("iam", "GetRolePolicy", e))?;
        Ok(out.policy_document().to_string())
    }

    async fn put_inline(&self, name: &str, policy: &str, document: &str) -> Result<(), ProviderError> {
        self.put_role_policy()
            .role_name(name)
            .policy_name(policy)
            .policy_document(document)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "PutRolePolicy", e))
    }

    async fn delete_inline(&self, name: &str, policy: &str) -> Result<(), ProviderError> {
        gone_is_done(self.delete_role_policy().role_name(name).policy_name(policy).send().await.map(drop).map_err(|e| classify("iam", "DeleteRolePolicy", e)))
    }

    async fn list_attached(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let attached: Vec<aws_sdk_iam::types::AttachedPolicy> = self
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("iam", "ListAttachedRolePolicies", e))?;
        Ok(attached.iter().filter_map(|p| p.policy_arn().map(String::from)).collect())
    }

    async fn attach(&self, name: &str, arn: &str) -> Result<(), ProviderError> {
        self.attach_role_policy().role_name(name).policy_arn(arn).send().await.map(drop).map_err(|e| classify("iam", "AttachRolePolicy", e))
    }

    async fn detach(&self, name: &str, arn: &str) -> Result<(), ProviderError> {
        gone_is_done(self.detach_role_policy().role_name(name).policy_arn(arn).send().await.map(drop).map_err(|e| classify("iam", "DetachRolePolicy", e)))
    }

    async fn tag(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.tag_role().role_name(name).set_tags(Some(iam_tags(tags))).send().await.map(drop).map_err(|e| classify("iam", "TagRole", e))
    }

    async fn untag(&self, name: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.untag_role().role_name(name).set_tag_keys(Some(keys)).send().await.map(drop).map_err(|e| classify("iam", "UntagRole", e))
    }

    async fn list_instance_profiles(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let out = self.list_instance_profiles_for_role().role_name(name).send().await.map_err(|e| classify("iam", "ListInstanceProfilesForRole", e))?;
        Ok(out.instance_profiles().iter().map(|p| p.instance_profile_name().to_string()).collect())
    }

    async fn remove_from_instance_profile(&self, profile: &str, name: &str) -> Result<(), ProviderError> {
        gone_is_done(
            self.remove_role_from_instance_profile()
                .instance_profile_name(profile)
                .role_name(name)
                .send()
                .await
                .map(drop)
                .map_err(|e| classify("iam", "RemoveRoleFromInstanceProfile", e)),
        )
    }

    async fn delete_role(&self, name: &str) -> Result<(), ProviderError> {
        gone_is_done(aws_sdk_iam::Client::delete_role(self).role_name(name).send().await.map(drop).map_err(|e| classify("iam", "DeleteRole", e)))
    }
}
