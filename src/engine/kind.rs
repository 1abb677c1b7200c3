//! The contract every resource kind implements.
//!
//! A kind is split in two so that the pure half (schema, checks, desired
//! state, diff) can be used offline by `validate` and unit tests, while the
//! I/O half ([`Driver`]) sits behind a narrow trait that tests can fake.

use crate::config::schema::Schema;
pub use crate::engine::compare::Compare;
use crate::engine::error::ProviderError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// A flat, comparable projection of a resource (sorted keys).
pub type State = Map<String, Value>;

/// Tag keys gantry puts on every AWS resource it owns.
pub const TAG_STACK: &str = "gantry:stack";
pub const TAG_ADDRESS: &str = "gantry:address";

/// The tags a resource should carry: the user's `tags` from its desired
/// state plus the ownership tags. Kinds add their own extras.
pub fn owned_tags(desired: &State, owner: &Owner) -> std::collections::BTreeMap<String, String> {
    let mut tags: std::collections::BTreeMap<String, String> = desired
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    tags.insert(TAG_STACK.into(), owner.stack.clone());
    tags.insert(TAG_ADDRESS.into(), owner.address.clone());
    tags
}

/// JSON pointer lookup into a state (`/network/subnetwork`).
pub fn pointer<'a>(state: &'a State, path: &str) -> Option<&'a Value> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let first = state.get(parts.next()?)?;
    match parts.next() {
        Some(rest) => first.pointer(&format!("/{rest}")),
        None => Some(first),
    }
}

/// One comparable field of a kind's state, with the rules that decide how
/// a difference in it is planned.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// A change of this field cannot be made in place.
    pub forces_replacement: bool,
    /// Never print its value.
    pub sensitive: bool,
    /// The server chooses a value when the user gives none (a default
    /// subnetwork, service account, computed thumbprint): while the desired
    /// value is unset (null) the live value is accepted as it is, and a
    /// create shows it as "(known after apply)".
    pub server_filled: bool,
    /// How desired and live values compare.
    pub compare: Compare,
}

impl Field {
    pub const fn new(name: &'static str) -> Field {
        Field { name, forces_replacement: false, sensitive: false, server_filled: false, compare: Compare::Exact }
    }
    pub const fn replace(name: &'static str) -> Field {
        Field { forces_replacement: true, ..Field::new(name) }
    }
    /// The server fills this field when the user leaves it unset.
    pub const fn server_filled(self) -> Field {
        Field { server_filled: true, ..self }
    }
    /// Compare values under `rule` instead of exactly.
    pub const fn compare(self, rule: Compare) -> Field {
        Field { compare: rule, ..self }
    }
}

/// Facts about where a stack is deployed, available to evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Env {
    pub stack: String,
    pub region: String,
    pub account_id: String,
    pub dir: PathBuf,
    /// Every AWS region the stack manages (its region first).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Google Cloud project (empty when the stack has no gcp block).
    #[serde(default)]
    pub gcp_project: String,
}

/// A problem a kind finds in an evaluated block: which attribute, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrProblem {
    pub attr: String,
    pub message: String,
}

impl AttrProblem {
    pub fn new(attr: &str, message: impl Into<String>) -> Self {
        AttrProblem { attr: attr.to_string(), message: message.into() }
    }
}

