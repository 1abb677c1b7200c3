//! Fake AWS Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`), so a real
//! `bootstrap` binary can be run and invoked locally: it long-polls
//! `GET /2018-06-01/runtime/invocation/next` and answers on
//! `.../invocation/{id}/response` or `.../invocation/{id}/error`.
//!
//! [`FakeRuntime::function_url`] adds a Lambda function URL in front of
//! it: HTTP requests become payload-format-2.0 events and the function's
//! `{statusCode, headers, body}` answer becomes the HTTP response, as the
//! Lambda developer guide ("Invoking Lambda function URLs") describes; a
//! function error answers 502.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function's response.
    Response(Value),
    /// The error the function reported.
    Error(Value),
    /// The function never answered within the wait.
    TimedOut,
}

struct Pending {
    id: String,
    payload: Value,
    deadline_ms: u64,
}

#[derive(Default)]
struct Inner {
    queue: Mutex<VecDeque<Pending>>,
    queued: Notify,
    outcomes: Mutex<HashMap<String, Outcome>>,
    answered: Notify,
    init_error: Mutex<Option<Value>>,
    next_id: AtomicU64,
}

/// Handle to a running fake runtime API.
#[derive(Clone)]
pub struct FakeRuntime {
    inner: Arc<Inner>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl FakeRuntime {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<FakeRuntime> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let rt = FakeRuntime { inner: Arc::default(), addr };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(rt.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(rt)
    }

    /// Value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn api(&self) -> String {
        self.addr.to_string()
    }

    /// An init error the function reported, if any.
    pub fn init_error(&self) -> Option<Value> {
        self.inner.init_error.lock().unwrap().clone()
    }

    /// Invokes the function with `payload` and a deadline `timeout` from
    /// now; waits up to the deadline plus a grace period for its answer.
    pub async fn invoke(&self, payload: Value, timeout: Duration) -> Outcome {
        let id = format!("req-{}", self.inner.next_id.fetch_add(1, Ordering::SeqCst));
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        self.inner.queue.lock().unwrap().push_back(Pending { id: id.clone(), payload, deadline_ms: now_ms + timeout.as_millis() as u64 });
        self.inner.queued.notify_waiters();
        self.inner.queued.notify_one();
        let wait = tokio::time::sleep(timeout + Duration::from_secs(5));
        tokio::pin!(wait);
        loop {
            let notified = self.inner.answered.notified();
            if let Some(o) = self.inner.outcomes.lock().unwrap().remove(&id) {
                return o;
            }
            tokio::select! {
                _ = notified => {}
                _ = &mut wait => return Outcome::TimedOut,
            }
        }
    }
}

impl FakeRuntime {
    /// Starts a function URL for this function on a free port; returns its base URL.
    pub async fn function_url(&self, timeout: Duration) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let rt = self.clone();
        let app = Router::new().fallback(move |method: axum::http::Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let rt = rt.clone();
            async move { url_request(rt, timeout, method, uri, headers, body).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(format!("http://{addr}/"))
    }
}

async fn url_request(rt: FakeRuntime, timeout: Duration, method: axum::http::Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    // Header names arrive lower-cased; a text body is passed as is, any
    // other is base64-encoded with isBase64Encoded set.
    let hs: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.as_str().to_lowercase(), Value::String(v.to_str().unwrap_or("").into()))).collect();
    let (text, b64) = match std::str::from_utf8(&body) {
        Ok(t) => (t.to_string(), false),
        Err(_) => {
            use base64::Engine;
            (base64::engine::general_purpose::STANDARD.encode(&body), true)
        }
    };
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": uri.query().unwrap_or(""),
        "headers": hs,
        "requestContext": {"http": {"method": method.as_str(), "path": uri.path(), "sourceIp": "140.82.115.1"}, "domainName": "fake.lambda-url.us-west-2.on.aws"},
        "body": text,
        "isBase64Encoded": b64,
    });
    match rt.invoke(event, timeout).await {
        Outcome::Response(v) => {
            let status = v["statusCode"].as_u64().and_then(|c| StatusCode::from_u16(c as u16).ok()).unwrap_or(StatusCode::OK);
            let body = v["body"].as_str().map(String::from).unwrap_or_else(|| v.to_string());
            (status, body).into_response()
        }
        Outcome::Error(_) | Outcome::TimedOut => (StatusCode::BAD_GATEWAY, "Internal Server Error").into_response(),
    }
}

async fn next(State(rt): State<FakeRuntime>) -> Response {
    loop {
        let notified = rt.inner.queued.notified();
        if let Some(p) = rt.inner.queue.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            let h = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("x"));
            headers.insert("Lambda-Runtime-Aws-Request-Id", h(p.id.clone()));
            headers.insert("Lambda-Runtime-Deadline-Ms", h(p.deadline_ms.to_string()));
            headers.insert("Lambda-Runtime-Invoked-Function-Arn", h("arn:aws:lambda:us-west-2:123456789012:function:gantry-scaler".into()));
            headers.insert("Lambda-Runtime-Trace-Id", h(format!("Root=1-00000000-{:024x};Sampled=0", 1)));
            return (StatusCode::OK, headers, p.payload.to_string()).into_response();
        }
        notified.await;
    }
}

fn record(rt: &FakeRuntime, id: String, o: Outcome) -> StatusCode {
    rt.inner.outcomes.lock().unwrap().insert(id, o);
    rt.inner.answered.notify_waiters();
    StatusCode::ACCEPTED
}

fn json_of(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(rt): State<FakeRuntime>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    record(&rt, id, Outcome::Response(json_of(&body)))
}

async fn error(State(rt): State<FakeRuntime>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    record(&rt, id, Outcome::Error(json_of(&body)))
}

async fn init_error(State(rt): State<FakeRuntime>, body: Bytes) -> StatusCode {
    *rt.inner.init_error.lock().unwrap() = Some(json_of(&body));
    StatusCode::ACCEPTED
}
