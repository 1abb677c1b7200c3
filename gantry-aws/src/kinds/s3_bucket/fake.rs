//! An in-memory S3 for driver unit tests, answering as the service does
//! (each behaviour from the S3 User Guide / API Reference):
//! - a new bucket has Block Public Access fully on and SSE-S3 encryption
//!   ("Default settings for new S3 buckets", April 2023; "Default
//!   encryption", January 2023), and no versioning status until enabled
//!   (GetBucketVersioning);
//! - names are global: another account's bucket answers 403 to HeadBucket
//!   and BucketAlreadyExists to CreateBucket; our own answers
//!   BucketAlreadyOwnedByYou outside us-east-1 (CreateBucket);
//! - with BlockPublicPolicy on, a public bucket policy is refused with
//!   AccessDenied (Block Public Access, "BlockPublicPolicy");
//! - a bucket with objects cannot be deleted (BucketNotEmpty, 409);
//! - GetBucketPolicy returns the document as S3 stores it (whitespace
//!   removed), so readers must parse rather than compare text.

use super::api::{NameStatus, S3Api};
use super::settings::{Encryption, LifecycleRule, PublicAccess};
use crate::cloud::aws::class_of_code;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

pub(super) const REGION: &str = "us-west-2";

struct Bucket {
    region: String,
    ours: bool,
    tags: BTreeMap<String, String>,
    versioning: bool,
    encryption: Encryption,
    pab: PublicAccess,
    policy: Option<String>,
    lifecycle: Vec<LifecycleRule>,
    objects: usize,
}

#[derive(Default)]
pub(super) struct FakeS3 {
    buckets: Mutex<BTreeMap<String, Bucket>>,
    calls: Mutex<Vec<String>>,
}

fn err(op: &'static str, code: &str, msg: &str) -> ProviderError {
    ProviderError::aws(class_of_code(code), "s3", op, format!("{code}: {msg}"))
}

impl FakeS3 {
    pub(super) fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// A bucket of another account (`ours = false`) or an untagged one of
    /// ours, in `region`.
    pub(super) fn seed(&self, name: &str, region: &str, ours: bool) {
        self.insert(name, region, ours);
    }

    pub(super) fn put_objects(&self, name: &str, n: usize) {
        self.buckets.lock().unwrap().get_mut(name).expect("bucket exists").objects += n;
    }

    pub(super) fn objects(&self, name: &str) -> Option<usize> {
        self.buckets.lock().unwrap().get(name).map(|b| b.objects)
    }

    fn insert(&self, name: &str, region: &str, ours: bool) {
        let b = Bucket {
            region: region.into(),
            ours,
            tags: BTreeMap::new(),
            versioning: false,
            encryption: Encryption::default(),
            pab: PublicAccess::blocked(),
            policy: None,
            lifecycle: Vec::new(),
            objects: 0,
        };
        self.buckets.lock().unwrap().insert(name.into(), b);
    }

