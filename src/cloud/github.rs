//! The GitHub REST API for `data "github_repositories"`: an owner's
//! repositories, all pages (`Link: rel="next"`), from `/orgs/{owner}/repos`
//! or, for a user, `/users/{owner}/repos`. `GITHUB_TOKEN` is sent when set
//! (unauthenticated calls get 60 an hour); `GANTRY_GITHUB_API` points at
//! GitHub Enterprise Server (`https://HOST/api/v3`) or a test fake.

use crate::core::error::{ErrorClass, ProviderError};
use crate::lookups::{GithubLookupApi, RepositoryListing};
use async_trait::async_trait;
use gantry_scaler::github::rest::{next_link, API_VERSION};
use serde::Deserialize;
use std::time::Duration;

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
pub struct RestRepositories {
    http: reqwest::Client,
    api: String,
    token: Option<String>,
}

impl RestRepositories {
    /// From the environment: `GANTRY_GITHUB_API` (default api.github.com), `GITHUB_TOKEN`.
    pub fn from_env() -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::new(ErrorClass::Other, "github", "client", e.to_string()))?;
        let api = std::env::var("GANTRY_GITHUB_API").unwrap_or_else(|_| gantry_scaler_env::github::defaults::GITHUB_API.to_string());
        let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
        Ok(RestRepositories { http, api: api.trim_end_matches('/').to_string(), token })
    }

    /// Every page from `url`; `None` when the first page is a 404.
    async fn pages(&self, url: String) -> Result<Option<Vec<Minimal>>, ProviderError> {
        let err = |class, msg: String| ProviderError::new(class, "github", "ListRepositories", msg);
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
            let page: Vec<Minimal> = serde_json::from_str(&body).map_err(|e| err(ErrorClass::Other, format!("unexpected answer from {url}: {e}")))?;
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
        let org = self.pages(format!("{}/orgs/{owner}/repos?per_page=100&type=all", self.api)).await?;
        let found = match org {
            Some(r) => Some(r),
            None => self.pages(format!("{}/users/{owner}/repos?per_page=100&type=owner", self.api)).await?,
        };
        Ok(found.map(|repos| {
            repos.into_iter().map(|r| RepositoryListing { full_name: r.full_name, fork: r.fork, archived: r.archived, topics: r.topics }).collect()
        }))
    }
}
