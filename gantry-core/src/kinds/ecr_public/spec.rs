//! The `ecr_public_repository` block and its desired state as types (see
//! `core::TypedKind`): the rules read fields, not JSON by key.

use super::catalog::Catalog;
use crate::core::State;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The evaluated block (an attribute refused by the loader reads as its default).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// Repository name, e.g. bentoml/openllm (default: the block label).
    #[schema(forces_replacement)]
    pub name: String,
    /// Short description shown in the gallery (at most 1,024 characters).
    pub description: Option<String>,
    /// Markdown about the images, shown on the repository's gallery page.
    pub about_text: Option<String>,
    /// Markdown on how to use the images (docker pull, run flags).
    pub usage_text: Option<String>,
    /// Gallery badges: ARM, ARM 64, x86, x86-64.
    #[schema(default = empty)]
    pub architectures: Vec<String>,
    /// Gallery badges: Linux, Windows.
    #[schema(default = empty)]
    pub operating_systems: Vec<String>,
    /// Path to a repository policy JSON document (who else may push).
    #[schema(ty = JsonFile)]
    pub repository_policy_file: Option<Value>,
    /// Allow deleting the repository while it still holds images.
    #[schema(default = false)]
    pub force_delete: bool,
    /// Tags (keys starting with gantry: are reserved).
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
}

/// The comparable desired state, as the plan carries it and the driver reads it back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// Repository name, e.g. bentoml/openllm (default: the block label).
    pub name: String,
    /// The gallery's catalog data.
    pub catalog: Catalog,
    /// The repository policy document (normalised).
    pub repository_policy: Option<Value>,
    /// Allow deleting the repository while it still holds images.
    pub force_delete: bool,
    /// Tags (keys starting with gantry: are reserved).
    pub tags: BTreeMap<String, String>,
}

impl Spec {
    /// The block's catalog data, as the gallery would hold it.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(
            self.description.as_deref(),
            self.about_text.as_deref(),
            self.usage_text.as_deref(),
            self.architectures.clone(),
            self.operating_systems.clone(),
        )
    }

    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        Desired {
            name: self.name.clone(),
            catalog: self.catalog(),
            repository_policy: self.repository_policy_file.as_ref().map(crate::policy::normalize),
            force_delete: self.force_delete,
            tags: self.tags.clone(),
        }
    }
}

impl Desired {
    /// A desired state as the plan holds it; the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state)
            .map_err(|e| crate::core::error::ProviderError::aws(crate::core::ErrorClass::Other, "ecr-public", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
