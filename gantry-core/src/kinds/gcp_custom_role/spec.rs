//! The `gcp_custom_role` block and its desired state as types (see
//! `core::TypedKind`). The desired state is the block itself:
//! every field compares as written, permissions as a set.

use crate::core::State;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The evaluated block, and the desired state (an attribute refused by the
/// loader reads as its default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// The role ID: projects/PROJECT/roles/ROLE_ID (3-64 letters, digits, _ and .).
    #[schema(required, forces_replacement)]
    pub role_id: String,
    /// Title (at most 100 characters).
    #[schema(required)]
    pub title: String,
    /// Description (at most 180 characters; gantry records ownership after it).
    #[schema(default = "")]
    pub description: String,
    /// The permissions it grants, e.g. compute.instances.start.
    #[schema(ty = ListOfString, required)]
    pub permissions: BTreeSet<String>,
    /// Launch stage.
    #[schema(default = "GA", one_of("ALPHA", "BETA", "GA", "DEPRECATED", "DISABLED", "EAP"))]
    pub stage: String,
    /// Live only: the etag read last, which a write must carry.
    #[serde(skip_serializing)]
    #[schema(skip)]
    pub etag: String,
}

impl Spec {
    /// A desired (or live) state read back; the error names the call it was for.
    pub fn from_state(state: &State, operation: &'static str) -> Result<Spec, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state)
            .map_err(|e| crate::core::error::ProviderError::google(crate::core::ErrorClass::Other, "gcp-iam", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
