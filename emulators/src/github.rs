//! Fake of the GitHub REST API parts a runner scaler calls, in GitHub's
//! wire shapes: a GitHub App installation token (the app JWT verified
//! when the fake knows the app's public key), just-in-time runner
//! configuration (repository and organisation), runners (list with `Link`
//! pagination, delete; a busy runner cannot be deleted), queued workflow
//! runs and their jobs (a run is `in_progress` once one of its jobs
//! started, and its other jobs stay queued inside it), run cancellation,
//! rate-limit headers on every answer (and the 403 an exhausted limit
//! gives), secondary limits (403 with `retry-after`), injected 5xx, and
//! `workflow_job` webhook deliveries signed with `X-Hub-Signature-256`,
//! and repository listings (`github_repos`).
//! A single job can be read with `If-None-Match`: an unchanged job answers
//! 304, which does not count against the primary limit ("Best practices
//! for using the REST API", conditional requests). Requests that do not
//! name the API version (`X-GitHub-Api-Version`) are counted.
//!
//! Shapes follow GitHub's REST reference ("Self-hosted runners",
//! "Workflow runs", "Workflow jobs", "Rate limits for the REST API") and
//! its webhook docs ("Validating webhook deliveries": HMAC-SHA256 of the
//! body with the webhook secret, hex, prefixed `sha256=`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

use crate::github_store::{enter, error, paged, unix_now, Inner, Page, RATE_LIMIT};
pub use crate::github_store::{FakeGithub, Job, Runner};

