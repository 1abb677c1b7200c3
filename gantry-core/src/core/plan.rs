//! The plan as data: what apply will do to each resource, and why. Renderers
//! (text, JSON) and the saved-plan file live in `crate::plan`.

use super::{LiveResource, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What apply will do to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing to do.
    NoOp,
    /// Create the resource.
    Create,
    /// Change it in place.
    Update,
    /// Delete it and create it again.
    Replace,
    /// Delete it.
    Delete,
}

impl Action {
    /// Terraform-style marker.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    /// Verb phrase for headings and progress.
    pub fn describe(self) -> &'static str {
        match self {
            Action::NoOp => "unchanged",
            Action::Create => "will be created",
            Action::Update => "will be updated in place",
            Action::Replace => "must be replaced",
            Action::Delete => "will be destroyed",
        }
    }
}

/// One attribute that differs between desired and live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrChange {
    /// The attribute's name.
    pub name: String,
    /// Its live value (null when absent).
    pub before: Value,
    /// Its desired value (null when absent).
    pub after: Value,
    /// Changing it cannot be done in place.
    pub forces_replacement: bool,
    /// Never shown: rendered as `(sensitive)`.
    pub sensitive: bool,
    /// The server chooses the value on create (shown as "(known after apply)").
    #[serde(default)]
    pub known_after_apply: bool,
}

/// A planned change to one resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// The block's address (`ecr_repository.cache["a"]`).
    pub address: String,
    /// The kind's name.
    pub kind: String,
    /// Cloud name of the resource.
    pub identity: String,
    /// What applying it does, with the state that takes. Written in the
    /// plan file as `"action"` beside `"desired"`/`"live"`, so a file whose
    /// action lacks its state does not read at all.
    #[serde(flatten)]
    pub op: Op,
    /// Why, in words (display only; the action is chosen from data).
    pub reason: Option<String>,
    /// The attributes that differ.
    pub attrs: Vec<AttrChange>,
    /// Addresses this change must wait for.
    pub depends_on: Vec<String>,
    /// Extra review lines (e.g. what a CloudFormation change set would do).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The block says `protect = true` (recorded on the resource when written).
    #[serde(default)]
    pub protect: bool,
}

/// What applying a change does, carrying the state each action needs:
/// the desired state to write, the live resource read at plan time, or
/// both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Op {
    /// Create the resource.
    Create {
        /// The state to write.
        desired: State,
    },
    /// Change it in place.
    Update {
        /// The state to write.
        desired: State,
        /// The resource as read at plan time.
        live: LiveResource,
    },
    /// Delete it and create it again.
    Replace {
        /// The state to write.
        desired: State,
        /// The resource as read at plan time.
        live: LiveResource,
    },
    /// Delete it.
    Delete {
        /// The resource as read at plan time.
        live: LiveResource,
    },
}

impl Op {
    /// The action's name, for display and counting.
    pub fn action(&self) -> Action {
        match self {
            Op::Create { .. } => Action::Create,
            Op::Update { .. } => Action::Update,
            Op::Replace { .. } => Action::Replace,
            Op::Delete { .. } => Action::Delete,
        }
    }

    /// The state the change writes (none for a delete).
    pub fn desired(&self) -> Option<&State> {
        match self {
            Op::Create { desired } | Op::Update { desired, .. } | Op::Replace { desired, .. } => Some(desired),
            Op::Delete { .. } => None,
        }
    }

    /// The live resource it changes (none for a create).
    pub fn live(&self) -> Option<&LiveResource> {
        match self {
            Op::Create { .. } => None,
            Op::Update { live, .. } | Op::Replace { live, .. } | Op::Delete { live } => Some(live),
        }
    }
}

impl Change {
    /// The action's name, for display and counting.
    pub fn action(&self) -> Action {
        self.op.action()
    }
}

