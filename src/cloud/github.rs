//! The GitHub REST API for `data "github_repositories"`: an owner's
//! repositories, all pages (`Link: rel="next"`), from `/orgs/{owner}/repos`
//! or, for a user, `/users/{owner}/repos`. `GITHUB_TOKEN` is sent when set
//! (unauthenticated calls get 60 an hour); `GANTRY_GITHUB_API` points at
//! GitHub Enterprise Server (`https://HOST/api/v3`) or a test fake.

use crate::core::error::{ErrorClass, ProviderError};
use async_trait::async_trait;
use gantry_scaler::github::rest::{next_link, API_VERSION};
use serde::Deserialize;
use std::time::Duration;

/// One repository of an owner's listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryListing {
    /// OWNER/NAME.
    pub full_name: String,
    pub fork: bool,
    pub archived: bool,
    pub topics: Vec<String>,
}

/// The GitHub REST calls data sources make.
#[async_trait]
pub trait GithubLookupApi: Send + Sync {
    /// Every repository of an organisation or user; `None` when no such owner.
    async fn repositories(&self, owner: &str) -> Result<Option<Vec<RepositoryListing>>, ProviderError>;
}

#[derive(Deserialize)]
struct Minimal {
    full_name: String,
    #[serde(default)]
    fork: bool,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    topics: Vec<String>,
}

/// The real API.
pub(crate) struct RestRepositories {
    http: reqwest::Client,
    api: String,
    token: Option<String>,
}

impl RestRepositories {
    /// From the environment: `GANTRY_GITHUB_API` (default api.github.com), `GITHUB_TOKEN`.
    pub(crate) fn from_env() -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::github(ErrorClass::Other, "client", e.to_string()))?;
        let api = std::env::var("GANTRY_GITHUB_API").unwrap_or_else(|_| gantry_scaler_env::github::defaults::GITHUB_API.to_string());
        let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
        Ok(RestRepositories { http, api: api.trim_end_matches('/').to_string(), token })
    }

    /// Every page from `url` (the items of each page at `key`, or the page
    /// itself when it is a list); `None` when the first page is a 404.
    async fn pages<T: serde::de::DeserializeOwned>(&self, url: String, op: &'static str, key: &str) -> Result<Option<Vec<T>>, ProviderError> {
        let err = |class, msg: String| ProviderError::github(class, op, msg);
        let mut next = Some(url);
        let mut out = Vec::new();
        while let Some(url) = next.take() {
            let mut req = self.http.get(&url).header("Accept", "application/vnd.github+json").header("X-GitHub-Api-Version", API_VERSION);
            if let Some(t) = &self.token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.map_err(|e| err(ErrorClass::Network, e.to_string()))?;
            let status = resp.status().as_u16();
            let exhausted = resp.headers().get("x-ratelimit-remaining").and_then(|v| v.to_str().ok()) == Some("0");
            let link = resp.headers().get("link").and_then(|v| v.to_str().ok()).map(String::from);
            let body = resp.text().await.map_err(|e| err(ErrorClass::Network, e.to_string()))?;
            match status {
                200 => {}
                404 if out.is_empty() => return Ok(None),
                403 | 429 if exhausted => {
                    return Err(err(ErrorClass::Throttled, "GitHub's rate limit is used up: set GITHUB_TOKEN (5,000 requests an hour instead of 60)".into()))
                }
                401 | 403 => return Err(err(ErrorClass::AccessDenied, format!("HTTP {status}: {}", body.chars().take(200).collect::<String>()))),
                s => return Err(err(if s >= 500 { ErrorClass::Network } else { ErrorClass::Other }, format!("HTTP {s} from {url}"))),
            }
            let mut doc: serde_json::Value = serde_json::from_str(&body).map_err(|e| err(ErrorClass::Other, format!("unexpected answer from {url}: {e}")))?;
            let items = if key.is_empty() { doc } else { doc[key].take() };
            let page: Vec<T> = serde_json::from_value(items).map_err(|e| err(ErrorClass::Other, format!("unexpected answer from {url}: {e}")))?;
            out.extend(page);
            // The token goes only to the API it was given for, whatever a Link header names.
            next = link.as_deref().and_then(next_link).filter(|n| n.starts_with(&format!("{}/", self.api)));
        }
        Ok(Some(out))
    }
}

#[async_trait]
impl GithubLookupApi for RestRepositories {
    async fn repositories(&self, owner: &str) -> Result<Option<Vec<RepositoryListing>>, ProviderError> {
        let org: Option<Vec<Minimal>> = self.pages(format!("{}/orgs/{owner}/repos?per_page=100&type=all", self.api), "ListRepositories", "").await?;
        let found = match org {
            Some(r) => Some(r),
            None => self.pages(format!("{}/users/{owner}/repos?per_page=100&type=owner", self.api), "ListRepositories", "").await?,
        };
        Ok(found.map(|repos| {
            repos.into_iter().map(|r| RepositoryListing { full_name: r.full_name, fork: r.fork, archived: r.archived, topics: r.topics }).collect()
        }))
    }
}

/// A workflow job that ran: its labels and when it was queued, started and
/// completed (RFC 3339, as the API writes them).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FinishedJob {
    #[serde(default)]
    pub labels: Vec<String>,
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
}

#[derive(Deserialize)]
struct RunId {
    id: u64,
}

impl RestRepositories {
    /// The jobs of `repo`'s completed workflow runs created on `since_date`
    /// (YYYY-MM-DD) or later: the runs, every page, then each run's jobs.
    pub(crate) async fn finished_jobs(&self, repo: &str, since_date: &str) -> Result<Vec<FinishedJob>, ProviderError> {
        let runs_url = format!("{}/repos/{repo}/actions/runs?status=completed&created=%3E%3D{since_date}&per_page=100", self.api);
        let runs: Vec<RunId> = self
            .pages(runs_url, "ListWorkflowRuns", "workflow_runs")
            .await?
            .ok_or_else(|| ProviderError::github(ErrorClass::NotFound, "ListWorkflowRuns", format!("no repository {repo} (or no access to it)")))?;
        let mut out = Vec::new();
        for run in runs {
            let url = format!("{}/repos/{repo}/actions/runs/{}/jobs?per_page=100", self.api, run.id);
            out.extend(self.pages::<FinishedJob>(url, "ListJobsForWorkflowRun", "jobs").await?.unwrap_or_default());
        }
        Ok(out)
    }
}
