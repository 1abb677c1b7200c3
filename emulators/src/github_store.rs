//! The fake GitHub's state and what every handler shares: the rate-limit
//! budget and headers (`enter`), GitHub's error body, `Link` pagination,
//! and the runners and jobs it holds. The routes are in `github`,
//! `github_runs` and `github_repos`.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The hourly request budget GitHub gives an installation (REST reference).
pub(crate) const RATE_LIMIT: u64 = 5000;
/// When the fake's rate-limit window resets (a fixed epoch second).
const RESET_AT: u64 = 1_900_000_000;

/// One self-hosted runner.
#[derive(Debug, Clone, PartialEq)]
pub struct Runner {
    /// The runner's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// `owner/repo` or the organisation it was registered for.
    pub scope: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// "online" once the runner process connected, "offline" before.
    pub status: String,
    /// Running a job.
    pub busy: bool,
}

/// One workflow job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's id.
    pub id: u64,
    /// Its workflow run's id.
    pub run_id: u64,
    /// `owner/repo`.
    pub repo: String,
    /// The labels it asks for.
    pub labels: Vec<String>,
    /// "queued", "in_progress" or "completed".
    pub status: String,
    /// When it was queued (unix seconds).
    pub created_at: u64,
    /// "cancelled" once its run was cancelled.
    pub conclusion: Option<String>,
    /// When a runner took it and when it ended (unix seconds).
    pub started_at: Option<u64>,
    /// When it ended (unix seconds).
    pub completed_at: Option<u64>,
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(crate) fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).to_string()
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) tokens: Vec<String>,
    pub(crate) runners: BTreeMap<u64, Runner>,
    pub(crate) jobs: BTreeMap<u64, Job>,
    pub(crate) next_id: u64,
    pub(crate) remaining: u64,
    pub(crate) faults: VecDeque<u16>,
    /// Seconds of `retry-after` for the next request (a secondary limit).
    pub(crate) secondary: Option<u64>,
    pub(crate) requests: u64,
    /// Requests without `X-GitHub-Api-Version`.
    pub(crate) unversioned: u64,
    /// 304 answers to conditional reads.
    pub(crate) not_modified: u64,
    /// (app id, public key PEM): when set, app JWTs are verified.
    pub(crate) app: Option<(u64, String)>,
}

/// Handle to a running fake.
#[derive(Clone)]
pub struct FakeGithub {
    pub(crate) inner: Arc<Mutex<Inner>>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Repositories the listings serve (see `github_repos`).
    pub repos: crate::github_repos::Repos,
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"}))).into_response()
}

/// Counts the request, answers an injected fault or an exhausted rate
/// limit, and checks the installation token. `Ok` carries the headers every
/// answer gets.
pub(crate) fn enter(f: &FakeGithub, headers: &HeaderMap) -> Result<HeaderMap, Box<Response>> {
    let mut i = f.inner.lock().unwrap();
    i.requests += 1;
    if !headers.contains_key("x-github-api-version") {
        i.unversioned += 1;
    }
    let mut out = HeaderMap::new();
    let used = RATE_LIMIT - i.remaining.min(RATE_LIMIT);
    for (k, v) in [("x-ratelimit-limit", RATE_LIMIT), ("x-ratelimit-remaining", i.remaining), ("x-ratelimit-used", used), ("x-ratelimit-reset", RESET_AT)] {
        out.insert(k, HeaderValue::from(v));
    }
    out.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
    if let Some(secs) = i.secondary.take() {
        // "Rate limits for the REST API": secondary limits answer 403 (or
        // 429) with retry-after; calling again before it passes is worse.
        out.insert("retry-after", HeaderValue::from(secs));
        let msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
        return Err(Box::new((StatusCode::FORBIDDEN, out, Json(json!({"message": msg}))).into_response()));
    }
    if let Some(code) = i.faults.pop_front() {
        return Err(Box::new(error(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY), "Server Error")));
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("token ")).unwrap_or("");
    if !i.tokens.iter().any(|t| t == token) {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, "Bad credentials")));
    }
    if i.remaining == 0 {
        // Primary limit exhausted: 403 with the headers saying when it resets.
        return Err(Box::new((StatusCode::FORBIDDEN, out, Json(json!({"message": "API rate limit exceeded for installation ID 1."}))).into_response()));
    }
    i.remaining -= 1;
    Ok(out)
}

#[derive(Deserialize)]
pub(crate) struct Page {
    pub(crate) per_page: Option<usize>,
    pub(crate) page: Option<usize>,
    pub(crate) status: Option<String>,
    /// Runs' `created` filter: `>=YYYY-MM-DD` (GitHub's search syntax).
    pub(crate) created: Option<String>,
}

/// One page of `items` with GitHub's `Link: <...>; rel="next"` when more follow.
pub(crate) fn paged(f: &FakeGithub, path: &str, q: &Page, items: Vec<Value>, key: &str, mut headers: HeaderMap) -> Response {
    let per = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per).take(per).collect();
    if page * per < total {
        // The next link keeps the request's filters, as GitHub's does.
        let mut filters = String::new();
        for (k, v) in [("status", &q.status), ("created", &q.created)] {
            if let Some(v) = v {
                filters.push_str(&format!("&{k}={}", v.replace('>', "%3E").replace('=', "%3D").replace('<', "%3C")));
            }
        }
        let next = format!("<{}{path}?per_page={per}&page={}{filters}>; rel=\"next\"", f.endpoint(), page + 1);
        headers.insert("link", HeaderValue::from_str(&next).expect("ascii"));
    }
    (headers, Json(json!({"total_count": total, key: slice}))).into_response()
}

/// FNV-1a: a stable content hash for ETags.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
