//! Where queue depth comes from. One trait, so the Buildkite metrics API
//! and GitHub Actions queued jobs (`crate::github`) share the decision and
//! the handler.

pub mod buildkite;

use crate::decide::Observation;
use crate::github::GithubError;
use crate::group::Member;
use async_trait::async_trait;
use thiserror::Error;

/// Failure to read the queue. Every variant fails the invocation (no scaling).
#[derive(Debug, Clone, Error)]
pub enum SourceError {
    /// The agent token was refused.
    #[error("the metrics API rejected the agent token (HTTP {0}); check the SSM parameter")]
    Unauthorized(u16),
    /// The API is throttling.
    #[error("the metrics API is throttling (HTTP 429)")]
    Throttled,
    /// Another HTTP error.
    #[error("the metrics API answered HTTP {0}: {1}")]
    Http(u16, String),
    /// An answer that does not read.
    #[error("the metrics API answered malformed JSON: {0}")]
    Malformed(String),
    /// No answer (connection, timeout).
    #[error("cannot reach the metrics API: {0}")]
    Network(String),
    /// GitHub's API failed (runner queues).
    #[error("{0}")]
    Github(GithubError),
    /// The API asked not to be called before `until` (unix seconds): the
    /// poll holds (no change, no failure).
    #[error("rate limited until {until} (unix seconds)")]
    RateLimited {
        /// Unix seconds.
        until: u64,
    },
}

impl SourceError {
    /// Worth retrying within the invocation's time budget.
    pub fn retryable(&self) -> bool {
        match self {
            SourceError::Throttled | SourceError::Network(_) => true,
            SourceError::Http(code, _) => *code >= 500,
            SourceError::Github(g) => g.retryable(),
            _ => false,
        }
    }
}

/// A source of job and agent counts for one queue.
#[async_trait]
pub trait QueueSource: Send + Sync {
    /// Reads the current counts.
    async fn observe(&self) -> Result<Observation, SourceError>;
    /// The shortest interval the API asked to be polled at, if it said.
    fn min_poll_interval(&self) -> Option<std::time::Duration> {
        None
    }
    /// Work after sizing on the group's instances (runner configurations,
    /// clean-up); nothing for agents that register themselves.
    async fn reconcile(&self, _members: &[Member]) -> Reconciled {
        Reconciled::default()
    }
}

/// What [`QueueSource::reconcile`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    /// Runner configurations handed to new instances.
    pub issued: u32,
    /// Registrations deleted (orphaned or never started).
    pub deleted_runners: u32,
    /// Queued jobs past the queued-job timeout (cancelled or reported).
    pub timed_out: u32,
    /// Instances to replace (their runner never came online).
    pub replace: Vec<String>,
    /// Failures; the sizing already done stands.
    pub errors: Vec<String>,
}

/// A source chosen at start-up (Buildkite or GitHub) behind one type.
#[async_trait]
impl QueueSource for Box<dyn QueueSource> {
    async fn observe(&self) -> Result<Observation, SourceError> {
        self.as_ref().observe().await
    }
    fn min_poll_interval(&self) -> Option<std::time::Duration> {
        self.as_ref().min_poll_interval()
    }
    async fn reconcile(&self, members: &[Member]) -> Reconciled {
        self.as_ref().reconcile(members).await
    }
}