impl FakeGithub {
    /// Starts the fake on 127.0.0.1:`port` (0 = any free port) in the current runtime.
    pub async fn start(port: u16) -> std::io::Result<FakeGithub> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let inner = Inner { remaining: RATE_LIMIT, next_id: 1000, ..Inner::default() };
        let fake = FakeGithub { inner: Arc::new(Mutex::new(inner)), addr, repos: Default::default() };
        let app = Router::new()
            .route("/app/installations/{id}/access_tokens", post(access_token))
            .route("/repos/{owner}/{repo}/actions/runners/generate-jitconfig", post(jit_repo))
            .route("/orgs/{org}/actions/runners/generate-jitconfig", post(jit_org))
            .route("/repos/{owner}/{repo}/actions/runners", get(list_runners_repo))
            .route("/orgs/{org}/actions/runners", get(list_runners_org))
            .route("/repos/{owner}/{repo}/actions/runners/{id}", delete(delete_runner_repo))
            .route("/orgs/{org}/actions/runners/{id}", delete(delete_runner_org))
            .route("/repos/{owner}/{repo}/actions/runs", get(crate::github_runs::list_runs))
            .route("/repos/{owner}/{repo}/actions/runs/{run}/jobs", get(crate::github_runs::list_jobs))
            .route("/repos/{owner}/{repo}/actions/jobs/{job}", get(crate::github_runs::get_job))
            .route("/repos/{owner}/{repo}/actions/runs/{run}/cancel", post(crate::github_runs::cancel_run))
            .route("/_fake/jobs", post(fake_queue_job))
            .with_state(fake.clone())
            .merge(crate::github_repos::router(fake.repos.clone(), fake.endpoint()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(fake)
    }

    /// Base URL (the scaler's GitHub API endpoint).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Verifies app JWTs from now on: RS256 with this public key, `iss` =
    /// `app_id`, at most 10 minutes between `iat` and `exp`, not expired
    /// (GitHub, "Generating a JSON Web Token for a GitHub App").
    pub fn require_app(&self, app_id: u64, public_key_pem: &str) {
        self.inner.lock().unwrap().app = Some((app_id, public_key_pem.to_string()));
    }

    /// Queues a job for `repo` with these `runs-on` labels, in a new run.
    pub fn queue_job(&self, repo: &str, labels: &[&str]) -> Job {
        let run = {
            let mut i = self.inner.lock().unwrap();
            i.next_id += 1;
            i.next_id
        };
        self.queue_job_in_run(run, repo, labels)
    }

    /// Accepts `token` as a personal access token (GITHUB_TOKEN).
    pub fn add_token(&self, token: &str) {
        self.inner.lock().unwrap().tokens.push(token.to_string());
    }

    /// A job that ran in the past, in its own run: queued at `created`,
    /// started and completed at the given unix seconds (job history).
    pub fn add_finished_job(&self, repo: &str, labels: &[&str], created: u64, started: u64, completed: u64) -> Job {
        let mut i = self.inner.lock().unwrap();
        i.next_id += 2;
        let job = Job {
            id: i.next_id,
            run_id: i.next_id - 1,
            repo: repo.to_string(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            status: "completed".into(),
            created_at: created,
            conclusion: Some("success".into()),
            started_at: Some(started),
            completed_at: Some(completed),
        };
        i.jobs.insert(job.id, job.clone());
        job
    }

    /// Queues a job inside run `run_id` (e.g. a job that `needs:` a started one).
    pub fn queue_job_in_run(&self, run_id: u64, repo: &str, labels: &[&str]) -> Job {
        let mut i = self.inner.lock().unwrap();
        i.next_id += 1;
        let job = Job {
            id: i.next_id,
            run_id,
            repo: repo.to_string(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            status: "queued".into(),
            created_at: unix_now(),
            conclusion: None,
            started_at: None,
            completed_at: None,
        };
        i.jobs.insert(job.id, job.clone());
        job
    }

    /// Moves a job's queue time `secs` into the past.
    pub fn backdate_job(&self, job_id: u64, secs: u64) {
        if let Some(j) = self.inner.lock().unwrap().jobs.get_mut(&job_id) {
            j.created_at -= secs;
        }
    }

    /// A job by id.
    pub fn job(&self, job_id: u64) -> Option<Job> {
        self.inner.lock().unwrap().jobs.get(&job_id).cloned()
    }

    /// The runner process on an instance connected with its configuration.
    pub fn runner_online(&self, name: &str) -> Option<u64> {
        let mut i = self.inner.lock().unwrap();
        let r = i.runners.values_mut().find(|r| r.name == name)?;
        r.status = "online".into();
        Some(r.id)
    }

    /// A runner picks up a queued job: the job runs, the runner is online and busy.
    pub fn start_job(&self, job_id: u64, runner_id: u64) {
        let mut i = self.inner.lock().unwrap();
        if let Some(j) = i.jobs.get_mut(&job_id) {
            j.status = "in_progress".into();
            j.started_at = Some(unix_now());
        }
        if let Some(r) = i.runners.get_mut(&runner_id) {
            r.status = "online".into();
            r.busy = true;
        }
    }

    /// The job finished; an ephemeral runner then deregisters itself.
    pub fn finish_job(&self, job_id: u64, runner_id: u64) {
        let mut i = self.inner.lock().unwrap();
        if let Some(j) = i.jobs.get_mut(&job_id) {
            j.status = "completed".into();
            j.completed_at = Some(unix_now());
            j.conclusion.get_or_insert_with(|| "success".into());
        }
        i.runners.remove(&runner_id);
    }

    /// Every registered runner.
    pub fn runners(&self) -> Vec<Runner> {
        self.inner.lock().unwrap().runners.values().cloned().collect()
    }

    /// Requests left in the rate-limit window (0: every call answers 403).
    pub fn set_rate_limit_remaining(&self, n: u64) {
        self.inner.lock().unwrap().remaining = n;
    }

    /// The next request hits a secondary rate limit (403 with `retry-after`).
    pub fn secondary_limit_next(&self, retry_after: u64) {
        self.inner.lock().unwrap().secondary = Some(retry_after);
    }

    /// The next requests answer these statuses, one each, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().faults.extend(statuses.iter().copied());
    }

    /// API requests served so far.
    pub fn requests(&self) -> u64 {
        self.inner.lock().unwrap().requests
    }

    /// Requests (the installation-token one included) that named no API version.
    pub fn unversioned_requests(&self) -> u64 {
        self.inner.lock().unwrap().unversioned
    }

    /// Conditional reads answered 304 (free of the primary limit).
    pub fn not_modified(&self) -> u64 {
        self.inner.lock().unwrap().not_modified
    }

    /// Requests left in the primary limit.
    pub fn rate_limit_remaining(&self) -> u64 {
        self.inner.lock().unwrap().remaining
    }

    /// The `workflow_job` webhook body GitHub sends for `action` on a job.
    pub fn workflow_job_payload(&self, action: &str, job: &Job) -> Value {
        json!({
            "action": action,
            "workflow_job": {"id": job.id, "run_id": job.run_id, "status": job.status, "labels": job.labels, "name": "build", "runner_id": null},
            "repository": {"full_name": job.repo},
            "installation": {"id": 1}
        })
    }

    /// Delivers a webhook as GitHub does (`X-GitHub-Event`,
    /// `X-GitHub-Delivery`, `X-Hub-Signature-256: sha256=HEX(HMAC(secret, body))`);
    /// returns the receiver's status.
    pub async fn deliver(&self, url: &str, secret: &str, event: &str, payload: &Value) -> Result<u16, String> {
        let body = payload.to_string();
        let delivery = {
            let mut i = self.inner.lock().unwrap();
            i.next_id += 1;
            format!("72d3162e-cc78-11e3-81ab-{:012}", i.next_id)
        };
        let resp = reqwest::Client::new()
            .post(url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "GitHub-Hookshot/fake")
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header("X-Hub-Signature-256", signature(secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(resp.status().as_u16())
    }
}

/// `sha256=` + hex HMAC-SHA256 of `body` with `secret`, as GitHub signs deliveries.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

async fn access_token(State(f): State<FakeGithub>, Path(_id): Path<u64>, headers: HeaderMap) -> Response {
    // An app authenticates with a JWT (three dot-separated parts).
    if !headers.contains_key("x-github-api-version") {
        f.inner.lock().unwrap().unversioned += 1;
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(jwt) = auth.strip_prefix("Bearer ").filter(|t| t.split('.').count() == 3) else {
        return error(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded");
    };
    let mut i = f.inner.lock().unwrap();
    if let Some((app_id, pem)) = &i.app {
        if let Err(m) = verify_app_jwt(jwt, *app_id, pem) {
            return error(StatusCode::UNAUTHORIZED, &m);
        }
    }
    let token = format!("ghs_fake{:030}", i.tokens.len() + 1);
    i.tokens.push(token.clone());
    (StatusCode::CREATED, Json(json!({"token": token, "expires_at": "2030-01-01T00:00:00Z", "permissions": {"administration": "write", "actions": "read"}})))
        .into_response()
}

#[derive(Deserialize)]
struct AppClaims {
    iat: u64,
    exp: u64,
    iss: serde_json::Value,
}

fn verify_app_jwt(jwt: &str, app_id: u64, pem: &str) -> Result<(), String> {
    use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut v = Validation::new(Algorithm::RS256);
    v.required_spec_claims = ["exp", "iat", "iss"].iter().map(|s| s.to_string()).collect();
    v.leeway = 0;
    let c = decode::<AppClaims>(jwt, &key, &v).map_err(|e| format!("A JSON web token could not be decoded ({e})"))?.claims;
    let iss = c.iss.as_u64().or_else(|| c.iss.as_str().and_then(|s| s.parse().ok()));
    if iss != Some(app_id) {
        return Err("Integration not found".into());
    }
    if c.exp.saturating_sub(c.iat) > 600 {
        return Err("'Expiration time' claim ('exp') is too far in the future".into());
    }
    Ok(())
}

#[derive(Deserialize)]
struct JitRequest {
    name: String,
    labels: Vec<String>,
    #[allow(dead_code)]
    runner_group_id: u64,
}

fn runner_json(r: &Runner) -> Value {
    let labels: Vec<Value> = r.labels.iter().enumerate().map(|(n, l)| json!({"id": n + 1, "name": l, "type": "custom"})).collect();
    json!({"id": r.id, "name": r.name, "os": "Linux", "status": r.status, "busy": r.busy, "ephemeral": true, "labels": labels})
}

fn jit(f: &FakeGithub, scope: String, headers: &HeaderMap, req: JitRequest) -> Response {
    let out = match enter(f, headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let mut i = f.inner.lock().unwrap();
    if i.runners.values().any(|r| r.name == req.name && r.scope == scope) {
        return error(StatusCode::CONFLICT, &format!("Already exists - A runner with the name {} already exists.", req.name));
    }
    if req.labels.is_empty() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\nNo labels provided.");
    }
    i.next_id += 1;
    let r = Runner { id: i.next_id, name: req.name, scope, labels: req.labels, status: "offline".into(), busy: false };
    i.runners.insert(r.id, r.clone());
    use base64::Engine;
    let config = base64::engine::general_purpose::STANDARD.encode(json!({".runner": {"agentId": r.id, "agentName": r.name}}).to_string());
    (StatusCode::CREATED, out, Json(json!({"runner": runner_json(&r), "encoded_jit_config": config}))).into_response()
}

async fn jit_repo(State(f): State<FakeGithub>, Path((o, r)): Path<(String, String)>, headers: HeaderMap, Json(req): Json<JitRequest>) -> Response {
    jit(&f, format!("{o}/{r}"), &headers, req)
}

async fn jit_org(State(f): State<FakeGithub>, Path(org): Path<String>, headers: HeaderMap, Json(req): Json<JitRequest>) -> Response {
    jit(&f, org, &headers, req)
}

fn list_runners(f: &FakeGithub, scope: String, path: String, headers: &HeaderMap, q: &Page) -> Response {
    let out = match enter(f, headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let items: Vec<Value> = f.inner.lock().unwrap().runners.values().filter(|r| r.scope == scope).map(runner_json).collect();
    paged(f, &path, q, items, "runners", out)
}

async fn list_runners_repo(State(f): State<FakeGithub>, Path((o, r)): Path<(String, String)>, headers: HeaderMap, Query(q): Query<Page>) -> Response {
    list_runners(&f, format!("{o}/{r}"), format!("/repos/{o}/{r}/actions/runners"), &headers, &q)
}

async fn list_runners_org(State(f): State<FakeGithub>, Path(org): Path<String>, headers: HeaderMap, Query(q): Query<Page>) -> Response {
    list_runners(&f, org.clone(), format!("/orgs/{org}/actions/runners"), &headers, &q)
}

fn delete_runner(f: &FakeGithub, scope: String, id: u64, headers: &HeaderMap) -> Response {
    let out = match enter(f, headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let mut i = f.inner.lock().unwrap();
    match i.runners.get(&id) {
        Some(r) if r.scope == scope && r.busy => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &format!("Bad request - Runner \"{}\" is still running a job\".", r.name))
        }
        Some(r) if r.scope == scope => {
            i.runners.remove(&id);
            (StatusCode::NO_CONTENT, out).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn delete_runner_repo(State(f): State<FakeGithub>, Path((o, r, id)): Path<(String, String, u64)>, headers: HeaderMap) -> Response {
    delete_runner(&f, format!("{o}/{r}"), id, &headers)
}

async fn delete_runner_org(State(f): State<FakeGithub>, Path((org, id)): Path<(String, u64)>, headers: HeaderMap) -> Response {
    delete_runner(&f, org, id, &headers)
}

#[derive(Deserialize)]
struct QueueRequest {
    repo: String,
    labels: Vec<String>,
}

/// Test and demo control (not a GitHub API): queue a job.
async fn fake_queue_job(State(f): State<FakeGithub>, Json(q): Json<QueueRequest>) -> Response {
    let labels: Vec<&str> = q.labels.iter().map(String::as_str).collect();
    let j = f.queue_job(&q.repo, &labels);
    (StatusCode::CREATED, Json(json!({"id": j.id, "run_id": j.run_id}))).into_response()
}
