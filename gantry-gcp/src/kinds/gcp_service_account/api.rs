//! The IAM calls a `gcp_service_account` driver makes.

use crate::cloud::gcp_iam::{IamRest, Policy, ServiceAccount};
use crate::core::error::ProviderError;
use async_trait::async_trait;

/// Service accounts of one project.
#[async_trait]
pub(crate) trait ServiceAccountApi: Send + Sync {
    fn project(&self) -> &str;
    /// One page of the project's accounts and the next page token ("" at the end).
    async fn list(&self, page_token: &str) -> Result<(Vec<ServiceAccount>, String), ProviderError>;
    async fn create(&self, account_id: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError>;
    async fn patch(&self, email: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError>;
    async fn delete(&self, email: &str) -> Result<(), ProviderError>;
    async fn policy(&self, email: &str) -> Result<Policy, ProviderError>;
    async fn set_policy(&self, email: &str, policy: &Policy) -> Result<(), ProviderError>;
}

#[async_trait]
impl ServiceAccountApi for IamRest {
    fn project(&self) -> &str {
        &self.project
    }
    async fn list(&self, page_token: &str) -> Result<(Vec<ServiceAccount>, String), ProviderError> {
        self.list_service_accounts(page_token).await
    }
    async fn create(&self, account_id: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError> {
        self.create_service_account(account_id, display_name, description).await
    }
    async fn patch(&self, email: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError> {
        self.patch_service_account(email, display_name, description).await
    }
    async fn delete(&self, email: &str) -> Result<(), ProviderError> {
        self.delete_service_account(email).await
    }
    async fn policy(&self, email: &str) -> Result<Policy, ProviderError> {
        self.service_account_policy(email).await
    }
    async fn set_policy(&self, email: &str, policy: &Policy) -> Result<(), ProviderError> {
        self.set_service_account_policy(email, policy).await.map(|_| ())
    }
}
