//! The S3 calls an `s3_bucket` driver makes, in the driver's own types.
//! "Nothing configured" answers (NoSuchTagSet, NoSuchBucketPolicy,
//! NoSuchLifecycleConfiguration, a bucket never versioned) read as empty
//! values, and deleting what is absent succeeds, so the driver never
//! matches SDK error types.

use super::lifecycle_sdk;
use super::settings::{Encryption, LifecycleRule, PublicAccess};
use crate::cloud::aws::{classify, gone_is_done};
use crate::core::error::{ErrorClass, ProviderError};
use async_trait::async_trait;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::types as s3;
use std::collections::BTreeMap;

/// Where a bucket name stands, as HeadBucket tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameStatus {
    /// No bucket has the name: it can be created.
    Free,
    /// A bucket of this account, in this region.
    Here,
    /// A bucket of this account in another region (S3 answers 301 or names it).
    Elsewhere(String),
    /// Another account's bucket (S3 answers 403): names are global.
    Taken,
}

/// Buckets of one account, called through one region's endpoint.
#[async_trait]
pub(crate) trait S3Api: Send + Sync {
    /// Names of the account's buckets in the region (all pages).
    async fn list_buckets(&self) -> Result<Vec<String>, ProviderError>;
    async fn head_bucket(&self, name: &str) -> Result<NameStatus, ProviderError>;
    async fn create_bucket(&self, name: &str) -> Result<(), ProviderError>;
    async fn delete_bucket(&self, name: &str) -> Result<(), ProviderError>;
    async fn get_tags(&self, name: &str) -> Result<BTreeMap<String, String>, ProviderError>;
    async fn put_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;
    /// True when versioning is Enabled (never enabled and Suspended are false).
    async fn get_versioning(&self, name: &str) -> Result<bool, ProviderError>;
    async fn put_versioning(&self, name: &str, enabled: bool) -> Result<(), ProviderError>;
    async fn get_encryption(&self, name: &str) -> Result<Encryption, ProviderError>;
    async fn put_encryption(&self, name: &str, enc: &Encryption) -> Result<(), ProviderError>;
    async fn get_public_access(&self, name: &str) -> Result<PublicAccess, ProviderError>;
    async fn put_public_access(&self, name: &str, pab: &PublicAccess) -> Result<(), ProviderError>;
    async fn get_policy(&self, name: &str) -> Result<Option<String>, ProviderError>;
    async fn put_policy(&self, name: &str, text: &str) -> Result<(), ProviderError>;
    async fn delete_policy(&self, name: &str) -> Result<(), ProviderError>;
    async fn get_lifecycle(&self, name: &str) -> Result<Vec<LifecycleRule>, ProviderError>;
    async fn put_lifecycle(&self, name: &str, rules: &[LifecycleRule]) -> Result<(), ProviderError>;
    async fn delete_lifecycle(&self, name: &str) -> Result<(), ProviderError>;
    /// Deletes every object version and delete marker; returns how many.
    async fn empty(&self, name: &str) -> Result<usize, ProviderError>;
}

/// An SDK client and the region it calls.
pub(crate) struct S3Client {
    pub client: aws_sdk_s3::Client,
    pub region: String,
}

fn build_err(op: &'static str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::aws(ErrorClass::Other, "s3", op, e.to_string())
}

/// `Err` unless the error is the service's "nothing configured" code.
fn none_if<T, E>(
    r: Result<T, SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>>,
    op: &'static str,
    code: &str,
) -> Result<Option<T>, ProviderError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + aws_sdk_sts::operation::RequestId + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some(code) => Ok(None),
        Err(e) => Err(classify("s3", op, e)),
    }
}

