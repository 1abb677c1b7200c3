//! Fake Buildkite agent metrics API:
//! `GET /metrics/queue?name=QUEUE` with `Authorization: Token <token>` →
//! `{"organization":{"slug":"acme"},"cluster":{"name":"ci"},"agents":{...},"jobs":{...}}`.
//!
//! And the REST API's builds (`GET /v2/organizations/{org}/builds`,
//! `/v2/organizations/{org}/pipelines/{p}/builds`) with `Authorization:
//! Bearer <token>`: `created_from` filters, `per_page` (at most 100) pages
//! with a `Link: <...>; rel="next"` header, newest first, as documented
//! ("REST API: Builds", "Pagination").
//!
//! Control (for out-of-process use, e.g. the demo):
//! `PUT /_fake/queues/{name}` with `{"scheduled":5,"running":2,"waiting":0,"idle":0,"busy":2}`;
//! `PUT /_fake/fault` with `{"status":503}` (or `{"malformed":true}`, or `{}` to clear).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Counts for one queue.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    /// Jobs scheduled.
    #[serde(default)]
    pub scheduled: u32,
    /// Jobs running.
    #[serde(default)]
    pub running: u32,
    /// Jobs waiting on others.
    #[serde(default)]
    pub waiting: u32,
    /// Idle agents.
    #[serde(default)]
    pub idle: u32,
    /// Busy agents.
    #[serde(default)]
    pub busy: u32,
}

/// An injected fault.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Fault {
    /// Answer this HTTP status instead of the counts.
    #[serde(default)]
    pub status: Option<u16>,
    /// Answer 200 with JSON missing required fields.
    #[serde(default)]
    pub malformed: bool,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<String, Counts>,
    fault: Fault,
    requests: u64,
    /// Seconds sent in `Buildkite-Agent-Metrics-Poll-Duration` (none: no header).
    poll_duration: Option<u64>,
    /// REST builds as (pipeline slug, build), in the order added.
    builds: Vec<(String, serde_json::Value)>,
    rest_requests: u64,
}

/// Handle to a running fake.
#[derive(Clone)]
pub struct FakeBuildkite {
    inner: Arc<Mutex<Inner>>,
    token: String,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeBuildkite {
    /// Starts the fake on 127.0.0.1:`port` (0 = any free port) in the current runtime.
    pub async fn start(port: u16, token: &str) -> std::io::Result<FakeBuildkite> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let fake = FakeBuildkite { inner: Arc::default(), token: token.to_string(), addr };
        let app = Router::new()
            .route("/metrics/queue", get(metrics))
            .route("/v2/organizations/{org}/builds", get(org_builds))
            .route("/v2/organizations/{org}/pipelines/{pipeline}/builds", get(pipeline_builds))
            .route("/_fake/queues/{name}", put(set_queue))
            .route("/_fake/fault", put(set_fault))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(fake)
    }

    /// Base URL (the scaler's METRICS_ENDPOINT).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets what the metrics API reports for `queue`.
    pub fn set_counts(&self, queue: &str, c: Counts) {
        self.inner.lock().unwrap().queues.insert(queue.to_string(), c);
    }

    /// Makes the API fail this way until changed.
    pub fn set_fault(&self, f: Fault) {
        self.inner.lock().unwrap().fault = f;
    }

    /// Makes every answer carry `Buildkite-Agent-Metrics-Poll-Duration:
    /// SECS`, the interval the real API asks clients to poll at (at most),
    /// as buildkite-agent-metrics and -scaler read it (integer seconds).
    pub fn set_poll_duration(&self, secs: Option<u64>) {
        self.inner.lock().unwrap().poll_duration = secs;
    }

    /// Adds a build (REST shape: `created_at`, `jobs` with `type`,
    /// `agent_query_rules`, `runnable_at`, `started_at`, `finished_at`).
    pub fn add_build(&self, pipeline: &str, build: serde_json::Value) {
        self.inner.lock().unwrap().builds.push((pipeline.to_string(), build));
    }