/// The pure half of a resource kind.
pub trait Kind: Send + Sync {
    /// Block name in stack files, e.g. `ecr_repository`.
    fn name(&self) -> &'static str;
    /// One-paragraph description for `--help`/docs.
    fn doc(&self) -> &'static str;
    /// Attributes and nested blocks accepted in the file.
    fn schema(&self) -> &'static Schema;
    /// Fields of the comparable state, with replacement rules.
    fn fields(&self) -> &'static [Field];
    /// Checks beyond types (name formats, cross-attribute rules).
    fn check(&self, _attrs: &State) -> Vec<AttrProblem> {
        Vec::new()
    }
    /// Checks that need the stack's environment (regions, account).
    fn check_env(&self, _attrs: &State, _env: &Env) -> Vec<AttrProblem> {
        Vec::new()
    }
    /// The resource's unique name in the cloud (e.g. repository name).
    fn identity(&self, attrs: &State) -> String;
    /// Attributes other blocks may reference (`arn`, `repository_url`, ...).
    fn outputs(&self, attrs: &State, env: &Env) -> State;
    /// Desired comparable state built from evaluated attributes.
    fn desired_state(&self, attrs: &State, env: &Env) -> State;
    /// Security findings for an evaluated block (see `lint`).
    fn lint(&self, _attrs: &State, _env: &Env) -> Vec<crate::lint::Finding> {
        Vec::new()
    }
    /// Rewrites attribute changes for display (e.g. one change per template
    /// property instead of one for the whole template). Display only.
    fn explain(&self, changes: Vec<crate::plan::AttrChange>) -> Vec<crate::plan::AttrChange> {
        changes
    }
    /// Review lines for a change: what the attribute diff alone does not
    /// tell (e.g. that a new startup script only runs at the next boot).
    fn change_notes(&self, _changes: &[crate::plan::AttrChange]) -> Vec<String> {
        Vec::new()
    }
    /// A live state that no plan can proceed from, with the way out.
    fn live_problem(&self, _live: &LiveResource) -> Option<String> {
        None
    }
    /// What a change would newly allow (who may assume, what may be done),
    /// for the plan's broadening review. `before` is the live state, if any.
    fn broadening(&self, _before: Option<&State>, _after: &State) -> Vec<String> {
        Vec::new()
    }
}

/// A resource as read from the cloud.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LiveResource {
    /// Cloud name (same meaning as [`Kind::identity`]).
    pub identity: String,
    /// Owning stack from tags, if any.
    pub owner_stack: Option<String>,
    /// Owning address from tags, if any.
    pub owner_address: Option<String>,
    /// Comparable state (same fields as the desired state).
    pub state: State,
}

/// What to read: everything this stack owns, plus these identities (to
/// detect clashes with resources gantry does not own).
#[derive(Debug, Clone)]
pub struct ReadScope {
    pub stack: String,
    pub identities: Vec<String>,
    /// Regions the stack manages (regional kinds read each).
    pub regions: Vec<String>,
    /// Google Cloud zones to read (those in the files plus `gcp { zones }`).
    pub zones: Vec<String>,
}

/// A sink for progress lines from long operations (e.g. CloudFormation
/// stack events), shown next to the resource's progress.
#[derive(Clone)]
pub struct Notes(pub std::sync::Arc<dyn Fn(String) + Send + Sync>);

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notes")
    }
}

/// Who owns a resource being written (becomes tags/labels), and where its
/// progress lines go.
#[derive(Debug, Clone)]
pub struct Owner {
    pub stack: String,
    pub address: String,
    pub notes: Option<Notes>,
}

impl Owner {
    /// Reports a progress line, if anyone listens.
    pub fn note(&self, line: String) {
        if let Some(n) = &self.notes {
            (n.0)(line);
        }
    }
}

/// The I/O half of a resource kind.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Reads live state of everything in scope, batched where the API allows.
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError>;
    /// Creates the resource described by `desired`.
    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError>;
    /// Changes `changed` fields in place.
    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError>;
    /// Deletes the resource.
    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError>;
    /// Plan-time lookups that complete the desired state before it is
    /// compared (e.g. the default VPC's subnets for a queue given none).
    /// Returns (address, problem) pairs for what cannot be resolved.
    async fn resolve(&self, _desired: &mut [(String, State)]) -> Result<Vec<(String, String)>, ProviderError> {
        Ok(Vec::new())
    }
    /// Plan-time checks against the cloud that the files alone cannot make
    /// (e.g. that a referenced SSM parameter exists). Returns
    /// (address, problem) pairs; nothing is changed.
    async fn preflight(&self, _desired: &[(String, State)]) -> Result<Vec<(String, String)>, ProviderError> {
        Ok(Vec::new())
    }
    /// Optional deeper preview of an in-place update (e.g. a CloudFormation
    /// change set that is created, read and deleted): lines for the plan.
    async fn preview(&self, _desired: &State, _live: &LiveResource) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}