    /// Runs `f` on one of our buckets in this region, recording the call.
    fn with<T>(&self, op: &'static str, name: &str, f: impl FnOnce(&mut Bucket) -> Result<T, ProviderError>) -> Result<T, ProviderError> {
        self.calls.lock().unwrap().push(format!("{op} {name}"));
        let mut buckets = self.buckets.lock().unwrap();
        match buckets.get_mut(name) {
            Some(b) if !b.ours => Err(err(op, "AccessDenied", "Access Denied")),
            Some(b) if b.region != REGION => {
                Err(err(op, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint."))
            }
            Some(b) => f(b),
            None => Err(err(op, "NoSuchBucket", "The specified bucket does not exist")),
        }
    }
}

fn is_public(policy: &str) -> bool {
    let doc: serde_json::Value = serde_json::from_str(policy).unwrap_or_default();
    crate::lint::statements(&doc).iter().any(|s| crate::lint::principals(s).iter().any(|(k, v)| crate::lint::principal_is_anyone(k, v)))
}

#[async_trait]
impl S3Api for FakeS3 {
    async fn list_buckets(&self) -> Result<Vec<String>, ProviderError> {
        self.calls.lock().unwrap().push("ListBuckets".into());
        Ok(self.buckets.lock().unwrap().iter().filter(|(_, b)| b.ours && b.region == REGION).map(|(n, _)| n.clone()).collect())
    }

    async fn head_bucket(&self, name: &str) -> Result<NameStatus, ProviderError> {
        self.calls.lock().unwrap().push(format!("HeadBucket {name}"));
        Ok(match self.buckets.lock().unwrap().get(name) {
            None => NameStatus::Free,
            Some(b) if !b.ours => NameStatus::Taken,
            Some(b) if b.region != REGION => NameStatus::Elsewhere(b.region.clone()),
            Some(_) => NameStatus::Here,
        })
    }

    async fn create_bucket(&self, name: &str) -> Result<(), ProviderError> {
        self.calls.lock().unwrap().push(format!("CreateBucket {name}"));
        match self.buckets.lock().unwrap().get(name) {
            Some(b) if b.ours => {
                return Err(err(
                    "CreateBucket",
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                ))
            }
            Some(_) => return Err(err("CreateBucket", "BucketAlreadyExists", "The requested bucket name is not available.")),
            None => {}
        }
        self.insert(name, REGION, true);
        Ok(())
    }

    async fn delete_bucket(&self, name: &str) -> Result<(), ProviderError> {
        let r = self.with("DeleteBucket", name, |b| {
            if b.objects > 0 {
                Err(err("DeleteBucket", "BucketNotEmpty", "The bucket you tried to delete is not empty"))
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => {
                self.buckets.lock().unwrap().remove(name);
                Ok(())
            }
            Err(e) if e.class == crate::core::ErrorClass::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn get_tags(&self, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        self.with("GetBucketTagging", name, |b| Ok(b.tags.clone()))
    }

    async fn put_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.with("PutBucketTagging", name, |b| {
            b.tags = tags.clone();
            Ok(())
        })
    }

    async fn get_versioning(&self, name: &str) -> Result<bool, ProviderError> {
        self.with("GetBucketVersioning", name, |b| Ok(b.versioning))
    }

    async fn put_versioning(&self, name: &str, enabled: bool) -> Result<(), ProviderError> {
        self.with("PutBucketVersioning", name, |b| {
            b.versioning = enabled;
            Ok(())
        })
    }

    async fn get_encryption(&self, name: &str) -> Result<Encryption, ProviderError> {
        self.with("GetBucketEncryption", name, |b| Ok(b.encryption.clone()))
    }

    async fn put_encryption(&self, name: &str, enc: &Encryption) -> Result<(), ProviderError> {
        self.with("PutBucketEncryption", name, |b| {
            b.encryption = enc.clone();
            Ok(())
        })
    }

    async fn get_public_access(&self, name: &str) -> Result<PublicAccess, ProviderError> {
        self.with("GetPublicAccessBlock", name, |b| Ok(b.pab))
    }

    async fn put_public_access(&self, name: &str, pab: &PublicAccess) -> Result<(), ProviderError> {
        self.with("PutPublicAccessBlock", name, |b| {
            b.pab = *pab;
            Ok(())
        })
    }

    async fn get_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        self.with("GetBucketPolicy", name, |b| Ok(b.policy.clone()))
    }

    async fn put_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        self.with("PutBucketPolicy", name, |b| {
            if b.pab.block_public_policy && is_public(text) {
                return Err(err("PutBucketPolicy", "AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting."));
            }
            let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| err("PutBucketPolicy", "MalformedPolicy", &e.to_string()))?;
            b.policy = Some(doc.to_string());
            Ok(())
        })
    }

    async fn delete_policy(&self, name: &str) -> Result<(), ProviderError> {
        self.with("DeleteBucketPolicy", name, |b| {
            b.policy = None;
            Ok(())
        })
    }

    async fn get_lifecycle(&self, name: &str) -> Result<Vec<LifecycleRule>, ProviderError> {
        self.with("GetBucketLifecycleConfiguration", name, |b| Ok(b.lifecycle.clone()))
    }

    async fn put_lifecycle(&self, name: &str, rules: &[LifecycleRule]) -> Result<(), ProviderError> {
        self.with("PutBucketLifecycleConfiguration", name, |b| {
            b.lifecycle = rules.to_vec();
            Ok(())
        })
    }

    async fn delete_lifecycle(&self, name: &str) -> Result<(), ProviderError> {
        self.with("DeleteBucketLifecycle", name, |b| {
            b.lifecycle.clear();
            Ok(())
        })
    }

    async fn empty(&self, name: &str) -> Result<usize, ProviderError> {
        self.with("DeleteObjects", name, |b| Ok(std::mem::take(&mut b.objects)))
    }
}