/// A whole plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Version of the saved-plan format.
    pub format_version: u32,
    /// The stack's name (`NAME-WORKSPACE` in a workspace).
    pub stack: String,
    /// Who owns what it writes: stack label and workspace, kept apart
    /// ([`crate::core::owner_key`]).
    #[serde(default)]
    pub owner: String,
    /// The stack's directory.
    pub dir: PathBuf,
    /// The stack's AWS region.
    pub region: String,
    /// Every region the plan read.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Google Cloud project and zones the plan read.
    #[serde(default)]
    pub gcp_project: Option<String>,
    /// Google Cloud zones the plan read.
    #[serde(default)]
    pub zones: Vec<String>,
    /// The AWS account the plan read.
    pub account_id: String,
    /// The gantry that made the plan (a saved plan is applied by the same one).
    #[serde(default)]
    pub gantry_version: String,
    /// True for `gantry destroy` plans.
    pub destroy: bool,
    /// Changes with an action other than NoOp, in apply order hints.
    pub changes: Vec<Change>,
    /// Addresses that need nothing.
    pub unchanged: Vec<String>,
    /// Hash of the live state read, per address (`absent` when none).
    pub fingerprints: BTreeMap<String, String>,
    /// Kind and cloud name of every fingerprinted address, so a saved plan
    /// can find the same resources again.
    pub index: BTreeMap<String, IndexEntry>,
    /// Non-fatal notes for the reviewer.
    pub warnings: Vec<String>,
    /// Changes that widen who may assume a role or what it may do; apply
    /// asks for an explicit confirmation (or `--allow-broadening`).
    #[serde(default)]
    pub broadening: Vec<Broadening>,
    /// Lint findings waived in the files, with their reasons.
    #[serde(default)]
    pub waivers: Vec<String>,
    /// The stack's shared lock, so `apply PLANFILE` takes the same lock.
    #[serde(default)]
    pub backend: Option<super::BackendConfig>,
    /// The stack's `output` values, shown after apply.
    #[serde(default)]
    pub outputs: Vec<OutputValue>,
    /// What the plan was made from besides the files and live state: a
    /// saved plan is made again from these when applied.
    #[serde(default)]
    pub inputs: PlanInputs,
    /// What the stack's machines can cost at most per hour, before and
    /// after (absent when it runs none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::core::cost::CostReport>,
}

/// The choices `gantry plan` was given. Applying a saved plan makes it
/// again with these (and the files and live state): the file is never
/// trusted for what it claims. The choices that lift a guard (`--adopt`,
/// `--allow-delete`) are recorded only to say so: apply must be given them
/// again. No variable value is kept (it may be sensitive): `--var` names are
/// recorded so apply can ask for them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PlanInputs {
    /// `--target` addresses.
    #[serde(default)]
    pub targets: Vec<String>,
    /// `--all-kinds`: every kind was read.
    #[serde(default)]
    pub all_kinds: bool,
    /// `--workspace`, when not the default.
    #[serde(default)]
    pub workspace: Option<String>,
    /// `--var-file`s, absolute.
    #[serde(default)]
    pub var_files: Vec<PathBuf>,
    /// Names given with `--var NAME=VALUE`.
    #[serde(default)]
    pub var_names: Vec<String>,
    /// `--adopt` was given (apply must be given it again).
    #[serde(default)]
    pub adopt_all: bool,
    /// `--allow-delete` addresses (apply must be given them again).
    #[serde(default)]
    pub allow_delete: Vec<String>,
}

/// An `output` block's value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputValue {
    /// The output's name.
    pub name: String,
    /// In a plan, null when sensitive: a plan is printed and saved, so it
    /// never carries a secret.
    pub value: Value,
    /// Declared `sensitive = true`: never printed.
    pub sensitive: bool,
    /// The block's `description`.
    #[serde(default)]
    pub description: String,
    /// Block addresses the value comes from (e.g. `ecr_repository.cache`).
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// What one change newly allows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Broadening {
    /// The changing resource.
    pub address: String,
    /// What it newly allows, one sentence each.
    pub items: Vec<String>,
}

/// Where a fingerprinted address lives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexEntry {
    /// The kind's name.
    pub kind: String,
    /// The resource's cloud name.
    pub identity: String,
}

/// The current saved-plan / JSON format version.
pub const FORMAT_VERSION: u32 = 1;

/// Counts in the Terraform sense: a replace is one add and one destroy.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Resources created (replacements included).
    pub add: usize,
    /// Resources changed in place.
    pub change: usize,
    /// Resources deleted (replacements included).
    pub destroy: usize,
    /// Resources replaced.
    pub replace: usize,
    /// Resources left as they are.
    pub unchanged: usize,
}

impl Plan {
    /// The plan's counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary { unchanged: self.unchanged.len(), ..Summary::default() };
        for c in &self.changes {
            match c.action() {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1;
                    s.replace += 1;
                }
                Action::NoOp => {}
            }
        }
        s
    }

    /// True when applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}
