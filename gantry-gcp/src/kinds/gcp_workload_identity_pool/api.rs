//! The IAM calls a `gcp_workload_identity_pool` driver makes. Writes wait
//! for their long-running operation.

use crate::cloud::gcp_iam::{IamRest, Pool, PoolProvider};
use crate::core::error::ProviderError;
use async_trait::async_trait;

/// Workload identity pools of one project and their providers.
#[async_trait]
pub(crate) trait PoolApi: Send + Sync {
    fn project(&self) -> &str;
    /// One page of the project's pools, deleted ones included.
    async fn list_pools(&self, page_token: &str) -> Result<(Vec<Pool>, String), ProviderError>;
    /// One page of a pool's providers, deleted ones included.
    async fn list_providers(&self, pool_id: &str, page_token: &str) -> Result<(Vec<PoolProvider>, String), ProviderError>;
    async fn create_pool(&self, pool_id: &str, pool: &Pool) -> Result<(), ProviderError>;
    async fn patch_pool(&self, pool_id: &str, pool: &Pool) -> Result<(), ProviderError>;
    async fn delete_pool(&self, pool_id: &str) -> Result<(), ProviderError>;
    async fn undelete_pool(&self, pool_id: &str) -> Result<(), ProviderError>;
    async fn create_provider(&self, pool_id: &str, provider_id: &str, p: &PoolProvider) -> Result<(), ProviderError>;
    async fn patch_provider(&self, pool_id: &str, provider_id: &str, p: &PoolProvider) -> Result<(), ProviderError>;
    async fn delete_provider(&self, pool_id: &str, provider_id: &str) -> Result<(), ProviderError>;
    async fn undelete_provider(&self, pool_id: &str, provider_id: &str) -> Result<(), ProviderError>;
}

#[async_trait]
impl PoolApi for IamRest {
    fn project(&self) -> &str {
        &self.project
    }
    async fn list_pools(&self, page_token: &str) -> Result<(Vec<Pool>, String), ProviderError> {
        IamRest::list_pools(self, page_token).await
    }
    async fn list_providers(&self, pool_id: &str, page_token: &str) -> Result<(Vec<PoolProvider>, String), ProviderError> {
        IamRest::list_providers(self, pool_id, page_token).await
    }
    async fn create_pool(&self, pool_id: &str, pool: &Pool) -> Result<(), ProviderError> {
        IamRest::create_pool(self, pool_id, pool).await
    }
    async fn patch_pool(&self, pool_id: &str, pool: &Pool) -> Result<(), ProviderError> {
        IamRest::patch_pool(self, pool_id, pool).await
    }
    async fn delete_pool(&self, pool_id: &str) -> Result<(), ProviderError> {
        IamRest::delete_pool(self, pool_id).await
    }
    async fn undelete_pool(&self, pool_id: &str) -> Result<(), ProviderError> {
        IamRest::undelete_pool(self, pool_id).await
    }
    async fn create_provider(&self, pool_id: &str, provider_id: &str, p: &PoolProvider) -> Result<(), ProviderError> {
        IamRest::create_provider(self, pool_id, provider_id, p).await
    }
    async fn patch_provider(&self, pool_id: &str, provider_id: &str, p: &PoolProvider) -> Result<(), ProviderError> {
        IamRest::patch_provider(self, pool_id, provider_id, p).await
    }
    async fn delete_provider(&self, pool_id: &str, provider_id: &str) -> Result<(), ProviderError> {
        IamRest::delete_provider(self, pool_id, provider_id).await
    }
    async fn undelete_provider(&self, pool_id: &str, provider_id: &str) -> Result<(), ProviderError> {
        IamRest::undelete_provider(self, pool_id, provider_id).await
    }
}
