//! The REST calls behind [`GithubApi`], with GitHub's rules: installation
//! token from the app JWT (renewed after 50 of its 60 minutes, and at once
//! after a 401), `Link: rel="next"` pagination (followed until it stops, so
//! an empty page with a next link is not the end), and the rate limits of
//! "Rate limits for the REST API": `x-ratelimit-remaining`/`-reset` are
//! recorded from every answer; a 403/429 with `retry-after` (secondary
//! limit) or with `x-ratelimit-remaining: 0` (primary) stops all calls until
//! then, as GitHub asks, instead of retrying into a ban. Every request,
//! the installation-token one included, names the API version
//! (`X-GitHub-Api-Version`, "API Versions"). Single jobs are read with
//! `If-None-Match` on the ETag of the last answer: a 304 costs no request
//! of the primary limit ("Best practices for using the REST API").

use super::app::AppCredentials;
use super::{GithubApi, GithubError, JitConfig, QueuedJob, Runner};
use async_trait::async_trait;
use gantry_scaler_env::github::{GithubEnv, Scope};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);
/// The REST API version every request names.
pub const API_VERSION: &str = "2022-11-28";
/// Pages followed at most per listing (100 items each).
const MAX_PAGES: usize = 50;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[derive(Default)]
struct Limits {
    remaining: Option<u64>,
    reset: u64,
    /// No call before this (unix seconds).
    blocked_until: u64,
}

