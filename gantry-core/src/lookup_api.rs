//! The narrow cloud APIs data sources read through: only describe/get
//! calls, each returning the few facts a data source gives. The data
//! sources (the gantry crate's `lookups`) read through these traits; the
//! clouds' crates implement them over their clients.

use crate::core::ProviderError;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// A VPC (`DescribeVpcs`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vpc {
    /// `vpcId`.
    pub id: String,
    /// `cidrBlock`: the primary IPv4 range.
    pub cidr_block: String,
    /// `isDefault`.
    pub is_default: bool,
    /// `ownerId`: the owning account.
    pub owner_id: String,
    /// `tagSet`.
    pub tags: BTreeMap<String, String>,
}

/// A subnet (`DescribeSubnets`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subnet {
    /// `subnetId`.
    pub id: String,
    /// `vpcId`.
    pub vpc_id: String,
    /// `availabilityZone`.
    pub availability_zone: String,
    /// `cidrBlock`.
    pub cidr_block: String,
    /// `tagSet`.
    pub tags: BTreeMap<String, String>,
}

/// Which VPCs to list (every given filter must match).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VpcQuery {
    /// This VPC ID.
    pub id: Option<String>,
    /// Tags the VPC carries (every one must match).
    pub tags: BTreeMap<String, String>,
    /// Only the region's default VPC.
    pub default: bool,
}

/// An S3 bucket's facts (`HeadBucket`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The region the bucket lives in (from HeadBucket).
    pub region: String,
}

/// An IAM role's facts (`GetRole`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleFacts {
    /// The role's ARN.
    pub arn: String,
    /// Its IAM path.
    pub path: String,
    /// Its stable ID (`AROA...`).
    pub unique_id: String,
    /// Longest session, seconds.
    pub max_session_duration: i64,
}

/// An ECR repository's facts (`DescribeRepositories`).
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryFacts {
    /// The repository's ARN.
    pub arn: String,
    /// Its URI, `REGISTRY.dkr.ecr.REGION.amazonaws.com/NAME`.
    pub uri: String,
    /// The registry (account) it is in.
    pub registry_id: String,
}

/// An IAM OIDC provider's facts (`GetOpenIDConnectProvider`).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcProviderFacts {
    /// The provider's ARN.
    pub arn: String,
    /// As IAM returns it: the host and path, without `https://`.
    pub url: String,
    /// Its audiences.
    pub client_ids: Vec<String>,
    /// Its server certificate thumbprints.
    pub thumbprints: Vec<String>,
}

/// A VPC network's facts (`networks.get`).
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Its numeric ID (output only, assigned by Compute).
    pub id: String,
    /// Its full URL.
    pub self_link: String,
    /// Auto mode: one subnetwork per region, made by Compute.
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
