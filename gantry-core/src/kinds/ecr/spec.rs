//! The `ecr_repository` block and its desired state as types. The loader
//! has checked the attributes' types and filled the defaults, so the block
//! reads straight into [`Spec`]; the rules and the desired state read its
//! fields, not JSON by key.

use super::lifecycle::{self, Lifecycle};
use crate::core::State;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The evaluated block, and (derived) the block's schema: each field's doc
/// comment is its line in `gantry docs`. An attribute the loader refused
/// (a type error, reported already) is absent: it reads as its default, so
/// the rules below still judge the rest of the block.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// Repository name (default: the block label).
    #[schema(forces_replacement)]
    pub name: String,
    /// IMMUTABLE or MUTABLE.
    #[schema(default = "IMMUTABLE", one_of("IMMUTABLE", "MUTABLE"))]
    pub image_tag_mutability: String,
    /// Scan images for vulnerabilities on push.
    #[schema(default = true)]
    pub scan_on_push: bool,
    /// AES256 or KMS.
    #[schema(default = "AES256", one_of("AES256", "KMS"), forces_replacement)]
    pub encryption: String,
    /// KMS key ARN (only with encryption = "KMS"; default: the AWS managed key).
    #[schema(forces_replacement)]
    pub kms_key: Option<String>,
    /// Path to a repository policy JSON document.
    // Holds the document the file holds (any JSON; `check` wants an object).
    #[schema(ty = JsonFile)]
    pub repository_policy_file: Option<Value>,
    /// Allow deleting the repository while it still holds images.
    #[schema(default = false)]
    pub force_delete: bool,
    /// Tags (keys starting with gantry: are reserved).
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
    /// Image expiry rules.
    #[schema(block)]
    pub lifecycle_policy: Option<Lifecycle>,
}

/// The comparable desired state (the kind's fields; `None` is `null`), as
/// the plan carries it and the driver reads it back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// Repository name (default: the block label).
    pub name: String,
    /// IMMUTABLE or MUTABLE.
    pub image_tag_mutability: String,
    /// Scan images for vulnerabilities on push.
    pub scan_on_push: bool,
    /// AES256 or KMS.
    pub encryption: String,
    /// KMS key ARN (only with encryption = "KMS"; default: the AWS managed key).
    pub kms_key: Option<String>,
    /// The lifecycle policy the rules render to (normalised).
    pub lifecycle_policy: Option<Value>,
    /// The repository policy document (normalised).
    pub repository_policy: Option<Value>,
    /// Allow deleting the repository while it still holds images.
    pub force_delete: bool,
    /// Tags (keys starting with gantry: are reserved).
    pub tags: BTreeMap<String, String>,
}

impl Spec {
    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        Desired {
            name: self.name.clone(),
            image_tag_mutability: self.image_tag_mutability.clone(),
            scan_on_push: self.scan_on_push,
            encryption: self.encryption.clone(),
            kms_key: self.kms_key.clone(),
            lifecycle_policy: self.lifecycle_policy.as_ref().and_then(lifecycle::render).map(|d| lifecycle::normalize(&d)),
            repository_policy: self.repository_policy_file.as_ref().map(crate::policy::normalize),
            force_delete: self.force_delete,
            tags: self.tags.clone(),
        }
    }
}

impl Desired {
    /// A desired state as the plan holds it; an error names the service
    /// call it was for (a plan that does not read is a bug, or an edit).
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| crate::core::error::ProviderError::aws(crate::core::ErrorClass::Other, "ecr", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