/// The GitHub REST API for one queue's scope.
pub struct RestGithub {
    http: reqwest::Client,
    api: String,
    scope: Scope,
    labels: Vec<String>,
    runner_group_id: u64,
    creds: AppCredentials,
    token: Mutex<Option<(String, Instant)>>,
    limits: Mutex<Limits>,
    /// URL → (ETag, body) of the last 200 answer of a conditional read.
    etags: Mutex<HashMap<String, (String, String)>>,
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

#[derive(Deserialize)]
struct Runs {
    workflow_runs: Vec<Run>,
}
#[derive(Deserialize)]
struct Run {
    id: u64,
}
#[derive(Deserialize)]
struct Jobs {
    jobs: Vec<Job>,
}
#[derive(Deserialize)]
struct Job {
    id: u64,
    run_id: u64,
    status: String,
    #[serde(default)]
    labels: Vec<String>,
    created_at: Option<String>,
}
#[derive(Deserialize)]
struct Runners {
    runners: Vec<Runner>,
}
#[derive(Deserialize)]
struct Jit {
    runner: Runner,
    encoded_jit_config: String,
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

fn header_u64(h: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl RestGithub {
    /// A client for `env`'s API, authenticating as the app.
    pub fn new(env: &GithubEnv, creds: AppCredentials) -> Result<RestGithub, GithubError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("gantry-scaler/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GithubError::Network(e.to_string()))?;
        Ok(RestGithub {
            http,
            api: env.api.clone(),
            scope: env.scope.clone(),
            labels: env.labels.clone(),
            runner_group_id: env.runner_group_id,
            creds,
            token: Mutex::new(None),
            limits: Mutex::new(Limits::default()),
            etags: Mutex::new(HashMap::new()),
        })
    }

    fn scope_path(&self) -> String {
        match &self.scope {
            Scope::Repository { owner, repo } => format!("/repos/{owner}/{repo}"),
            Scope::Organization(org) => format!("/orgs/{org}"),
        }
    }

    async fn installation_token(&self) -> Result<String, GithubError> {
        if let Some((t, at)) = self.token.lock().unwrap().as_ref() {
            if at.elapsed() < TOKEN_LIFETIME {
                return Ok(t.clone());
            }
        }
        let url = format!("{}/app/installations/{}/access_tokens", self.api, self.creds.installation_id);
        let jwt = self.creds.jwt(now())?;
        let resp = self
            .http
            .post(&url)
            .bearer_auth(jwt)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .send()
            .await
            .map_err(|e| GithubError::Network(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| GithubError::Network(e.to_string()))?;
        match status {
            201 | 200 => {
                let t: Token = serde_json::from_str(&body).map_err(|e| GithubError::Malformed(e.to_string()))?;
                *self.token.lock().unwrap() = Some((t.token.clone(), Instant::now()));
                Ok(t.token)
            }
            401 | 403 | 404 => {
                Err(GithubError::Unauthorized(status, format!("installation token for installation {}: {}", self.creds.installation_id, snippet(&body))))
            }
            _ => Err(GithubError::Http(status, snippet(&body))),
        }
    }

    /// One call; `Ok((status, body, link))` for any status the caller interprets.
    async fn call(&self, method: reqwest::Method, url: &str, body: Option<serde_json::Value>) -> Result<(u16, String, Option<String>), GithubError> {
        self.call_with(method, url, body, None).await.map(|(status, text, link, _)| (status, text, link))
    }

    /// A GET answered from the last body when GitHub says it has not
    /// changed (304 to `If-None-Match`).
    async fn get_conditional(&self, url: &str) -> Result<(u16, String), GithubError> {
        let cached = self.etags.lock().unwrap().get(url).cloned();
        let (status, text, _, etag) = self.call_with(reqwest::Method::GET, url, None, cached.as_ref().map(|(e, _)| e.as_str())).await?;
        match (status, cached) {
            (304, Some((_, body))) => Ok((200, body)),
            (200, _) => {
                if let Some(e) = etag {
                    self.etags.lock().unwrap().insert(url.to_string(), (e, text.clone()));
                }
                Ok((200, text))
            }
            (other, _) => Ok((other, text)),
        }
    }

    async fn call_with(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<serde_json::Value>,
        if_none_match: Option<&str>,
    ) -> Result<(u16, String, Option<String>, Option<String>), GithubError> {
        {
            let l = self.limits.lock().unwrap();
            if l.blocked_until > now() {
                return Err(GithubError::RateLimited { until: l.blocked_until });
            }
        }
        for attempt in 0..2 {
            let token = self.installation_token().await?;
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(&token)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", API_VERSION);
            if let Some(e) = if_none_match {
                req = req.header("If-None-Match", e);
            }
            if let Some(b) = &body {
                req = req.header("Content-Type", "application/json").body(b.to_string());
            }
            let resp = req.send().await.map_err(|e| GithubError::Network(e.to_string()))?;
            let status = resp.status().as_u16();
            let h = resp.headers().clone();
            let link = h.get("link").and_then(|v| v.to_str().ok()).and_then(next_link);
            let etag = h.get("etag").and_then(|v| v.to_str().ok()).map(String::from);
            let text = resp.text().await.map_err(|e| GithubError::Network(e.to_string()))?;
            let mut l = self.limits.lock().unwrap();
            if let Some(r) = header_u64(&h, "x-ratelimit-remaining") {
                l.remaining = Some(r);
                l.reset = header_u64(&h, "x-ratelimit-reset").unwrap_or(l.reset);
            }
            if status == 403 || status == 429 {
                let until = match (header_u64(&h, "retry-after"), l.remaining) {
                    (Some(secs), _) => Some(now() + secs.max(1)),
                    (None, Some(0)) => Some(l.reset.max(now() + 1)),
                    // GitHub: a secondary limit without retry-after → wait at least a minute.
                    _ if status == 429 || text.contains("secondary rate limit") => Some(now() + 60),
                    _ => None,
                };
                if let Some(until) = until {
                    l.blocked_until = until;
                    return Err(GithubError::RateLimited { until });
                }
            }
            drop(l);
            if status == 401 && attempt == 0 {
                // The cached token was revoked or expired early: get a new one once.
                *self.token.lock().unwrap() = None;
                continue;
            }
            return Ok((status, text, link, etag));
        }
        unreachable!("the loop returns on its second attempt")
    }

    async fn get_all<T: DeserializeOwned, I>(&self, path_and_query: &str, items: impl Fn(T) -> Vec<I>) -> Result<Vec<I>, GithubError> {
        let mut url = Some(format!("{}{path_and_query}", self.api));
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(u) = url.take() else { break };
            let (status, body, next) = self.call(reqwest::Method::GET, &u, None).await?;
            expect_ok(status, &body)?;
            let page: T = serde_json::from_str(&body).map_err(|e| GithubError::Malformed(format!("{u}: {e}")))?;
            out.extend(items(page));
            url = next;
        }
        Ok(out)
    }
}

fn snippet(body: &str) -> String {
    body.chars().take(200).collect()
}

fn expect_ok(status: u16, body: &str) -> Result<(), GithubError> {
    match status {
        200..=299 => Ok(()),
        401 | 403 => Err(GithubError::Unauthorized(status, snippet(body))),
        _ => Err(GithubError::Http(status, snippet(body))),
    }
}

fn parse_time(text: Option<&str>) -> u64 {
    text.and_then(|t| humantime::parse_rfc3339_weak(t).ok()).and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs()).unwrap_or_else(now)
}

#[async_trait]
impl GithubApi for RestGithub {
    async fn queued_jobs(&self, repo: &str) -> Result<Vec<QueuedJob>, GithubError> {
        // A run is `in_progress` as soon as one job started, and the jobs
        // that `needs:` it are queued inside it: both statuses are read.
        let mut runs = Vec::new();
        for status in ["queued", "in_progress"] {
            runs.extend(self.get_all(&format!("/repos/{repo}/actions/runs?status={status}&per_page=100"), |r: Runs| r.workflow_runs).await?);
        }
        let mut out = Vec::new();
        for run in runs {
            let jobs = self.get_all(&format!("/repos/{repo}/actions/runs/{}/jobs?filter=latest&per_page=100", run.id), |j: Jobs| j.jobs).await?;
            out.extend(jobs.into_iter().filter(|j| j.status == "queued").map(|j| QueuedJob {
                id: j.id,
                run_id: j.run_id,
                repo: repo.to_string(),
                labels: j.labels,
                created_at: parse_time(j.created_at.as_deref()),
            }));
        }
        Ok(out)
    }

