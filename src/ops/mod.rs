//! The operations layer: what each command does, independent of argument
//! parsing and terminal output. Cloud access goes through [`Connect`] so the
//! engine can be exercised with in-memory fakes.

mod apply;
mod backend;
pub(crate) mod bundled_scaler;
pub(crate) mod locking;
mod outputs;
mod plan_stages;
mod planning;
pub(crate) mod prices_gcp;
pub(crate) mod prices_update;
pub(crate) mod runner_wake;
mod saved;
pub(crate) mod simulate;

pub use apply::{apply, Applied, ApplyRequest, Prompt};
pub use backend::{AwsConnect, Backend, Connect, Target};
pub use outputs::{output_states, OutputState};
pub use planning::{apply_plan, make_plan, PlanRequest};
pub use saved::{ApplyGiven, SavedPlan};

use crate::config::{Language, Loaded};
use crate::core::error::ProviderError;
use crate::core::Diagnostic;
use crate::engine::lock::LockError;
use crate::plan::file::PlanFileError;
use thiserror::Error;

/// What this gantry's stack files can say: every kind and data source
/// (`kinds::REGISTRY`, `lookups::REGISTRY`), for the language in gantry-core.
pub fn language() -> Language {
    Language { kinds: crate::kinds::all(), sources: crate::lookups::schemas() }
}

/// Everything an operation can fail with. The CLI maps these to messages
/// and exit codes.
#[derive(Debug, Error)]
pub enum OpsError {
    /// The stack files have errors.
    #[error("the stack files have {errors} error(s)")]
    Config {
        /// How many errors.
        errors: usize,
        /// Every error is a security finding (exit code 3).
        security_only: bool,
    },
    /// A plan widens access and no one allowed it.
    #[error("the plan widens access and --allow-broadening was not given")]
    Broadening,
    /// A cloud call failed.
    #[error("{0}")]
    Provider(#[from] ProviderError),
    /// The plan cannot be made (the problems say why).
    #[error("the plan cannot be made: {} problem(s)", .0.len())]
    Refused(Vec<Diagnostic>),
    /// Security findings only the cloud could tell (a managed policy's
    /// document): exit code 3, as the lint's findings at validate.
    #[error("the plan is refused by {} security finding(s)", .0.len())]
    Security(Vec<Diagnostic>),
    /// The live state changed since the saved plan was made.
    #[error("the saved plan is stale: live state changed since it was made ({})", .0.join(", "))]
    Stale(Vec<String>),
    /// The saved plan differs from the plan made again now.
    #[error("the saved plan does not match the plan the stack's files and live state give now: {}; nothing was changed: review a new plan", .0.join(", "))]
    Mismatch(Vec<String>),
    /// The lock could not be released or read.
    #[error("{0}")]
    Lock(#[from] LockError),
    /// The stack's lock could not be taken (held by another run, or the
    /// lock store failed).
    #[error("{error}")]
    Locked {
        /// Why.
        error: LockError,
        /// The stack directory (for the `force-unlock` hint).
        dir: std::path::PathBuf,
    },
    /// SIGINT or SIGTERM stopped an apply; whether changes had started.
    #[error("stopped by a signal")]
    Interrupted {
        /// Some changes had started.
        started: bool,
    },
    /// A plan file could not be read or written.
    #[error("{0}")]
    PlanFile(#[from] PlanFileError),
    /// The command was given something it cannot do.
    #[error("{0}")]
    Usage(String),
    /// The credentials are for an account the stack does not allow.
    #[error("the credentials in use are for AWS account {account}, which the stack does not allow (aws {{ allowed_account_ids = {allowed:?} }}); nothing was read or changed")]
    AccountNotAllowed {
        /// The credentials' account.
        account: String,
        /// `aws { allowed_account_ids }`.
        allowed: Vec<String>,
    },
    /// A saved plan of another account.
    #[error("the saved plan was made for AWS account {planned}, but the credentials in use are for {current}; nothing was changed: use the plan's account, or plan again")]
    WrongAccount {
        /// The account the plan read.
        planned: String,
        /// The credentials' account.
        current: String,
    },
    /// A saved plan made by another gantry.
    #[error("the saved plan was made by gantry {planned}, this is gantry {current}; nothing was changed: apply it with gantry {planned}, or plan again")]
    WrongVersion {
        /// The gantry that made the plan.
        planned: String,
        /// This gantry.
        current: String,
    },
}

impl OpsError {
    /// The error for a stack that did not load: security-only when every
    /// error is a lint finding (exit code 3).
    pub fn config(loaded: &Loaded) -> OpsError {
        let errors: Vec<_> = loaded.diags.iter().filter(|d| d.severity == crate::config::diag::Severity::Error).collect();
        OpsError::Config { errors: errors.len(), security_only: !errors.is_empty() && errors.iter().all(|d| d.code.is_some()) }
    }
}
