//! The pure half of a resource kind: schema, checks, desired state. A kind
//! is split in two so that this half can be used offline by `validate` and
//! unit tests, while the I/O half ([`super::Driver`]) sits behind a narrow
//! trait that tests can fake.

use super::{Action, AttrChange, Diagnostic, Field, LiveResource, ParsedBlock, Schema, State};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Placeholder account id used when evaluating offline (`validate`).
pub const OFFLINE_ACCOUNT_ID: &str = "000000000000";

/// Facts about where a stack is deployed, available to evaluation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Env {
    /// The stack's name (`NAME-WORKSPACE` in a workspace).
    pub stack: String,
    /// The stack's AWS region (empty without an aws block).
    pub region: String,
    /// The AWS account id ([`OFFLINE_ACCOUNT_ID`] offline).
    pub account_id: String,
    /// The stack's directory (policy and template files are relative to it).
    pub dir: PathBuf,
    /// Every AWS region the stack manages (its region first).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Google Cloud project (empty when the stack has no gcp block).
    #[serde(default)]
    pub gcp_project: String,
    /// The project's number (workload identity names use it; read from
    /// Resource Manager at plan when a kind needs it, a placeholder otherwise).
    #[serde(default)]
    pub gcp_project_number: String,
    /// `default`, or the `--workspace` the stack was evaluated for.
    #[serde(default)]
    pub workspace: String,
}

impl Env {
    /// Who owns what this stack writes: see [`crate::core::owner_key`].
    pub fn owner(&self) -> String {
        let ws = self.workspace.as_str();
        if ws.is_empty() || ws == "default" {
            return self.stack.clone();
        }
        let label = self.stack.strip_suffix(&format!("-{ws}")).unwrap_or(&self.stack);
        crate::core::owner_key(label, ws)
    }
}

/// `backend "s3" { bucket, key, region }`: the shared lock for CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendConfig {
    /// The S3 bucket holding the lock object.
    pub bucket: String,
    /// The lock object's key.
    pub key: String,
    /// The bucket's region (None: the stack's).
    pub region: Option<String>,
}

/// What a resource can run at most, for the plan's cost ceiling: up to
/// `max` machines (at least `min`), each one of `types` (priced at the
/// dearest) plus `parts` (priced per unit: GPUs attached to a machine
/// type that does not include them, TPU chips).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// `aws` or `gcp`.
    pub cloud: String,
    /// A region (AWS) or zone (Google Cloud).
    pub location: String,
    /// Instance or machine types it may launch.
    pub types: Vec<String>,
    /// Parts priced per unit, with how many per machine (attached GPUs, TPU chips).
    pub parts: Vec<(String, u32)>,
    /// Machines it keeps running at least.
    pub min: u32,
    /// Machines it may run at most.
    pub max: u32,
    /// The share of machines bought on demand (the rest spot): 100 unless
    /// the resource asks for spot capacity.
    pub on_demand_percent: u32,
}

/// The pure half of a resource kind, as the loader and the engine hold it
/// (object-safe, over the evaluated block as JSON). Kinds implement
/// [`super::TypedKind`]; its adapter is the one implementation of this.
pub trait Kind: Send + Sync {
    /// Block name in stack files, e.g. `ecr_repository`.
    fn name(&self) -> &'static str;
    /// One-paragraph description for `--help`/docs.
    fn doc(&self) -> &'static str;
    /// Attributes and nested blocks accepted in the file.
    fn schema(&self) -> &'static Schema;
    /// Fields of the comparable state, with replacement rules.
    fn fields(&self) -> &'static [Field];
    /// Fills what the block left unset from its label and the stack (e.g.
    /// a repository's `name` from `ecr_repository "cache" {}`), before checks.
    fn fill_defaults(&self, label: &str, env: &Env, attrs: &mut State);
    /// Reads an evaluated block into the kind's typed block, once: the
    /// rules, names, outputs, desired state and lint of that block read it
    /// ([`ParsedBlock`]). A block that does not read (only a bug can make
    /// it so: the loader checks types first) is that one diagnostic, and
    /// reads as the defaults so what follows still has a block.
    fn read(&'static self, attrs: &State) -> (ParsedBlock, Option<Diagnostic>);
    /// The typed block of `attrs`, for callers that reported its reading
    /// already (the loader does, once per block).
    fn block(&'static self, attrs: &State) -> ParsedBlock {
        self.read(attrs).0
    }
    /// Fills inputs that come from this machine rather than from the files
    /// (an artifact bundled with gantry, handed in as `bundled`), for plan
    /// and apply only: `validate` needs nothing built or installed.
    fn local_inputs(&self, attrs: &mut State, bundled: &dyn Bundled) -> Vec<Diagnostic>;
    /// What a desired or live state can run at most (machines that bill
    /// by the hour); None for kinds that run none.
    fn capacity(&self, state: &State) -> Option<Capacity>;
    /// Whether its names need the Google Cloud project's number
    /// ([`Env::gcp_project_number`]): plan then reads it once.
    fn needs_gcp_project_number(&self) -> bool;
    /// Rewrites attribute changes for display (e.g. one change per template
    /// property instead of one for the whole template). Display only.
    fn explain(&self, changes: Vec<AttrChange>) -> Vec<AttrChange>;
    /// Review lines for a create, update or replace: what the attribute
    /// diff alone does not tell (e.g. that a new startup script only runs
    /// at the next boot, or where a deployed artifact came from).
    fn change_notes(&self, action: Action, changes: &[AttrChange], desired: &State) -> Vec<String>;
    /// A live state that no plan can proceed from, with the way out.
    fn live_problem(&self, live: &LiveResource) -> Option<String>;
    /// What a change would newly allow (who may assume, what may be done),
    /// for the plan's broadening review. `before` is the live state, if any.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String>;
}

/// What this gantry bundles for the machines it provisions, found on this
/// machine by the caller (plan and apply; `gantry_core` reads no disk): a
/// kind that deploys one asks for it in [`Kind::local_inputs`].
pub trait Bundled: Send + Sync + std::fmt::Debug {
    /// The scaler Lambda's zip for `arch` (`arm64`, `x86_64`), or why
    /// there is none.
    fn scaler_zip(&self, arch: &str) -> Result<BundledZip, String>;
}

/// A zip bundled with this gantry, as the loader describes a file a block
/// names (`{"path", "sha256", "size"}`), plus where it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BundledZip {
    /// Where it is on this machine.
    pub path: String,
    /// Its SHA-256, base64 (as Lambda reports CodeSha256).
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it came from, for the plan's review line.
    pub source: String,
}

/// Sets `key` to `value` unless the block set it (a [`Kind::fill_defaults`] helper).
pub fn default_attr(attrs: &mut State, key: &str, value: &str) {
    if !attrs.contains_key(key) && !value.is_empty() {
        attrs.insert(key.to_string(), serde_json::Value::String(value.to_string()));
    }
}
