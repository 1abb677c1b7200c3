//! Data sources: existing resources a stack reads at plan time and never
//! changes (`data "vpc" "main" { tags = { Name = "ci" } }`), one file each
//! with the same shape: arguments, the attributes it gives, and its read
//! over a narrow API trait ([`AwsLookupApi`], [`GcpLookupApi`]) so unit
//! tests use fakes. [`REGISTRY`] lists them; nothing else does.
//!
//! Reads happen before the stack is evaluated for a plan: a data block's
//! arguments may use variables, locals, `stack.*` and other data blocks,
//! never a resource (that would need the change applied first).

mod api;
mod ecr_repository;
mod gcp_network;
mod github_oidc_provider;
mod github_repositories;
mod iam_role;
mod s3_bucket;
mod subnets;
mod vpc;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;

pub(crate) use api::{AwsLookupApi, GcpLookupApi, GithubLookupApi, VpcQuery};
pub(crate) use gantry_aws::lookups::AwsLookups;

use crate::core::{read_args, DataSchema, ProviderError, State, TypedDataSchema};
/// A read's typed `Found` as the data block's value.
use crate::kinds::common::to_state;
use async_trait::async_trait;
use std::sync::Arc;

/// Cloud access for reads, plus the facts ARNs and URLs are built from.
#[derive(Clone, Default)]
pub struct LookupApis {
    pub aws: Option<Arc<dyn AwsLookupApi>>,
    pub gcp: Option<Arc<dyn GcpLookupApi>>,
    /// The GitHub REST API (no cloud needed).
    pub github: Option<Arc<dyn GithubLookupApi>>,
    /// The stack's AWS region and account, its Google Cloud project.
    pub region: String,
    pub account_id: String,
    pub project: String,
}

impl LookupApis {
    fn aws(&self, source: &str) -> Result<&dyn AwsLookupApi, LookupError> {
        self.aws.as_deref().ok_or_else(|| LookupError::Missing(format!("data \"{source}\" needs AWS: add aws {{ region = \"...\" }} to the stack block")))
    }
    fn github(&self) -> Result<&dyn GithubLookupApi, LookupError> {
        self.github.as_deref().ok_or_else(|| LookupError::Missing("the GitHub API is not available here".into()))
    }
    fn gcp(&self, source: &str) -> Result<&dyn GcpLookupApi, LookupError> {
        self.gcp
            .as_deref()
            .ok_or_else(|| LookupError::Missing(format!("data \"{source}\" needs Google Cloud: add gcp {{ project = \"...\" }} to the stack block")))
    }
}

/// Why a read gave no value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    /// Nothing (or more than one thing) matches: the user's to fix, shown
    /// at the data block.
    #[error("{0}")]
    Missing(String),
    /// The cloud call failed (credentials, network, permissions).
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// One data source: its pure half (what the language checks, in
/// gantry-core) and its read.
#[async_trait]
pub(crate) trait DataSource: DataSchema {
    /// Reads the resource the arguments describe.
    async fn read(&self, args: &State, apis: &LookupApis) -> Result<State, LookupError>;
}

/// A data source's read in its own types: its typed arguments in, what it
/// found out ([`DataSource`] follows, reading the block's arguments once
/// and writing what was found as the block's value).
#[async_trait]
pub(crate) trait TypedRead: TypedDataSchema {
    /// Finds the resource the arguments describe.
    async fn find(&self, args: &Self::Args, apis: &LookupApis) -> Result<Self::Found, LookupError>;
}

#[async_trait]
impl<T> DataSource for T
where
    T: TypedRead,
    T::Args: Send + Sync,
    T::Found: serde::Serialize + Send,
{
    async fn read(&self, args: &State, apis: &LookupApis) -> Result<State, LookupError> {
        let args: T::Args = read_args(args);
        Ok(to_state(&self.find(&args, apis).await?))
    }
}

/// Every data source, in documentation order.
pub(crate) static REGISTRY: &[&dyn DataSource] = &[
    &github_oidc_provider::GithubOidcProvider,
    &github_repositories::GithubRepositories,
    &iam_role::IamRole,
    &ecr_repository::EcrRepository,
    &s3_bucket::S3Bucket,
    &vpc::VpcSource,
    &subnets::Subnets,
    &gcp_network::GcpNetwork,
];

/// Every data source's pure half, for the language ([`crate::ops::language`]).
pub(crate) fn schemas() -> Vec<&'static dyn DataSchema> {
    REGISTRY.iter().map(|&s| s as &'static dyn DataSchema).collect()
}

/// Looks a data source up by its block type.
pub(crate) fn by_name(name: &str) -> Option<&'static dyn DataSource> {
    REGISTRY.iter().copied().find(|s| s.name() == name)
}

/// A string argument as given: unset and "" alike are none.
fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}
