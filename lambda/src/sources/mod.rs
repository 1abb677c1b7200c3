//! Where queue depth comes from. One trait, so another source (e.g. GitHub
//! Actions queued jobs) can be added without touching the decision or the
//! handler.

pub mod buildkite;

use crate::decide::Observation;
use async_trait::async_trait;
use thiserror::Error;

/// Failure to read the queue. Every variant fails the invocation (no scaling).
#[derive(Debug, Clone, Error)]
pub enum SourceError {
    #[error("the metrics API rejected the agent token (HTTP {0}); check the SSM parameter")]
    Unauthorized(u16),
    #[error("the metrics API is throttling (HTTP 429)")]
    Throttled,
    #[error("the metrics API answered HTTP {0}: {1}")]
    Http(u16, String),
    #[error("the metrics API answered malformed JSON: {0}")]
    Malformed(String),
    #[error("cannot reach the metrics API: {0}")]
    Network(String),
}

impl SourceError {
    /// Worth retrying within the invocation's time budget.
    pub fn retryable(&self) -> bool {
        matches!(self, SourceError::Throttled | SourceError::Network(_)) || matches!(self, SourceError::Http(code, _) if *code >= 500)
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
}
