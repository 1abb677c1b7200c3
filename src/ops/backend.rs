//! Connecting to the clouds for one stack.

use crate::cloud::aws::AwsContext;
use crate::cloud::stats::ApiStats;
use crate::engine::error::ProviderError;
use crate::engine::kind::Driver;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Cloud access for one region: the account and a driver per kind.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The account id (used in ARNs that other blocks reference).
    async fn account_id(&self) -> Result<String, ProviderError>;
    /// Drivers by kind name.
    fn drivers(&self) -> BTreeMap<String, Arc<dyn Driver>>;
}

/// Makes a [`Backend`] for a region.
#[async_trait]
pub trait Connect: Send + Sync {
    async fn connect(&self, region: &str) -> Arc<dyn Backend>;
}

/// The real AWS connection.
#[derive(Clone, Default)]
pub struct AwsConnect {
    pub stats: Arc<ApiStats>,
}

struct AwsBackend {
    ctx: AwsContext,
}

#[async_trait]
impl Backend for AwsBackend {
    async fn account_id(&self) -> Result<String, ProviderError> {
        self.ctx.account_id().await
    }

    fn drivers(&self) -> BTreeMap<String, Arc<dyn Driver>> {
        crate::kinds::aws_drivers(&self.ctx)
    }
}

#[async_trait]
impl Connect for AwsConnect {
    async fn connect(&self, region: &str) -> Arc<dyn Backend> {
        Arc::new(AwsBackend { ctx: AwsContext::load(region, self.stats.clone()).await })
    }
}
