//! The ECR Public calls an `ecr_public_repository` driver makes, in the
//! driver's own types. The API lives in us-east-1 only; the client given
//! here must call that region. A missing policy reads as `None` and
//! deleting an absent one succeeds.

use super::catalog::Catalog;
use crate::cloud::aws::{classify, gone_is_done};
use crate::core::error::ProviderError;
use async_trait::async_trait;
use aws_sdk_ecrpublic::types::{RepositoryCatalogDataInput, Tag};
use std::collections::BTreeMap;

/// A repository as listed: its name and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicRepository {
    pub name: String,
    pub arn: String,
}

/// Repositories of the account's public registry.
#[async_trait]
pub(crate) trait EcrPublicApi: Send + Sync {
    /// Every repository (all pages).
    async fn list_repositories(&self) -> Result<Vec<PublicRepository>, ProviderError>;
    async fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ProviderError>;
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;
    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError>;
    async fn create_repository(&self, name: &str, catalog: &Catalog, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;
    async fn delete_repository(&self, name: &str, force: bool) -> Result<(), ProviderError>;
    async fn get_catalog(&self, name: &str) -> Result<Catalog, ProviderError>;
    async fn put_catalog(&self, name: &str, catalog: &Catalog) -> Result<(), ProviderError>;
    async fn get_policy(&self, name: &str) -> Result<Option<String>, ProviderError>;
    async fn set_policy(&self, name: &str, text: &str) -> Result<(), ProviderError>;
    async fn delete_policy(&self, name: &str) -> Result<(), ProviderError>;
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Every field is sent, empty when unset, so a field removed from the
/// block is cleared whether the service merges or replaces catalog data.
fn input(c: &Catalog) -> RepositoryCatalogDataInput {
    RepositoryCatalogDataInput::builder()
        .description(c.description.clone().unwrap_or_default())
        .about_text(c.about_text.clone().unwrap_or_default())
        .usage_text(c.usage_text.clone().unwrap_or_default())
        .set_architectures(Some(c.architectures.clone()))
        .set_operating_systems(Some(c.operating_systems.clone()))
        .build()
}

#[async_trait]
impl EcrPublicApi for aws_sdk_ecrpublic::Client {
    async fn list_repositories(&self) -> Result<Vec<PublicRepository>, ProviderError> {
        let repos: Vec<_> = self
            .describe_repositories()
            .max_results(1000)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ecr-public", "DescribeRepositories", e))?;
        Ok(repos
            .into_iter()
            .map(|r| PublicRepository { name: r.repository_name().unwrap_or_default().to_string(), arn: r.repository_arn().unwrap_or_default().to_string() })
            .collect())
    }

    async fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let out = self.list_tags_for_resource().resource_arn(arn).send().await.map_err(|e| classify("ecr-public", "ListTagsForResource", e))?;
        Ok(out.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect())
    }

    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.tag_resource().resource_arn(arn).set_tags(Some(sdk_tags(tags))).send().await.map(drop).map_err(|e| classify("ecr-public", "TagResource", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys)).send().await.map(drop).map_err(|e| classify("ecr-public", "UntagResource", e))
    }

    async fn create_repository(&self, name: &str, catalog: &Catalog, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        aws_sdk_ecrpublic::Client::create_repository(self)
            .repository_name(name)
            .catalog_data(input(catalog))
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr-public", "CreateRepository", e))
    }

    async fn delete_repository(&self, name: &str, force: bool) -> Result<(), ProviderError> {
        let r = aws_sdk_ecrpublic::Client::delete_repository(self).repository_name(name).force(force).send().await;
        gone_is_done(r.map(drop).map_err(|e| classify("ecr-public", "DeleteRepository", e)))
    }

    async fn get_catalog(&self, name: &str) -> Result<Catalog, ProviderError> {
        let out = self.get_repository_catalog_data().repository_name(name).send().await.map_err(|e| classify("ecr-public", "GetRepositoryCatalogData", e))?;
        Ok(out.catalog_data().map(catalog_from_sdk).unwrap_or_default())
    }

    async fn put_catalog(&self, name: &str, catalog: &Catalog) -> Result<(), ProviderError> {
        self.put_repository_catalog_data()
            .repository_name(name)
            .catalog_data(input(catalog))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr-public", "PutRepositoryCatalogData", e))
    }

    async fn get_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        match self.get_repository_policy().repository_name(name).send().await {
            Ok(out) => Ok(out.policy_text().map(String::from)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_policy_not_found_exception()) => Ok(None),
            Err(e) => Err(classify("ecr-public", "GetRepositoryPolicy", e)),
        }
    }

    async fn set_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        self.set_repository_policy()
            .repository_name(name)
            .policy_text(text)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr-public", "SetRepositoryPolicy", e))
    }

    async fn delete_policy(&self, name: &str) -> Result<(), ProviderError> {
        match self.delete_repository_policy().repository_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_policy_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("ecr-public", "DeleteRepositoryPolicy", e)),
        }
    }
}

/// The catalog as read: empty texts and lists are unset, lists sorted (as
/// [`Catalog::new`] makes the block's).
fn catalog_from_sdk(c: &aws_sdk_ecrpublic::types::RepositoryCatalogData) -> Catalog {
    Catalog::new(c.description(), c.about_text(), c.usage_text(), c.architectures().to_vec(), c.operating_systems().to_vec())
}
