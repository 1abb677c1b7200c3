//! The ECR calls an `ecr_repository` driver makes. Missing policies read as
//! `None` and deleting an absent one succeeds, so the driver never matches
//! SDK error types; other failures arrive classified (`RepositoryNotFound`
//! as NotFound, `RepositoryNotEmpty` as Conflict).

use crate::cloud::aws::classify;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use aws_sdk_ecr::types::{EncryptionConfiguration, ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use std::collections::BTreeMap;

/// What a new repository is created with.
#[derive(Debug, Clone)]
pub(crate) struct NewRepository {
    pub name: String,
    pub image_tag_mutability: ImageTagMutability,
    pub scan_on_push: bool,
    pub encryption: EncryptionConfiguration,
    pub tags: BTreeMap<String, String>,
}

/// Repositories of one account and region.
#[async_trait]
pub(crate) trait EcrApi: Send + Sync {
    /// Every repository (all pages).
    async fn list_repositories(&self) -> Result<Vec<Repository>, ProviderError>;
    async fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ProviderError>;
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;
    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError>;
    async fn create_repository(&self, repo: NewRepository) -> Result<(), ProviderError>;
    async fn delete_repository(&self, name: &str, force: bool) -> Result<(), ProviderError>;
    async fn put_image_tag_mutability(&self, name: &str, mutability: ImageTagMutability) -> Result<(), ProviderError>;
    async fn put_scan_on_push(&self, name: &str, scan_on_push: bool) -> Result<(), ProviderError>;
    /// The lifecycle policy text, `None` when there is none.
    async fn get_lifecycle_policy(&self, name: &str) -> Result<Option<String>, ProviderError>;
    async fn put_lifecycle_policy(&self, name: &str, text: &str) -> Result<(), ProviderError>;
    /// Succeeds when there is none.
    async fn delete_lifecycle_policy(&self, name: &str) -> Result<(), ProviderError>;
    /// The repository policy text, `None` when there is none.
    async fn get_repository_policy(&self, name: &str) -> Result<Option<String>, ProviderError>;
    async fn set_repository_policy(&self, name: &str, text: &str) -> Result<(), ProviderError>;
    /// Succeeds when there is none.
    async fn delete_repository_policy(&self, name: &str) -> Result<(), ProviderError>;
}

fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

#[async_trait]
impl EcrApi for aws_sdk_ecr::Client {
    /// `DescribeRepositories` with names fails whole if one is missing, so
    /// gantry lists (1000 per page) and filters instead.
    async fn list_repositories(&self) -> Result<Vec<Repository>, ProviderError> {
        self.describe_repositories()
            .max_results(1000)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ecr", "DescribeRepositories", e))
    }

    async fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let out = self.list_tags_for_resource().resource_arn(arn).send().await.map_err(|e| classify("ecr", "ListTagsForResource", e))?;
        Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
    }

    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.tag_resource().resource_arn(arn).set_tags(Some(sdk_tags(tags))).send().await.map(drop).map_err(|e| classify("ecr", "TagResource", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys)).send().await.map(drop).map_err(|e| classify("ecr", "UntagResource", e))
    }

    async fn create_repository(&self, repo: NewRepository) -> Result<(), ProviderError> {
        aws_sdk_ecr::Client::create_repository(self)
            .repository_name(repo.name)
            .image_tag_mutability(repo.image_tag_mutability)
            .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(repo.scan_on_push).build())
            .encryption_configuration(repo.encryption)
            .set_tags(Some(sdk_tags(&repo.tags)))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr", "CreateRepository", e))
    }

    async fn delete_repository(&self, name: &str, force: bool) -> Result<(), ProviderError> {
        aws_sdk_ecr::Client::delete_repository(self)
            .repository_name(name)
            .force(force)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr", "DeleteRepository", e))
    }

    async fn put_image_tag_mutability(&self, name: &str, mutability: ImageTagMutability) -> Result<(), ProviderError> {
        aws_sdk_ecr::Client::put_image_tag_mutability(self)
            .repository_name(name)
            .image_tag_mutability(mutability)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr", "PutImageTagMutability", e))
    }

    async fn put_scan_on_push(&self, name: &str, scan_on_push: bool) -> Result<(), ProviderError> {
        self.put_image_scanning_configuration()
            .repository_name(name)
            .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(scan_on_push).build())
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr", "PutImageScanningConfiguration", e))
    }

    async fn get_lifecycle_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        match aws_sdk_ecr::Client::get_lifecycle_policy(self).repository_name(name).send().await {
            Ok(out) => Ok(out.lifecycle_policy_text().map(String::from)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_lifecycle_policy_not_found_exception()) => Ok(None),
            Err(e) => Err(classify("ecr", "GetLifecyclePolicy", e)),
        }
    }

    async fn put_lifecycle_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        aws_sdk_ecr::Client::put_lifecycle_policy(self)
            .repository_name(name)
            .lifecycle_policy_text(text)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr", "PutLifecyclePolicy", e))
    }

    async fn delete_lifecycle_policy(&self, name: &str) -> Result<(), ProviderError> {
        match aws_sdk_ecr::Client::delete_lifecycle_policy(self).repository_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_lifecycle_policy_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("ecr", "DeleteLifecyclePolicy", e)),
        }
    }

    async fn get_repository_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        match aws_sdk_ecr::Client::get_repository_policy(self).repository_name(name).send().await {
            Ok(out) => Ok(out.policy_text().map(String::from)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_policy_not_found_exception()) => Ok(None),
            Err(e) => Err(classify("ecr", "GetRepositoryPolicy", e)),
        }
    }

    async fn set_repository_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        aws_sdk_ecr::Client::set_repository_policy(self)
            .repository_name(name)
            .policy_text(text)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("ecr", "SetRepositoryPolicy", e))
    }

    async fn delete_repository_policy(&self, name: &str) -> Result<(), ProviderError> {
        match aws_sdk_ecr::Client::delete_repository_policy(self).repository_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_policy_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("ecr", "DeleteRepositoryPolicy", e)),
        }
    }
}
