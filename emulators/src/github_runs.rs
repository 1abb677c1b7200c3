//! The fake GitHub's workflow runs and jobs (`/repos/{o}/{r}/actions/runs`,
//! `.../runs/{id}/jobs`, `.../jobs/{id}`, `.../runs/{id}/cancel`), in the
//! REST API's shapes: a run's status from its jobs, `created` filtering
//! runs by date (`>=YYYY-MM-DD`, GitHub's search syntax), jobs with
//! `created_at`, `started_at` and `completed_at` once they have them.

use crate::github_store::{enter, error, fnv, paged, rfc3339, FakeGithub, Job, Page, RATE_LIMIT};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A run's status from its jobs: queued until one starts, completed when all are.
fn run_status(jobs: &[&Job]) -> &'static str {
    if jobs.iter().all(|j| j.status == "queued") {
        "queued"
    } else if jobs.iter().all(|j| j.status == "completed") {
        "completed"
    } else {
        "in_progress"
    }
}

pub(crate) async fn list_runs(State(f): State<FakeGithub>, Path((o, r)): Path<(String, String)>, headers: HeaderMap, Query(q): Query<Page>) -> Response {
    let out = match enter(&f, &headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let repo = format!("{o}/{r}");
    let runs: Vec<Value> = {
        let i = f.inner.lock().unwrap();
        let mut by_run: BTreeMap<u64, Vec<&Job>> = BTreeMap::new();
        for j in i.jobs.values().filter(|j| j.repo == repo) {
            by_run.entry(j.run_id).or_default().push(j);
        }
        let since = q.created.as_deref().and_then(|c| c.strip_prefix(">=")).unwrap_or("");
        by_run
            .iter()
            .map(|(id, jobs)| (id, run_status(jobs), jobs.iter().map(|j| j.created_at).min().unwrap_or(0)))
            .filter(|(_, st, _)| q.status.as_ref().is_none_or(|s| s == st))
            // Dates compare as text: `created_at` and the filter are both ISO 8601.
            .filter(|(_, _, created)| rfc3339(*created).as_str() >= since)
            .map(|(id, st, created)| json!({"id": id, "status": st, "name": "CI", "created_at": rfc3339(created), "repository": {"full_name": repo}}))
            .collect()
    };
    paged(&f, &format!("/repos/{repo}/actions/runs"), &q, runs, "workflow_runs", out)
}

pub(crate) async fn cancel_run(State(f): State<FakeGithub>, Path((o, r, run)): Path<(String, String, u64)>, headers: HeaderMap) -> Response {
    let out = match enter(&f, &headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let repo = format!("{o}/{r}");
    let mut i = f.inner.lock().unwrap();
    let jobs: Vec<&mut Job> = i.jobs.values_mut().filter(|j| j.repo == repo && j.run_id == run).collect();
    if jobs.is_empty() {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    if jobs.iter().all(|j| j.status == "completed") {
        return error(StatusCode::CONFLICT, "Cannot cancel a workflow run that is completed.");
    }
    for j in jobs.into_iter().filter(|j| j.status != "completed") {
        j.status = "completed".into();
        j.conclusion = Some("cancelled".into());
    }
    (StatusCode::ACCEPTED, out, Json(json!({}))).into_response()
}

pub(crate) async fn list_jobs(
    State(f): State<FakeGithub>,
    Path((o, r, run)): Path<(String, String, u64)>,
    headers: HeaderMap,
    Query(q): Query<Page>,
) -> Response {
    let out = match enter(&f, &headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let repo = format!("{o}/{r}");
    let jobs: Vec<Value> = f.inner.lock().unwrap().jobs.values().filter(|j| j.repo == repo && j.run_id == run).map(job_json).collect();
    paged(&f, &format!("/repos/{repo}/actions/runs/{run}/jobs"), &q, jobs, "jobs", out)
}

fn job_json(j: &Job) -> Value {
    let at = |t: Option<u64>| t.map(rfc3339);
    json!({"id": j.id, "run_id": j.run_id, "status": j.status, "conclusion": j.conclusion, "labels": j.labels, "name": "build", "created_at": rfc3339(j.created_at),
           "started_at": at(j.started_at), "completed_at": at(j.completed_at)})
}

/// `GET /repos/{owner}/{repo}/actions/jobs/{job_id}` with an ETag; a
/// matching `If-None-Match` answers 304 and gives the request back to the
/// primary limit, as GitHub does.
pub(crate) async fn get_job(State(f): State<FakeGithub>, Path((o, r, id)): Path<(String, String, u64)>, headers: HeaderMap) -> Response {
    let mut out = match enter(&f, &headers) {
        Ok(h) => h,
        Err(e) => return *e,
    };
    let repo = format!("{o}/{r}");
    let Some(job) = f.inner.lock().unwrap().jobs.get(&id).filter(|j| j.repo == repo).cloned() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let body = job_json(&job);
    let etag = format!("W/\"{:016x}\"", fnv(body.to_string().as_bytes()));
    out.insert("etag", HeaderValue::from_str(&etag).expect("ascii"));
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut i = f.inner.lock().unwrap();
        i.remaining = (i.remaining + 1).min(RATE_LIMIT);
        i.not_modified += 1;
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    (StatusCode::OK, out, Json(body)).into_response()
}