    /// REST requests served so far.
    pub fn rest_requests(&self) -> u64 {
        self.inner.lock().unwrap().rest_requests
    }

    /// Metrics requests served so far.
    pub fn requests(&self) -> u64 {
        self.inner.lock().unwrap().requests
    }
}

#[derive(Deserialize)]
struct QueueQuery {
    name: Option<String>,
}

async fn metrics(State(f): State<FakeBuildkite>, headers: HeaderMap, Query(q): Query<QueueQuery>) -> Response {
    let mut inner = f.inner.lock().unwrap();
    inner.requests += 1;
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Token {}", f.token) {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"message": "Unauthorized"}))).into_response();
    }
    if let Some(code) = inner.fault.status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "injected fault").into_response();
    }
    if inner.fault.malformed {
        return Json(serde_json::json!({"agents": {"idle": 0}, "jobs": {"scheduled": 1}})).into_response();
    }
    let Some(name) = q.name else {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({"message": "name is required"}))).into_response();
    };
    let c = inner.queues.get(&name).copied().unwrap_or_default();
    let poll = inner.poll_duration.map(|s| [("Buildkite-Agent-Metrics-Poll-Duration", s.to_string())]);
    let body = Json(serde_json::json!({
        "organization": {"slug": "acme"},
        "cluster": {"name": "ci"},
        "agents": {"idle": c.idle, "busy": c.busy, "total": c.idle + c.busy},
        "jobs": {"scheduled": c.scheduled, "running": c.running, "waiting": c.waiting, "total": c.scheduled + c.running + c.waiting}
    }));
    match poll {
        Some(h) => (h, body).into_response(),
        None => body.into_response(),
    }
}

async fn set_queue(State(f): State<FakeBuildkite>, Path(name): Path<String>, Json(c): Json<Counts>) -> StatusCode {
    f.set_counts(&name, c);
    StatusCode::NO_CONTENT
}

async fn set_fault(State(f): State<FakeBuildkite>, Json(fault): Json<Fault>) -> StatusCode {
    f.set_fault(fault);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct BuildsQuery {
    created_from: Option<String>,
    per_page: Option<usize>,
    page: Option<usize>,
}

fn builds(f: &FakeBuildkite, headers: &HeaderMap, org: &str, pipeline: Option<&str>, q: BuildsQuery) -> Response {
    let mut inner = f.inner.lock().unwrap();
    inner.rest_requests += 1;
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {}", f.token) {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"message": "Authentication required. Please supply a valid API Access Token"})))
            .into_response();
    }
    let mut found: Vec<&serde_json::Value> = inner
        .builds
        .iter()
        .filter(|(p, _)| pipeline.is_none_or(|want| p == want))
        .map(|(_, b)| b)
        .filter(|b| q.created_from.as_deref().is_none_or(|from| b["created_at"].as_str().is_some_and(|c| c >= from)))
        .collect();
    found.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    let per = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<serde_json::Value> = found.iter().skip((page - 1) * per).take(per).map(|b| (*b).clone()).collect();
    let body = Json(serde_json::Value::Array(items));
    if found.len() > page * per {
        let base = match pipeline {
            Some(p) => format!("{}/v2/organizations/{org}/pipelines/{p}/builds", f.endpoint()),
            None => format!("{}/v2/organizations/{org}/builds", f.endpoint()),
        };
        let from = q.created_from.map(|c| format!("&created_from={c}")).unwrap_or_default();
        let link = format!("<{base}?page={}&per_page={per}{from}>; rel=\"next\"", page + 1);
        return ([("Link", link)], body).into_response();
    }
    body.into_response()
}

async fn org_builds(State(f): State<FakeBuildkite>, headers: HeaderMap, Path(org): Path<String>, Query(q): Query<BuildsQuery>) -> Response {
    builds(&f, &headers, &org, None, q)
}

async fn pipeline_builds(State(f): State<FakeBuildkite>, headers: HeaderMap, Path((org, p)): Path<(String, String)>, Query(q): Query<BuildsQuery>) -> Response {
    builds(&f, &headers, &org, Some(&p), q)
}