#[async_trait]
impl S3Api for S3Client {
    /// ListBuckets filtered by region, paginated (S3 only supports
    /// unpaginated listing up to the default 10,000-bucket quota).
    async fn list_buckets(&self) -> Result<Vec<String>, ProviderError> {
        let pages: Vec<_> = self
            .client
            .list_buckets()
            .bucket_region(&self.region)
            .max_buckets(1000)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("s3", "ListBuckets", e))?;
        Ok(pages.iter().flat_map(|p| p.buckets()).filter_map(|b| b.name().map(String::from)).collect())
    }

    async fn head_bucket(&self, name: &str) -> Result<NameStatus, ProviderError> {
        match self.client.head_bucket().bucket(name).send().await {
            Ok(out) => Ok(match out.bucket_region() {
                Some(r) if r != self.region => NameStatus::Elsewhere(r.to_string()),
                _ => NameStatus::Here,
            }),
            Err(SdkError::ServiceError(se)) => {
                let region = se.raw().headers().get("x-amz-bucket-region").map(String::from);
                match se.raw().status().as_u16() {
                    404 => Ok(NameStatus::Free),
                    403 => Ok(NameStatus::Taken),
                    301 => Ok(NameStatus::Elsewhere(region.unwrap_or_else(|| "another region".into()))),
                    status => Err(ProviderError::aws(ErrorClass::Other, "s3", "HeadBucket", format!("HTTP {status} for bucket {name}"))),
                }
            }
            Err(e) => Err(classify("s3", "HeadBucket", e)),
        }
    }

    async fn create_bucket(&self, name: &str) -> Result<(), ProviderError> {
        let mut req = self.client.create_bucket().bucket(name);
        // us-east-1 is the one region that takes no location constraint.
        if self.region != "us-east-1" {
            let loc = s3::BucketLocationConstraint::from(self.region.as_str());
            req = req.create_bucket_configuration(s3::CreateBucketConfiguration::builder().location_constraint(loc).build());
        }
        req.send().await.map(drop).map_err(|e| classify("s3", "CreateBucket", e))
    }

    async fn delete_bucket(&self, name: &str) -> Result<(), ProviderError> {
        gone_is_done(self.client.delete_bucket().bucket(name).send().await.map(drop).map_err(|e| classify("s3", "DeleteBucket", e)))
    }

    async fn get_tags(&self, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let out = none_if(self.client.get_bucket_tagging().bucket(name).send().await, "GetBucketTagging", "NoSuchTagSet")?;
        Ok(out.map(|o| o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()).unwrap_or_default())
    }

    async fn put_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let set: Vec<s3::Tag> =
            tags.iter().map(|(k, v)| s3::Tag::builder().key(k).value(v).build()).collect::<Result<_, _>>().map_err(|e| build_err("PutBucketTagging", e))?;
        let tagging = s3::Tagging::builder().set_tag_set(Some(set)).build().map_err(|e| build_err("PutBucketTagging", e))?;
        self.client.put_bucket_tagging().bucket(name).tagging(tagging).send().await.map(drop).map_err(|e| classify("s3", "PutBucketTagging", e))
    }

    async fn get_versioning(&self, name: &str) -> Result<bool, ProviderError> {
        let out = self.client.get_bucket_versioning().bucket(name).send().await.map_err(|e| classify("s3", "GetBucketVersioning", e))?;
        Ok(out.status() == Some(&s3::BucketVersioningStatus::Enabled))
    }

    async fn put_versioning(&self, name: &str, enabled: bool) -> Result<(), ProviderError> {
        // Versioning once enabled can only be suspended, never turned off.
        let status = if enabled { s3::BucketVersioningStatus::Enabled } else { s3::BucketVersioningStatus::Suspended };
        let conf = s3::VersioningConfiguration::builder().status(status).build();
        self.client
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(conf)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("s3", "PutBucketVersioning", e))
    }

    async fn get_encryption(&self, name: &str) -> Result<Encryption, ProviderError> {
        let op = "GetBucketEncryption";
        let out = none_if(self.client.get_bucket_encryption().bucket(name).send().await, op, "ServerSideEncryptionConfigurationNotFoundError")?;
        let default = out
            .as_ref()
            .and_then(|o| o.server_side_encryption_configuration())
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default());
        // Every bucket is encrypted with SSE-S3 unless configured otherwise (since January 2023).
        Ok(match default {
            Some(d) => Encryption { algorithm: d.sse_algorithm().as_str().to_string(), kms_key: d.kms_master_key_id().map(String::from) },
            None => Encryption::default(),
        })
    }

    async fn put_encryption(&self, name: &str, enc: &Encryption) -> Result<(), ProviderError> {
        let op = "PutBucketEncryption";
        let by_default = s3::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(s3::ServerSideEncryption::from(enc.algorithm.as_str()))
            .set_kms_master_key_id(enc.kms_key.clone())
            .build()
            .map_err(|e| build_err(op, e))?;
        let rule =
            s3::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).bucket_key_enabled(enc.kms_key.is_some()).build();
        let conf = s3::ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(|e| build_err(op, e))?;
        self.client.put_bucket_encryption().bucket(name).server_side_encryption_configuration(conf).send().await.map(drop).map_err(|e| classify("s3", op, e))
    }

    async fn get_public_access(&self, name: &str) -> Result<PublicAccess, ProviderError> {
        let op = "GetPublicAccessBlock";
        let out = none_if(self.client.get_public_access_block().bucket(name).send().await, op, "NoSuchPublicAccessBlockConfiguration")?;
        Ok(match out.as_ref().and_then(|o| o.public_access_block_configuration()) {
            Some(c) => PublicAccess {
                block_public_acls: c.block_public_acls().unwrap_or(false),
                ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                block_public_policy: c.block_public_policy().unwrap_or(false),
                restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
            },
            None => PublicAccess::open(),
        })
    }

    async fn put_public_access(&self, name: &str, p: &PublicAccess) -> Result<(), ProviderError> {
        let conf = s3::PublicAccessBlockConfiguration::builder()
            .block_public_acls(p.block_public_acls)
            .ignore_public_acls(p.ignore_public_acls)
            .block_public_policy(p.block_public_policy)
            .restrict_public_buckets(p.restrict_public_buckets)
            .build();
        self.client
            .put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(conf)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("s3", "PutPublicAccessBlock", e))
    }

    async fn get_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        let out = none_if(self.client.get_bucket_policy().bucket(name).send().await, "GetBucketPolicy", "NoSuchBucketPolicy")?;
        Ok(out.and_then(|o| o.policy().map(String::from)))
    }

    async fn put_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        self.client.put_bucket_policy().bucket(name).policy(text).send().await.map(drop).map_err(|e| classify("s3", "PutBucketPolicy", e))
    }

    async fn delete_policy(&self, name: &str) -> Result<(), ProviderError> {
        gone_is_done(self.client.delete_bucket_policy().bucket(name).send().await.map(drop).map_err(|e| classify("s3", "DeleteBucketPolicy", e)))
    }

    async fn get_lifecycle(&self, name: &str) -> Result<Vec<LifecycleRule>, ProviderError> {
        let op = "GetBucketLifecycleConfiguration";
        let out = none_if(self.client.get_bucket_lifecycle_configuration().bucket(name).send().await, op, "NoSuchLifecycleConfiguration")?;
        Ok(out.map(|o| o.rules().iter().map(lifecycle_sdk::from_sdk).collect()).unwrap_or_default())
    }

    async fn put_lifecycle(&self, name: &str, rules: &[LifecycleRule]) -> Result<(), ProviderError> {
        let op = "PutBucketLifecycleConfiguration";
        let rules: Vec<s3::LifecycleRule> = rules.iter().map(lifecycle_sdk::to_sdk).collect::<Result<_, _>>().map_err(|e| build_err(op, e))?;
        let conf = s3::BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().map_err(|e| build_err(op, e))?;
        self.client.put_bucket_lifecycle_configuration().bucket(name).lifecycle_configuration(conf).send().await.map(drop).map_err(|e| classify("s3", op, e))
    }

    async fn delete_lifecycle(&self, name: &str) -> Result<(), ProviderError> {
        gone_is_done(self.client.delete_bucket_lifecycle().bucket(name).send().await.map(drop).map_err(|e| classify("s3", "DeleteBucketLifecycle", e)))
    }

    /// ListObjectVersions pages of up to 1,000 (followed by key and
    /// version markers) and one DeleteObjects per page (its limit is 1,000).
    async fn empty(&self, name: &str) -> Result<usize, ProviderError> {
        let (mut key_marker, mut version_marker) = (None, None);
        let mut deleted = 0;
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(name)
                .max_keys(1000)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| classify("s3", "ListObjectVersions", e))?;
            let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
            let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id()));
            let ids: Vec<s3::ObjectIdentifier> = versions
                .chain(markers)
                .filter_map(|(k, v)| k.map(|k| s3::ObjectIdentifier::builder().key(k).set_version_id(v.map(String::from)).build()))
                .collect::<Result<_, _>>()
                .map_err(|e| build_err("DeleteObjects", e))?;
            if !ids.is_empty() {
                let n = ids.len();
                let delete = s3::Delete::builder().set_objects(Some(ids)).quiet(true).build().map_err(|e| build_err("DeleteObjects", e))?;
                let out = self.client.delete_objects().bucket(name).delete(delete).send().await.map_err(|e| classify("s3", "DeleteObjects", e))?;
                if let Some(e) = out.errors().first() {
                    let what = format!("{}: {} ({} of {n} objects not deleted)", e.code().unwrap_or("Error"), e.message().unwrap_or(""), out.errors().len());
                    return Err(ProviderError::aws(ErrorClass::Other, "s3", "DeleteObjects", what));
                }
                deleted += n;
            }
            if page.is_truncated() != Some(true) {
                return Ok(deleted);
            }
            key_marker = page.next_key_marker().map(String::from);
            version_marker = page.next_version_id_marker().map(String::from);
        }
    }
}
