//! The `ci_role` block and its comparable state as types: the rules, the
//! desired state, the lint and the driver read fields, not JSON by key
//! (policy documents stay JSON: they are the user's documents).

use crate::core::error::{ErrorClass, ProviderError};
use crate::core::State;
use crate::kinds::common::PolicyFile;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The evaluated block (the loader checked the types and filled the defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Spec {
    pub name: String,
    pub description: String,
    /// The referenced `github_oidc_provider` block's attributes.
    pub provider: Option<ProviderRef>,
    pub trust_policy_file: Option<Value>,
    pub policy_files: Vec<PolicyFile>,
    pub managed_policy_arns: Vec<String>,
    pub max_session_duration: Option<String>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub trust_policy_quota: Option<i64>,
    pub allow: Vec<AllowRule>,
}

/// What a role reads of the provider it trusts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProviderRef {
    pub arn: Option<String>,
    pub host: Option<String>,
}

/// One `allow { }` rule.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct AllowRule {
    pub repo: Option<String>,
    pub repos: Option<Vec<String>>,
    pub branches: Vec<String>,
    pub tags: Vec<String>,
    pub environments: Vec<String>,
    pub pull_request: bool,
    pub workflow_refs: Vec<String>,
}

/// The comparable state (the kind's fields) plus the documents as written,
/// as the plan carries it and the driver reads it back; a live role reads
/// into it too (without the documents as written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct Desired {
    pub name: String,
    pub path: String,
    pub description: String,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    /// Compared in normal form.
    pub trust_policy: Value,
    /// Sent to IAM as written (IAM checks some names case-sensitively).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_policy_document: Option<Value>,
    /// By policy name, in normal form.
    pub inline_policies: BTreeMap<String, Value>,
    /// By policy name, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_policy_documents: Option<BTreeMap<String, Value>>,
    /// Sorted, without duplicates.
    pub managed_policy_arns: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Desired {
    /// A state as the plan holds it (or a live one); the error names the call it was for.
    pub(super) fn parse(state: &State, operation: &'static str) -> Result<Desired, ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| ProviderError::aws(ErrorClass::Other, "iam", operation, e))
    }

    pub(super) fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }

    /// The trust policy to send: as written when the plan kept it.
    pub(super) fn trust_text(&self) -> String {
        self.trust_policy_document.as_ref().unwrap_or(&self.trust_policy).to_string()
    }

    /// An inline policy to send: as written when the plan kept it.
    pub(super) fn inline_text(&self, name: &str) -> Option<String> {
        let written = self.inline_policy_documents.as_ref().and_then(|d| d.get(name));
        written.or(self.inline_policies.get(name)).map(Value::to_string)
    }
}
