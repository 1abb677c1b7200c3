//! The `gcp_custom_role` block and its desired state as types (see
//! `core::TypedKind`). The desired state is the block itself:
//! every field compares as written, permissions as a set.

use crate::core::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The evaluated block, and the desired state (an attribute refused by the
/// loader reads as its default).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Spec {
    pub role_id: String,
    pub title: String,
    pub description: String,
    pub permissions: BTreeSet<String>,
    pub stage: String,
    /// Live only: the etag read last, which a write must carry.
    #[serde(skip_serializing)]
    pub etag: String,
}

impl Spec {
    /// A desired (or live) state read back; the error names the call it was for.
    pub(crate) fn from_state(state: &State, operation: &'static str) -> Result<Spec, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state)
            .map_err(|e| crate::core::error::ProviderError::google(crate::core::ErrorClass::Other, "gcp-iam", operation, e))
    }

    pub(crate) fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
