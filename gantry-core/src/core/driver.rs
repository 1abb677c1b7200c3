//! The I/O half of a resource kind: read live state, create, update,
//! delete, and the plan-time lookups that need the cloud.

use super::{Owner, ProviderError, State};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A resource as read from the cloud.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LiveResource {
    /// Cloud name (same meaning as [`Kind::identity`]).
    pub identity: String,
    /// Owner key from the ownership tags, if any ([`crate::core::owner_of`]).
    pub owner_stack: Option<String>,
    /// Owning address from tags, if any.
    pub owner_address: Option<String>,
    /// Comparable state (same fields as the desired state).
    pub state: State,
    /// Recorded as protected (`protect = true` when it was written): it is
    /// not deleted, even after its block is removed, unless named with
    /// `--allow-delete`.
    #[serde(default)]
    pub protected: bool,
}

/// What to read: everything this stack owns, plus these identities (to
/// detect clashes with resources gantry does not own).
#[derive(Debug, Clone)]
pub struct ReadScope {
    /// The stack's name, as derived names use it (`NAME-WORKSPACE`).
    pub stack: String,
    /// Who owns what the stack wrote ([`crate::core::owner_key`]): compared
    /// with what ownership tags record.
    pub owner: String,
    /// Cloud names the files want: read even when nobody or someone else owns them.
    pub identities: Vec<String>,
    /// Regions the stack manages (regional kinds read each).
    pub regions: Vec<String>,
    /// Google Cloud zones to read (those in the files plus `gcp { zones }`).
    pub zones: Vec<String>,
}

/// What a stack owns of a kind that its files may not name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    /// The stack owns at least one resource of the kind.
    pub owned: bool,
    /// Zones holding them that the scope did not name (Google Cloud).
    pub zones: Vec<String>,
}

impl Discovery {
    /// What a full read found (the default way to discover).
    pub fn of(live: &[LiveResource], scope: &ReadScope) -> Discovery {
        Discovery { owned: live.iter().any(|l| l.owner_stack.as_deref() == Some(scope.owner.as_str())), zones: Vec::new() }
    }
}

/// The I/O half of a resource kind.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Reads live state of everything in scope, batched where the API allows.
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError>;
    /// Finds whether the stack owns anything of the kind, for a plan whose
    /// files no longer name it (a removed last block must plan deletions).
    /// The default reads the scope: right for kinds whose read is bounded
    /// by the stack (a role path); kinds whose read lists the account
    /// override it with a cheaper call.
    async fn discover(&self, scope: &ReadScope) -> Result<Discovery, ProviderError> {
        Ok(Discovery::of(&self.read(scope).await?, scope))
    }
    /// Creates the resource described by `desired`.
    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError>;
    /// Changes `changed` fields in place.
    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError>;
    /// Deletes the resource.
    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError>;
    /// Plan-time lookups that complete the desired state before it is
    /// compared (e.g. the default VPC's subnets for a queue given none).
    /// Returns a problem per address that cannot be resolved.
    async fn resolve(&self, _desired: &mut [(String, State)]) -> Result<Vec<crate::core::Diagnostic>, ProviderError> {
        Ok(Vec::new())
    }
    /// Plan-time checks against the cloud that the files alone cannot make
    /// (e.g. that a referenced SSM parameter exists). Returns a problem per
    /// address and finding; nothing is changed.
    async fn preflight(&self, _desired: &[(String, State)]) -> Result<Vec<crate::core::Diagnostic>, ProviderError> {
        Ok(Vec::new())
    }
    /// Optional deeper preview of an in-place update (e.g. a CloudFormation
    /// change set that is created, read and deleted): lines for the plan.
    async fn preview(&self, _desired: &State, _live: &LiveResource) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}
