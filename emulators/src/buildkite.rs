//! Fake Buildkite agent metrics API:
//! `GET /metrics/queue?name=QUEUE` with `Authorization: Token <token>` →
//! `{"organization":{"slug":"acme"},"cluster":{"name":"ci"},"agents":{...},"jobs":{...}}`.
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
    #[serde(default)]
    pub scheduled: u32,
    #[serde(default)]
    pub running: u32,
    #[serde(default)]
    pub waiting: u32,
    #[serde(default)]
    pub idle: u32,
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
}

/// Handle to a running fake.
#[derive(Clone)]
pub struct FakeBuildkite {
    inner: Arc<Mutex<Inner>>,
    token: String,
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

    pub fn set_counts(&self, queue: &str, c: Counts) {
        self.inner.lock().unwrap().queues.insert(queue.to_string(), c);
    }

    pub fn set_fault(&self, f: Fault) {
        self.inner.lock().unwrap().fault = f;
    }

    /// Makes every answer carry `Buildkite-Agent-Metrics-Poll-Duration:
    /// SECS`, the interval the real API asks clients to poll at (at most),
    /// as buildkite-agent-metrics and -scaler read it (integer seconds).
    pub fn set_poll_duration(&self, secs: Option<u64>) {
        self.inner.lock().unwrap().poll_duration = secs;
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
