//! The narrow cloud APIs data sources read through: only describe/get
//! calls, each returning the few facts a data source gives.

pub(crate) use crate::cloud::ec2_xml::{Subnet, Vpc};
use crate::core::ProviderError;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Which VPCs to list (every given filter must match).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VpcQuery {
    pub id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Only the region's default VPC.
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The region the bucket lives in (from HeadBucket).
    pub region: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleFacts {
    pub arn: String,
    pub path: String,
    pub unique_id: String,
    pub max_session_duration: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryFacts {
    pub arn: String,
    pub uri: String,
    pub registry_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OidcProviderFacts {
    pub arn: String,
    /// As IAM returns it: the host and path, without `https://`.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub id: String,
    pub self_link: String,
    pub auto_create_subnetworks: bool,
    /// Full URLs, as Compute returns them.
    pub subnetworks: Vec<String>,
}

/// AWS reads for data sources (in the stack's region).
#[async_trait]
pub trait AwsLookupApi: Send + Sync {
    /// DescribeVpcs with the query's filters, every page.
    async fn vpcs(&self, q: &VpcQuery) -> Result<Vec<Vpc>, ProviderError>;
    /// DescribeSubnets of a VPC (or all) with tag filters, every page.
    async fn subnets(&self, vpc_id: Option<&str>, tags: &BTreeMap<String, String>, zones: &[String]) -> Result<Vec<Subnet>, ProviderError>;
    /// HeadBucket: None when there is no such bucket.
    async fn bucket(&self, name: &str) -> Result<Option<Bucket>, ProviderError>;
    /// GetRole: None when there is no such role.
    async fn role(&self, name: &str) -> Result<Option<RoleFacts>, ProviderError>;
    /// DescribeRepositories for one name (in another registry when given).
    async fn repository(&self, name: &str, registry_id: Option<&str>) -> Result<Option<RepositoryFacts>, ProviderError>;
    /// The OIDC provider whose URL is `host` (ListOpenIDConnectProviders, then Get).
    async fn oidc_provider(&self, host: &str) -> Result<Option<OidcProviderFacts>, ProviderError>;
}

/// Google Cloud reads for data sources.
#[async_trait]
pub trait GcpLookupApi: Send + Sync {
    /// networks.get: None when there is no such network.
    async fn network(&self, project: &str, name: &str) -> Result<Option<Network>, ProviderError>;
}

/// The GitHub REST calls data sources make (defined with the client).
pub(crate) use crate::cloud::github::GithubLookupApi;
#[cfg(test)]
pub(crate) use crate::cloud::github::RepositoryListing;
