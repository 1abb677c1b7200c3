//! The fake GitHub's repository listings: "List organization repositories"
//! (`GET /orgs/{org}/repos`) and "List repositories for a user"
//! (`GET /users/{username}/repos`), in GitHub's shapes (REST reference,
//! "Repositories"): minimal repository objects with `full_name`, `fork`,
//! `archived` and `topics`; `per_page` up to 100 with `Link` pagination
//! (`rel="next"`); 404 for an owner that does not exist as that kind.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// One repository the fake lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Repo {
    /// `owner/name`.
    pub full_name: String,
    /// Its topics.
    pub topics: Vec<String>,
    /// Archived.
    pub archived: bool,
    /// A fork.
    pub fork: bool,
    /// Listed under /orgs (true) or /users (false).
    pub org: bool,
}

/// The repositories, shared with the handlers.
#[derive(Clone, Default)]
pub struct Repos(Arc<Mutex<Vec<Repo>>>);

impl Repos {
    /// Lists `repo` from now on.
    pub fn add(&self, repo: Repo) {
        self.0.lock().unwrap().push(repo);
    }

    /// Stops listing the repository.
    pub fn remove(&self, full_name: &str) {
        self.0.lock().unwrap().retain(|r| r.full_name != full_name);
    }
}

#[derive(Deserialize)]
struct Page {
    per_page: Option<usize>,
    page: Option<usize>,
}

fn list(repos: &Repos, owner: &str, org: bool, q: Page, base: &str) -> Response {
    let all: Vec<Repo> = repos.0.lock().unwrap().iter().filter(|r| r.org == org && r.full_name.split('/').next() == Some(owner)).cloned().collect();
    if all.is_empty() {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}))).into_response();
    }
    let per = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<_> = all
        .iter()
        .skip((page - 1) * per)
        .take(per)
        .map(|r| {
            let name = r.full_name.split('/').nth(1).unwrap_or_default();
            json!({"name": name, "full_name": r.full_name, "owner": {"login": owner}, "private": false, "fork": r.fork,
                   "archived": r.archived, "topics": r.topics, "visibility": "public"})
        })
        .collect();
    let mut resp = Json(items).into_response();
    if page * per < all.len() {
        let next = format!("<{base}?per_page={per}&page={}>; rel=\"next\"", page + 1);
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert("link", v);
        }
    }
    resp
}

/// The routes, for the fake's router; `endpoint` is the fake's base URL
/// (Link headers are absolute).
pub fn router(repos: Repos, endpoint: String) -> Router {
    let org_base = endpoint.clone();
    Router::new()
        .route(
            "/orgs/{org}/repos",
            get(move |State(r): State<Repos>, Path(org): Path<String>, Query(q): Query<Page>| {
                let base = format!("{org_base}/orgs/{org}/repos");
                async move { list(&r, &org, true, q, &base) }
            }),
        )
        .route(
            "/users/{user}/repos",
            get(move |State(r): State<Repos>, Path(user): Path<String>, Query(q): Query<Page>| {
                let base = format!("{endpoint}/users/{user}/repos");
                async move { list(&r, &user, false, q, &base) }
            }),
        )
        .with_state(repos)
}
