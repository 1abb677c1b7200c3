//! The `gcp_workload_identity_pool` block and its comparable state as types.

use super::{condition, mapping, GITHUB_ISSUER};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::State;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The evaluated block (the loader checked the types and filled the defaults).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// The pool ID (4-32 lowercase letters, digits and -; not gcp-...).
    #[schema(required, forces_replacement)]
    pub pool_id: String,
    /// Display name (at most 32 characters).
    #[schema(default = "")]
    pub display_name: String,
    /// Description (at most 180 characters; gantry records ownership after it).
    #[schema(default = "")]
    pub description: String,
    /// The GitHub Actions OIDC provider (required).
    #[schema(block)]
    pub github: Option<GithubBlock>,
}

/// The `github { }` block: the pool's one provider.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct GithubBlock {
    /// The provider's ID in the pool.
    #[schema(default = "github")]
    pub provider_id: Option<String>,
    /// OWNER/REPO of every repository whose workflows may federate (no wildcards).
    #[schema(ty = ListOfString, required)]
    pub repositories: BTreeSet<String>,
}

/// A provider as the plan compares it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderState {
    /// The OIDC issuer, e.g. https://token.actions.githubusercontent.com.
    pub issuer_uri: String,
    /// Google attributes from token claims, e.g. google.subject = assertion.sub.
    pub attribute_mapping: BTreeMap<String, String>,
    /// A CEL condition every token must meet.
    pub attribute_condition: String,
    /// Whether the provider is disabled.
    pub disabled: bool,
}

/// The comparable state, as the plan carries it and the driver reads it
/// back; a live pool reads into it too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// The pool ID (4-32 lowercase letters, digits and -; not gcp-...).
    pub pool_id: String,
    /// Display name (at most 32 characters).
    pub display_name: String,
    /// Description (at most 180 characters; gantry records ownership after it).
    pub description: String,
    /// Whether the pool is disabled.
    pub disabled: bool,
    /// By provider ID.
    pub providers: BTreeMap<String, ProviderState>,
}

impl Spec {
    /// The provider's ID (`github` unless the block names another).
    pub fn provider_id(&self) -> String {
        self.github.as_ref().and_then(|g| g.provider_id.clone()).unwrap_or_else(|| "github".to_string())
    }

    /// The repositories the provider admits.
    pub fn repositories(&self) -> BTreeSet<String> {
        self.github.as_ref().map(|g| g.repositories.clone()).unwrap_or_default()
    }

    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        let provider = ProviderState {
            issuer_uri: GITHUB_ISSUER.into(),
            attribute_mapping: mapping(),
            attribute_condition: condition(&self.repositories()),
            disabled: false,
        };
        Desired {
            pool_id: self.pool_id.clone(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            disabled: false,
            providers: BTreeMap::from([(self.provider_id(), provider)]),
        }
    }
}

impl Desired {
    /// A state as the plan holds it (or a live one); the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| ProviderError::google(ErrorClass::Other, "iam", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
