//! The `s3_bucket` block and its desired state as types (see
//! `core::TypedKind`): the rules read fields, not JSON by key.

use super::settings::{self, Encryption, LifecycleRule, PublicAccess};
use crate::core::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The evaluated block (an attribute refused by the loader reads as its default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Spec {
    pub name: String,
    pub versioning: bool,
    pub encryption: Option<String>,
    pub kms_key: Option<String>,
    pub public_access_block: Option<PublicAccessBlock>,
    pub public_read_prefixes: Vec<String>,
    pub lifecycle_rule: Vec<RuleBlock>,
    pub policy_file: Option<Value>,
    pub force_delete: bool,
    pub tags: BTreeMap<String, String>,
}

fn on() -> bool {
    true
}

/// The `public_access_block` block: every switch on unless written off.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct PublicAccessBlock {
    #[serde(default = "on")]
    pub block_public_acls: bool,
    #[serde(default = "on")]
    pub ignore_public_acls: bool,
    #[serde(default = "on")]
    pub block_public_policy: bool,
    #[serde(default = "on")]
    pub restrict_public_buckets: bool,
}

/// One `lifecycle_rule` block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RuleBlock {
    pub id: String,
    pub prefix: String,
    pub expire_after_days: Option<i32>,
    pub noncurrent_expire_after_days: Option<i32>,
    pub abort_incomplete_multipart_after_days: Option<i32>,
}

/// The comparable desired state, as the plan carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Desired {
    pub name: String,
    pub versioning: bool,
    pub encryption: Encryption,
    pub public_access_block: PublicAccess,
    pub policy: Option<Value>,
    pub lifecycle_rules: Option<Vec<LifecycleRule>>,
    pub force_delete: bool,
    pub tags: BTreeMap<String, String>,
}

impl Spec {
    /// Block Public Access as written (no block: every switch on).
    pub(crate) fn public_access(&self) -> PublicAccess {
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
    pub(crate) fn lifecycle_rules(&self) -> Vec<LifecycleRule> {
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

    pub(crate) fn desired(&self) -> Desired {
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
    pub(crate) fn parse(state: &State, operation: &'static str) -> Result<Desired, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| crate::core::error::ProviderError::aws(crate::core::ErrorClass::Other, "s3", operation, e))
    }

    pub(crate) fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
