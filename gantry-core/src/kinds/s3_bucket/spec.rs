//! The `s3_bucket` block and its desired state as types (see
//! `core::TypedKind`): the rules read fields, not JSON by key.

use super::settings::{self, Encryption, LifecycleRule, PublicAccess};
use crate::core::State;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The evaluated block (an attribute refused by the loader reads as its default).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// Bucket name, global across AWS (default: the block label).
    #[schema(forces_replacement)]
    pub name: String,
    /// Keep every version of every object (turning it off later suspends it).
    #[schema(default = false)]
    pub versioning: bool,
    /// Default encryption: AES256 (SSE-S3) or aws:kms (SSE-KMS).
    #[schema(default = "AES256", one_of("AES256", "aws:kms"))]
    pub encryption: Option<String>,
    /// KMS key ARN or alias (only with encryption = "aws:kms"; default: the AWS managed key).
    pub kms_key: Option<String>,
    /// Block Public Access: every switch on unless turned off here.
    #[schema(block, implied)]
    pub public_access_block: Option<PublicAccessBlock>,
    /// Path to a bucket policy JSON document (linted: no anyone, no writes by others).
    #[schema(ty = JsonFile)]
    pub policy_file: Option<Value>,
    /// Key prefixes anyone may download (s3:GetObject only); needs the two public-policy switches of public_access_block off.
    #[schema(default = empty)]
    pub public_read_prefixes: Vec<String>,
    /// Expiry rules, each scoped by key prefix.
    #[schema(block)]
    pub lifecycle_rule: Vec<RuleBlock>,
    /// Allow deleting the bucket with its objects (every version is deleted first).
    #[schema(default = false)]
    pub force_delete: bool,
    /// Tags (keys starting with gantry: are reserved).
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
}

fn on() -> bool {
    true
}

/// The `public_access_block` block: every switch on unless written off.
#[derive(Debug, Clone, Copy, Deserialize, Schema)]
pub struct PublicAccessBlock {
    /// Refuse requests that add public ACLs.
    #[serde(default = "on")]
    #[schema(default = true)]
    pub block_public_acls: bool,
    /// Ignore public ACLs already on the bucket and its objects.
    #[serde(default = "on")]
    #[schema(default = true)]
    pub ignore_public_acls: bool,
    /// Refuse bucket policies that grant public access.
    #[serde(default = "on")]
    #[schema(default = true)]
    pub block_public_policy: bool,
    /// Only AWS services and this account may use a bucket with a public policy.
    #[serde(default = "on")]
    #[schema(default = true)]
    pub restrict_public_buckets: bool,
}

/// One `lifecycle_rule` block.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct RuleBlock {
    /// Rule name, unique in the bucket.
    #[schema(required)]
    pub id: String,
    /// Apply to keys starting with this (default: every key).
    #[schema(default = "")]
    pub prefix: String,
    /// Expire current objects this many days after creation.
    #[schema(range(1, 36500))]
    pub expire_after_days: Option<i32>,
    /// Delete versions this many days after they stop being current.
    #[schema(range(1, 36500))]
    pub noncurrent_expire_after_days: Option<i32>,
    /// Abort multipart uploads not finished after this many days.
    #[schema(range(1, 36500))]
    pub abort_incomplete_multipart_after_days: Option<i32>,
}

/// The comparable desired state, as the plan carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Desired {
    /// Bucket name, global across AWS (default: the block label).
    pub name: String,
    /// Keep every version of every object (turning it off later suspends it).
    pub versioning: bool,
    /// Default encryption: AES256 (SSE-S3) or aws:kms (SSE-KMS).
    pub encryption: Encryption,
    /// Block Public Access: every switch on unless turned off here.
    pub public_access_block: PublicAccess,
    /// The bucket policy: the file's statements and the public-read one (normalised).
    pub policy: Option<Value>,
    /// Lifecycle rules, sorted by ID.
    pub lifecycle_rules: Option<Vec<LifecycleRule>>,
    /// Allow deleting the bucket with its objects (every version is deleted first).
    pub force_delete: bool,
    /// Tags (keys starting with gantry: are reserved).
    pub tags: BTreeMap<String, String>,
}

impl Spec {
    /// Block Public Access as written (no block: every switch on).
    pub fn public_access(&self) -> PublicAccess {
        match self.public_access_block {
            None => PublicAccess::blocked(),
            Some(b) => PublicAccess {
                block_public_acls: b.block_public_acls,
                ignore_public_acls: b.ignore_public_acls,
                block_public_policy: b.block_public_policy,
                restrict_public_buckets: b.restrict_public_buckets,
            },
        }
    }

    /// The rules in a stable order.
    pub fn lifecycle_rules(&self) -> Vec<LifecycleRule> {
        settings::sorted(
            self.lifecycle_rule
                .iter()
                .map(|r| LifecycleRule {
                    id: r.id.clone(),
                    prefix: r.prefix.clone(),
                    expire_after_days: r.expire_after_days,
                    noncurrent_expire_after_days: r.noncurrent_expire_after_days,
                    abort_incomplete_multipart_after_days: r.abort_incomplete_multipart_after_days,
                })
                .collect(),
        )
    }

    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        let rules = self.lifecycle_rules();
        Desired {
            name: self.name.clone(),
            versioning: self.versioning,
            encryption: Encryption { algorithm: self.encryption.clone().unwrap_or_else(|| "AES256".into()), kms_key: self.kms_key.clone() },
            public_access_block: self.public_access(),
            policy: settings::bucket_policy(&self.name, self.policy_file.as_ref(), &self.public_read_prefixes),
            lifecycle_rules: Some(rules).filter(|r| !r.is_empty()),
            force_delete: self.force_delete,
            tags: self.tags.clone(),
        }
    }
}

impl Desired {
    /// A desired state as the plan holds it; the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| crate::core::error::ProviderError::aws(crate::core::ErrorClass::Other, "s3", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
