//! The `ci_role` block and its comparable state as types: the rules, the
//! desired state, the lint and the driver read fields, not JSON by key
//! (policy documents stay JSON: they are the user's documents).

use crate::core::error::{ErrorClass, ProviderError};
use crate::core::State;
use crate::kinds::common::PolicyFile;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The evaluated block (the loader checked the types and filled the defaults).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// Role name (default: the block label).
    #[schema(forces_replacement)]
    pub name: String,
    /// Role description.
    #[schema(default = "")]
    pub description: String,
    /// The github_oidc_provider to trust, e.g. github_oidc_provider.github.
    // The referenced `github_oidc_provider` block's attributes.
    #[schema(ty = Object)]
    pub provider: Option<ProviderRef>,
    /// A hand-written trust policy instead of allow rules (still linted).
    #[schema(ty = JsonFile)]
    pub trust_policy_file: Option<Value>,
    /// Inline policies: JSON files with ${...} interpolation; each named by its file name.
    #[schema(ty = PolicyFiles, default = empty)]
    pub policy_files: Vec<PolicyFile>,
    /// Values the policy files can use as ${policy.NAME} (use jsonencode for lists).
    // The loader interpolates them into policy_files; the kind reads the result.
    #[schema(ty = Object)]
    pub policy_vars: Option<Value>,
    /// Managed policies to attach.
    #[schema(default = empty)]
    pub managed_policy_arns: Vec<String>,
    /// Longest session, 1h to 12h.
    #[schema(default = "1h")]
    pub max_session_duration: Option<String>,
    /// ARN of a permissions boundary policy.
    pub permissions_boundary: Option<String>,
    /// Tags.
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
    /// The account's IAM quota for a role trust policy, in characters (2048 unless raised, at most 4096).
    #[schema(default = 2048, range(2048, 4096))]
    pub trust_policy_quota: Option<i64>,
    /// Who may assume the role (one block per repository rule).
    #[schema(block)]
    pub allow: Vec<AllowRule>,
}

/// What a role reads of the provider it trusts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProviderRef {
    /// The provider's ARN (known once it exists).
    pub arn: Option<String>,
    /// The issuer's host, e.g. token.actions.githubusercontent.com.
    pub host: Option<String>,
}

/// One `allow { }` rule.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct AllowRule {
    /// GitHub repository, OWNER/NAME (or repos).
    pub repo: Option<String>,
    /// Several repositories, each OWNER/NAME, e.g. data.github_repositories.models.full_names (each named in the trust policy).
    pub repos: Option<Vec<String>>,
    /// Branches (globs allowed) whose workflows may assume the role.
    #[schema(default = empty)]
    pub branches: Vec<String>,
    /// Git tags (globs allowed), e.g. v*.
    #[schema(default = empty)]
    pub tags: Vec<String>,
    /// GitHub deployment environments.
    #[schema(default = empty)]
    pub environments: Vec<String>,
    /// Allow pull_request workflows.
    #[schema(default = false)]
    pub pull_request: bool,
    /// Also require one of these reusable workflows (OWNER/REPO/.github/workflows/F@REF), matched in `sub`: the repository must customise its OIDC subject claim to include_claim_keys = ["repo", "context", "job_workflow_ref"] (AWS evaluates no job_workflow_ref condition).
    #[schema(default = empty)]
    pub workflow_refs: Vec<String>,
}

/// The comparable state (the kind's fields) plus the documents as written,
/// as the plan carries it and the driver reads it back; a live role reads
/// into it too (without the documents as written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// Role name (default: the block label).
    pub name: String,
    /// The role's IAM path (`/gantry/STACK/`, see [`super::role_path`]).
    pub path: String,
    /// Role description.
    pub description: String,
    /// Longest session, 1h to 12h.
    pub max_session_duration: i64,
    /// ARN of a permissions boundary policy.
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
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl Desired {
    /// A state as the plan holds it (or a live one); the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| ProviderError::aws(ErrorClass::Other, "iam", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }

    /// The trust policy to send: as written when the plan kept it.
    pub fn trust_text(&self) -> String {
        self.trust_policy_document.as_ref().unwrap_or(&self.trust_policy).to_string()
    }

    /// An inline policy to send: as written when the plan kept it.
    pub fn inline_text(&self, name: &str) -> Option<String> {
        let written = self.inline_policy_documents.as_ref().and_then(|d| d.get(name));
        written.or(self.inline_policies.get(name)).map(Value::to_string)
    }
}
