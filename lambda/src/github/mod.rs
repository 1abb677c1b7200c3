//! GitHub Actions runner queues: the scaler sizes the Auto Scaling group
//! from the jobs queued for the queue's labels, hands every new instance a
//! just-in-time runner configuration (one job, then the instance leaves),
//! and cleans up registrations whose instance is gone.
//!
//! - [`app`]: the GitHub App's credentials (SSM) → JWT → installation token;
//! - [`rest`]: the REST calls, pagination and rate-limit bookkeeping;
//! - [`source`]: the queue's counts for the shared decision;
//! - [`pool`]: the pure runner/instance reconciliation;
//! - [`jit_store`]: where instances pick their configuration up (SSM);
//! - [`webhook`]: `workflow_job` deliveries, signature-checked.

pub mod app;
pub mod jit_store;
pub mod pool;
pub mod rest;
pub mod source;
pub mod webhook;

use async_trait::async_trait;
use thiserror::Error;

/// A self-hosted runner as the runners API lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Runner {
    /// The runner's id.
    pub id: u64,
    /// Its name (the scaler's prefix and the instance id).
    pub name: String,
    /// `online` or `offline`.
    pub status: String,
    /// Running a job.
    pub busy: bool,
}

impl Runner {
    /// Whether it is connected.
    pub fn online(&self) -> bool {
        self.status == "online"
    }
}

/// A job waiting for a runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedJob {
    /// The job's id.
    pub id: u64,
    /// Its workflow run's id.
    pub run_id: u64,
    /// `owner/repo`.
    pub repo: String,
    /// The labels it asks a runner for.
    pub labels: Vec<String>,
    /// When the job was queued (unix seconds).
    pub created_at: u64,
}

/// A job is ours when every `runs-on` label is one of the runner's labels
/// (GitHub matches labels case-insensitively).
pub fn labels_match(job: &[String], runner: &[String]) -> bool {
    !job.is_empty() && job.iter().all(|l| runner.iter().any(|r| r.eq_ignore_ascii_case(l)))
}

/// GitHub API failures.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum GithubError {
    /// Primary limit exhausted or a secondary limit hit: no call before `until` (unix seconds).
    #[error("GitHub rate limit: waiting until {until} (unix seconds)")]
    RateLimited {
        /// Unix seconds.
        until: u64,
    },
    /// The app's credentials were refused.
    #[error("GitHub refused the app's credentials (HTTP {0}): {1}")]
    Unauthorized(u16, String),
    /// Another HTTP error.
    #[error("GitHub answered HTTP {0}: {1}")]
    Http(u16, String),
    /// An answer that does not read.
    #[error("GitHub answered malformed JSON: {0}")]
    Malformed(String),
    /// No answer (connection, timeout).
    #[error("cannot reach GitHub: {0}")]
    Network(String),
    /// The app's credentials could not be read or used.
    #[error("GitHub App credentials: {0}")]
    Credentials(String),
}

impl GithubError {
    /// Worth another try (network trouble or a 5xx).
    pub fn retryable(&self) -> bool {
        matches!(self, GithubError::Network(_)) || matches!(self, GithubError::Http(code, _) if *code >= 500)
    }
}

/// A just-in-time configuration GitHub generated for one runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitConfig {
    /// The runner GitHub registered.
    pub runner_id: u64,
    /// The configuration the runner starts with (`--jitconfig`).
    pub encoded: String,
}

/// The GitHub calls the scaler makes.
#[async_trait]
pub trait GithubApi: Send + Sync {
    /// Queued jobs of `repo` (`owner/repo`), from its queued and in-progress runs.
    async fn queued_jobs(&self, repo: &str) -> Result<Vec<QueuedJob>, GithubError>;
    /// Every self-hosted runner of the scope.
    async fn runners(&self) -> Result<Vec<Runner>, GithubError>;
    /// Registers runner `name` and returns its one-job configuration.
    /// `Ok(None)` when a runner of that name already exists.
    async fn jit_config(&self, name: &str) -> Result<Option<JitConfig>, GithubError>;
    /// Deletes a registration; `Ok(false)` when GitHub refuses because it runs a job.
    async fn delete_runner(&self, id: u64) -> Result<bool, GithubError>;
    /// Cancels a workflow run.
    async fn cancel_run(&self, repo: &str, run_id: u64) -> Result<(), GithubError>;
    /// One job's status (`queued`, `in_progress`, `completed`), read
    /// conditionally: an unchanged job costs no rate-limited request.
    async fn job_status(&self, repo: &str, job_id: u64) -> Result<String, GithubError>;
    /// Requests left before the rate limit and when it resets (unix seconds), as last seen.
    fn budget(&self) -> Option<(u64, u64)>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_ours_only_when_all_its_labels_are() {
        let ours: Vec<String> = ["self-hosted", "linux", "gpu"].map(String::from).into();
        assert!(labels_match(&["self-hosted".into(), "GPU".into()], &ours));
        assert!(!labels_match(&["self-hosted".into(), "tpu".into()], &ours));
        assert!(!labels_match(&[], &ours), "a job without labels runs on hosted runners");
    }
}
