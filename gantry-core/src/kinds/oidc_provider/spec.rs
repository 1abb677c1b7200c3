//! The `github_oidc_provider` block and its desired state as types (see
//! `core::TypedKind`).

use crate::core::State;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The evaluated block (an attribute refused by the loader reads as its default).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// Issuer URL (GitHub Enterprise Server hosts allowed).
    #[schema(default = "https://token.actions.githubusercontent.com", forces_replacement)]
    pub url: String,
    /// Audiences accepted (default sts.amazonaws.com).
    #[schema(default = empty)]
    pub client_ids: Vec<String>,
    /// Server certificate thumbprints (optional: when unset IAM computes and stores one, and AWS validates GitHub's certificate itself).
    pub thumbprints: Option<Vec<String>>,
    /// Tags.
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
}

/// The comparable desired state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Desired {
    /// The issuer's host: IAM's identity for the provider.
    pub host: String,
    /// Sorted; `sts.amazonaws.com` when the block names none.
    pub client_ids: Vec<String>,
    /// Lowercase and sorted; `None` (unset, or empty: IAM cannot store an
    /// empty list) accepts the thumbprint IAM computed itself.
    pub thumbprints: Option<Vec<String>>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl Spec {
    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        let mut client_ids = self.client_ids.clone();
        client_ids.sort();
        client_ids.dedup();
        if client_ids.is_empty() {
            client_ids.push("sts.amazonaws.com".into());
        }
        let mut thumbs: Vec<String> = self.thumbprints.iter().flatten().map(|t| t.to_lowercase()).collect();
        thumbs.sort();
        Desired { host: super::host_of(&self.url), client_ids, thumbprints: Some(thumbs).filter(|t| !t.is_empty()), tags: self.tags.clone() }
    }
}

impl Desired {
    /// A desired state as the plan holds it; the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, crate::core::error::ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| crate::core::error::ProviderError::aws(crate::core::ErrorClass::Other, "iam", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
