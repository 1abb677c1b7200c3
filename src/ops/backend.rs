//! Connecting to the clouds a stack uses.

use crate::cloud::aws::AwsContext;
use crate::cloud::gcp::GcpContext;
use crate::cloud::stats::ApiStats;
use crate::core::error::ProviderError;
use crate::core::Driver;
use crate::kinds::Cloud;
use crate::lookups::{AwsLookupApi, AwsLookups, GcpLookupApi, LookupApis};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a stack lives.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The AWS region (None: the stack uses no AWS).
    pub aws_region: Option<String>,
    /// The Google Cloud project (None: no Google Cloud).
    pub gcp_project: Option<String>,
}

/// Cloud access for one stack: the AWS account and a driver per kind.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The AWS account id (used in ARNs other blocks reference); empty
    /// when the stack uses no AWS.
    async fn account_id(&self) -> Result<String, ProviderError>;
    /// The Google Cloud project's number (Resource Manager); asked only
    /// when a kind's names need it.
    async fn gcp_project_number(&self) -> Result<String, ProviderError> {
        Ok(String::new())
    }
    /// Drivers by kind name.
    fn drivers(&self) -> BTreeMap<String, Arc<dyn Driver>>;
    /// What `data` blocks read through (none: every read says which
    /// cloud it needs).
    fn lookups(&self) -> LookupApis {
        LookupApis::default()
    }
    /// Managed policy documents, for the plan-time lint (none: not judged).
    fn managed_policies(&self) -> Option<Arc<dyn crate::engine::managed_lint::ManagedPolicyApi>> {
        None
    }
}

/// Makes a [`Backend`] for a stack.
#[async_trait]
pub trait Connect: Send + Sync {
    /// Connects to the stack's clouds (credentials are checked when first used).
    async fn connect(&self, target: &Target) -> Result<Arc<dyn Backend>, ProviderError>;
    /// The API calls made so far (for `--stats`).
    fn stats(&self) -> Arc<ApiStats>;
}

/// The real clouds.
#[derive(Clone, Default)]
pub struct AwsConnect {
    /// The API calls made (for `--stats`).
    pub stats: Arc<ApiStats>,
}

struct CloudBackend {
    aws: Option<AwsContext>,
    gcp: Option<GcpContext>,
}

#[async_trait]
impl Backend for CloudBackend {
    async fn account_id(&self) -> Result<String, ProviderError> {
        match &self.aws {
            Some(a) => a.account_id().await,
            None => Ok(String::new()),
        }
    }

    async fn gcp_project_number(&self) -> Result<String, ProviderError> {
        match &self.gcp {
            Some(g) => g.iam.project_number().await,
            None => Ok(String::new()),
        }
    }

    fn drivers(&self) -> BTreeMap<String, Arc<dyn Driver>> {
        let mut m = BTreeMap::new();
        for e in crate::kinds::REGISTRY {
            let driver = match (e.cloud, &self.aws, &self.gcp) {
                (Cloud::Aws(make), Some(a), _) => make(a),
                (Cloud::Gcp(make), _, Some(g)) => make(g),
                _ => continue,
            };
            m.insert(e.kind.name().to_string(), driver);
        }
        m
    }

    fn managed_policies(&self) -> Option<Arc<dyn crate::engine::managed_lint::ManagedPolicyApi>> {
        self.aws
            .as_ref()
            .map(|a| Arc::new(crate::cloud::managed_policies::AwsManagedPolicies::new(a)) as Arc<dyn crate::engine::managed_lint::ManagedPolicyApi>)
    }

    fn lookups(&self) -> LookupApis {
        LookupApis {
            aws: self.aws.as_ref().map(|a| Arc::new(AwsLookups::new(a)) as Arc<dyn AwsLookupApi>),
            gcp: self.gcp.as_ref().map(|g| Arc::new(g.clone()) as Arc<dyn GcpLookupApi>),
            github: crate::cloud::github::RestRepositories::from_env().ok().map(|g| Arc::new(g) as Arc<dyn crate::lookups::GithubLookupApi>),
            region: self.aws.as_ref().and_then(|a| a.config.region()).map(|r| r.to_string()).unwrap_or_default(),
            account_id: String::new(),
            project: self.gcp.as_ref().map(|g| g.project.clone()).unwrap_or_default(),
        }
    }
}

#[async_trait]
impl Connect for AwsConnect {
    fn stats(&self) -> Arc<ApiStats> {
        self.stats.clone()
    }

    async fn connect(&self, target: &Target) -> Result<Arc<dyn Backend>, ProviderError> {
        let aws = match &target.aws_region {
            Some(r) => Some(AwsContext::load(r, self.stats.clone()).await),
            None => None,
        };
        let gcp = match &target.gcp_project {
            Some(p) => Some(GcpContext::connect(p, self.stats.clone()).await?),
            None => None,
        };
        Ok(Arc::new(CloudBackend { aws, gcp }))
    }
}
