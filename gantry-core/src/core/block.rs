//! One evaluated block, read once into its kind's typed `Spec`: what the
//! loader checks and lints, the names it claims, the outputs other blocks
//! read and the desired state the planner compares all come from that one
//! reading ([`super::Kind::read`]).

use super::{Diagnostic, Env, State};
use std::fmt;
use std::sync::Arc;

/// The block-level half of a kind, over a block already read.
pub trait Block: Send + Sync {
    /// The kind's name, e.g. `ecr_repository`.
    fn kind(&self) -> &'static str;
    /// Checks beyond types (name formats, cross-attribute rules).
    fn check(&self) -> Vec<Diagnostic>;
    /// Checks that need the stack's environment (regions, account).
    fn check_env(&self, env: &Env) -> Vec<Diagnostic>;
    /// The resource's unique name in the cloud (e.g. repository name).
    fn identity(&self) -> String;
    /// Every cloud name the resource creates besides its identity, as
    /// normalised for the cloud (e.g. a queue's stack and function), so two
    /// blocks that would collide there are caught before anything runs.
    fn cloud_names(&self, env: &Env) -> Vec<String>;
    /// The Google Cloud zone the resource lives in, when reading it means
    /// listing that zone.
    fn zone(&self) -> Option<String>;
    /// Attributes other blocks may reference (`arn`, `repository_url`, ...).
    /// `attrs` is the block as evaluated, for kinds that expose their inputs.
    fn outputs(&self, attrs: &State, env: &Env) -> State;
    /// The comparable desired state.
    fn desired_state(&self, env: &Env) -> State;
    /// Managed policy ARNs the block attaches: their documents are read and
    /// linted at plan time (they are not in the files).
    fn managed_policy_arns(&self) -> Vec<String>;
    /// Security findings for the block (see `lint`).
    fn lint(&self, env: &Env) -> Vec<crate::lint::Finding>;
}

/// A block read once and shared (a loaded resource holds it).
#[derive(Clone)]
pub struct ParsedBlock(Arc<dyn Block>);

impl ParsedBlock {
    /// Wraps a block read by its kind.
    pub fn new(block: impl Block + 'static) -> Self {
        ParsedBlock(Arc::new(block))
    }
}

impl std::ops::Deref for ParsedBlock {
    type Target = dyn Block;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl fmt::Debug for ParsedBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParsedBlock({})", self.0.kind())
    }
}