    async fn runners(&self) -> Result<Vec<Runner>, GithubError> {
        self.get_all(&format!("{}/actions/runners?per_page=100", self.scope_path()), |r: Runners| r.runners).await
    }

    async fn jit_config(&self, name: &str) -> Result<Option<JitConfig>, GithubError> {
        let url = format!("{}{}/actions/runners/generate-jitconfig", self.api, self.scope_path());
        let body = json!({"name": name, "runner_group_id": self.runner_group_id, "labels": self.labels, "work_folder": "_work"});
        let (status, text, _) = self.call(reqwest::Method::POST, &url, Some(body)).await?;
        if status == 409 {
            return Ok(None);
        }
        expect_ok(status, &text)?;
        let jit: Jit = serde_json::from_str(&text).map_err(|e| GithubError::Malformed(e.to_string()))?;
        Ok(Some(JitConfig { runner_id: jit.runner.id, encoded: jit.encoded_jit_config }))
    }

    async fn delete_runner(&self, id: u64) -> Result<bool, GithubError> {
        let url = format!("{}{}/actions/runners/{id}", self.api, self.scope_path());
        let (status, text, _) = self.call(reqwest::Method::DELETE, &url, None).await?;
        match status {
            // 404: already gone, which is what was wanted.
            204 | 404 => Ok(true),
            // "Runner … is still running a job".
            422 => Ok(false),
            _ => expect_ok(status, &text).map(|_| true),
        }
    }

    async fn cancel_run(&self, repo: &str, run_id: u64) -> Result<(), GithubError> {
        let url = format!("{}/repos/{repo}/actions/runs/{run_id}/cancel", self.api);
        let (status, text, _) = self.call(reqwest::Method::POST, &url, None).await?;
        // 409: the run already finished.
        if status == 409 {
            return Ok(());
        }
        expect_ok(status, &text)
    }

    async fn job_status(&self, repo: &str, job_id: u64) -> Result<String, GithubError> {
        let url = format!("{}/repos/{repo}/actions/jobs/{job_id}", self.api);
        let (status, text) = self.get_conditional(&url).await?;
        expect_ok(status, &text)?;
        let job: Job = serde_json::from_str(&text).map_err(|e| GithubError::Malformed(e.to_string()))?;
        Ok(job.status)
    }

    fn budget(&self) -> Option<(u64, u64)> {
        let l = self.limits.lock().unwrap();
        l.remaining.map(|r| (r, l.reset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let h =
            r#"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last""#;
        assert_eq!(next_link(h).as_deref(), Some("https://api.github.com/x?page=3"));
        assert_eq!(next_link(r#"<https://api.github.com/x?page=1>; rel="prev""#), None);
    }

    #[test]
    fn job_times_parse_as_github_writes_them() {
        assert_eq!(parse_time(Some("2026-11-26T03:00:00Z")), 1_795_662_000);
    }
}
