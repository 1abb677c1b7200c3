//! The IAM calls a `gcp_custom_role` driver makes.

use crate::cloud::gcp_iam::{IamRest, Role};
use crate::core::error::ProviderError;
use async_trait::async_trait;

/// Custom roles of one project.
#[async_trait]
pub(crate) trait RoleApi: Send + Sync {
    fn project(&self) -> &str;
    /// One page of the project's roles, deleted ones included, with permissions.
    async fn list(&self, page_token: &str) -> Result<(Vec<Role>, String), ProviderError>;
    async fn create(&self, role_id: &str, role: &Role) -> Result<Role, ProviderError>;
    async fn patch(&self, role_id: &str, role: &Role) -> Result<Role, ProviderError>;
    async fn delete(&self, role_id: &str) -> Result<(), ProviderError>;
    async fn undelete(&self, role_id: &str, etag: &str) -> Result<Role, ProviderError>;
}

#[async_trait]
impl RoleApi for IamRest {
    fn project(&self) -> &str {
        &self.project
    }
    async fn list(&self, page_token: &str) -> Result<(Vec<Role>, String), ProviderError> {
        self.list_roles(page_token).await
    }
    async fn create(&self, role_id: &str, role: &Role) -> Result<Role, ProviderError> {
        self.create_role(role_id, role).await
    }
    async fn patch(&self, role_id: &str, role: &Role) -> Result<Role, ProviderError> {
        self.patch_role(role_id, role).await
    }
    async fn delete(&self, role_id: &str) -> Result<(), ProviderError> {
        self.delete_role(role_id).await.map(|_| ())
    }
    async fn undelete(&self, role_id: &str, etag: &str) -> Result<Role, ProviderError> {
        self.undelete_role(role_id, etag).await
    }
}
