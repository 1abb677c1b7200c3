//! The fake workload identity federation API (IAM v1
//! `projects.locations.workloadIdentityPools` and `.providers`) and
//! Resource Manager v3 `projects.get`, in the references' shapes.
//!
//! Modelled rules, each from the references or "Manage workload identity
//! pools and providers":
//! - Names the API answers use the project *number*
//!   (`projects/NUMBER/locations/global/workloadIdentityPools/ID`), whether
//!   the request named the project by ID or number; `projects.get` answers
//!   `name = "projects/NUMBER"`.
//! - Every write answers a long-running `Operation` that is not yet done;
//!   `operations.get` on it answers done (clients must poll).
//! - Pool and provider IDs are 4-32 characters of `[a-z0-9-]` and may not
//!   start with `gcp-`; display names at most 32 characters, descriptions
//!   at most 256 (400 INVALID_ARGUMENT).
//! - Delete is soft: state `DELETED` with an `expireTime` 30 days on, listed
//!   only with `showDeleted=true`, the ID still taken (409 ALREADY_EXISTS on
//!   create), `:undelete` restores it; a deleted pool takes no new
//!   providers and neither can be updated while deleted (400
//!   FAILED_PRECONDITION).
//! - An OIDC provider needs `oidc.issuerUri` (https) and a `google.subject`
//!   mapping; for GitHub's issuer the attribute condition must reference one
//!   of the token's claims (400 "The attribute condition must reference one
//!   of the provider's claims", enforced since 2024 — Terraform module
//!   threads chainguard-dev/terraform-infra-common#672,
//!   metro-digital/terraform-google-cf-projectcfg#65).

use crate::gcp_paging::{page, PageQuery};
use crate::gcp_store::{error, FakeGcp, Inner};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// A stable 12-digit number for a project ID.
pub(crate) fn project_number(project: &str) -> String {
    let h = project.bytes().fold(1_469_598_103_934_665_603u64, |h, b| (h ^ b as u64).wrapping_mul(1_099_511_628_211));
    format!("{}", 100_000_000_000 + h % 900_000_000_000)
}

pub(crate) async fn project_get(State(f): State<FakeGcp>, Path(p): Path<String>) -> Response {
    if let Err(e) = f.enter("resourcemanager.projects.get") {
        return *e;
    }
    Json(json!({"name": format!("projects/{}", project_number(&p)), "projectId": p, "state": "ACTIVE", "displayName": p})).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PoolQuery {
    workload_identity_pool_id: String,
    workload_identity_pool_provider_id: String,
    show_deleted: bool,
    update_mask: String,
    page_size: Option<usize>,
    page_token: Option<String>,
}

fn valid_id(id: &str) -> bool {
    (4..=32).contains(&id.len()) && !id.starts_with("gcp-") && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check(v: &Value) -> Option<String> {
    let len = |k: &str| v.get(k).and_then(Value::as_str).map(|s| s.chars().count()).unwrap_or(0);
    if len("displayName") > 32 {
        return Some("display_name must be at most 32 characters.".into());
    }
    (len("description") > 256).then(|| "description must be at most 256 characters.".to_string())
}

fn check_provider(v: &Value) -> Option<String> {
    if let Some(m) = check(v) {
        return Some(m);
    }
    let issuer = v.pointer("/oidc/issuerUri").and_then(Value::as_str).unwrap_or_default();
    if !issuer.starts_with("https://") {
        return Some("oidc.issuer_uri must be an https URL.".into());
    }
    if v.pointer("/attributeMapping/google.subject").is_none() {
        return Some("attribute_mapping must contain a mapping for google.subject.".into());
    }
    let cond = v.get("attributeCondition").and_then(Value::as_str).unwrap_or_default();
    if issuer == "https://token.actions.githubusercontent.com" && !cond.contains("assertion.") {
        return Some(
            "The attribute condition must reference one of the provider's claims. For more information, see https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions".into(),
        );
    }
    None
}

/// `projects/ID-or-NUMBER/...` as the stored `projects/NUMBER/...` key.
fn key(p: &str, rest: &str) -> String {
    let number = if p.chars().all(|c| c.is_ascii_digit()) { p.to_string() } else { project_number(p) };
    format!("projects/{number}/locations/global/workloadIdentityPools{rest}")
}

/// A write's operation, not done yet; `operations.get` finishes it.
fn operation(i: &mut Inner, parent: &str) -> Value {
    i.next_op += 1;
    json!({"name": format!("{parent}/operations/op-{}", i.next_op), "done": false})
}

fn is_deleted(v: &Value) -> bool {
    v["state"] == json!("DELETED")
}

fn create(i: &mut Inner, parent: &str, name: String, body: Value, is_provider: bool) -> Response {
    if let Some(m) = if is_provider { check_provider(&body) } else { check(&body) } {
        return error(400, "INVALID_ARGUMENT", m);
    }
    if let Some(existing) = i.pools.get(&name) {
        let why = if is_deleted(existing) { " (it is deleted; undelete it or wait 30 days)" } else { "" };
        return error(409, "ALREADY_EXISTS", format!("Requested entity already exists: {name}{why}"));
    }
    if is_provider && i.pools.get(parent).is_none_or(is_deleted) {
        return error(400, "FAILED_PRECONDITION", format!("The pool {parent} does not exist or is deleted."));
    }
    let mut v = json!({"name": name, "state": "ACTIVE"});
    for k in ["displayName", "description", "disabled", "attributeMapping", "attributeCondition", "oidc"] {
        if let Some(x) = body.get(k).filter(|x| !(x.is_null() || x.as_str() == Some("") || x == &&json!(false))) {
            v[k] = x.clone();
        }
    }
    i.pools.insert(name.clone(), v);
    Json(operation(i, &name)).into_response()
}

pub(crate) async fn pool_create(State(f): State<FakeGcp>, Path(p): Path<String>, Query(q): Query<PoolQuery>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("iam.workloadIdentityPools.create") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let id = q.workload_identity_pool_id;
    if !valid_id(&id) {
        return error(400, "INVALID_ARGUMENT", format!("Invalid workload_identity_pool_id {id}: 4-32 of [a-z0-9-], not starting with gcp-."));
    }
    create(&mut i, "", key(&p, &format!("/{id}")), body, false)
}

pub(crate) async fn provider_create(
    State(f): State<FakeGcp>,
    Path((p, pool)): Path<(String, String)>,
    Query(q): Query<PoolQuery>,
    Json(body): Json<Value>,
) -> Response {
    let mut i = match f.enter("iam.workloadIdentityPools.providers.create") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let id = q.workload_identity_pool_provider_id;
    if !valid_id(&id) {
        return error(400, "INVALID_ARGUMENT", format!("Invalid workload_identity_pool_provider_id {id}: 4-32 of [a-z0-9-], not starting with gcp-."));
    }
    let parent = key(&p, &format!("/{pool}"));
    create(&mut i, &parent.clone(), format!("{parent}/providers/{id}"), body, true)
}

fn list(i: &Inner, prefix: String, q: &PoolQuery, field: &str) -> Response {
    let shown: std::collections::BTreeMap<String, Value> = i
        .pools
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        // Only direct children: a pool list holds no providers.
        .filter(|(k, v)| !k[prefix.len()..].contains('/') && (q.show_deleted || !is_deleted(v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let pq = PageQuery { page_size: Some(q.page_size.unwrap_or(50).min(100)), page_token: q.page_token.clone(), node_id: None };
    let (items, next) = page(&shown, &prefix, &pq, i.faults.empty_pages);
    Json(crate::gcp_paging::list_answer(field, items, next)).into_response()
}

pub(crate) async fn pool_list(State(f): State<FakeGcp>, Path(p): Path<String>, Query(q): Query<PoolQuery>) -> Response {
    let i = match f.enter("iam.workloadIdentityPools.list") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    list(&i, key(&p, "/"), &q, "workloadIdentityPools")
}

pub(crate) async fn provider_list(State(f): State<FakeGcp>, Path((p, pool)): Path<(String, String)>, Query(q): Query<PoolQuery>) -> Response {
    let i = match f.enter("iam.workloadIdentityPools.providers.list") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    list(&i, key(&p, &format!("/{pool}/providers/")), &q, "workloadIdentityPoolProviders")
}

/// GET, PATCH, DELETE and POST `:undelete` on a pool or provider, and GET
/// on an operation: `rest` is the path after `workloadIdentityPools`.
async fn item(f: FakeGcp, method: &str, p: String, rest: String, q: PoolQuery, body: Value) -> Response {
    let is_provider = rest.contains("/providers/");
    let what = if is_provider { "providers" } else { "pools" };
    let mut i = match f.enter(&format!("iam.workloadIdentityPools.{what}.{method}")) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    if rest.contains("/operations/") {
        return Json(json!({"name": key(&p, &rest), "done": true, "response": {}})).into_response();
    }
    let (path, verb) = rest.rsplit_once(':').map_or((rest.as_str(), ""), |(a, b)| (a, b));
    let name = key(&p, path);
    let Some(v) = i.pools.get(&name).cloned() else { return error(404, "NOT_FOUND", format!("Requested entity was not found: {name}")) };
    let mut v = v;
    match (method, verb) {
        ("get", "") => return Json(v).into_response(),
        ("patch", "") => {
            if is_deleted(&v) {
                return error(400, "FAILED_PRECONDITION", format!("{name} is deleted; undelete it first."));
            }
            for field in q.update_mask.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                if !["displayName", "description", "disabled", "attributeMapping", "attributeCondition", "oidc"].contains(&field) {
                    return error(400, "INVALID_ARGUMENT", format!("Invalid update mask path: {field}"));
                }
                match body.get(field).filter(|x| !(x.is_null() || x.as_str() == Some("") || x == &&json!(false))) {
                    Some(x) => v[field] = x.clone(),
                    None => {
                        v.as_object_mut().map(|o| o.remove(field));
                    }
                }
            }
            if let Some(m) = if is_provider { check_provider(&v) } else { check(&v) } {
                return error(400, "INVALID_ARGUMENT", m);
            }
        }
        ("delete", "") => {
            if is_deleted(&v) {
                return error(400, "FAILED_PRECONDITION", format!("{name} is already deleted."));
            }
            v["state"] = json!("DELETED");
            v["expireTime"] = json!("in 30 days");
        }
        ("undelete", "undelete") => {
            if !is_deleted(&v) {
                return error(400, "FAILED_PRECONDITION", format!("{name} is not deleted."));
            }
            v["state"] = json!("ACTIVE");
            v.as_object_mut().map(|o| o.remove("expireTime"));
        }
        _ => return error(404, "NOT_FOUND", format!("no method {method} {verb} on {name}")),
    }
    i.pools.insert(name.clone(), v);
    Json(operation(&mut i, &name)).into_response()
}

/// The project and the path after `workloadIdentityPools` of a request.
fn split(m: &std::collections::HashMap<String, String>, uri: &axum::http::Uri) -> (String, String) {
    let path = uri.path();
    let rest = path.split_once("/workloadIdentityPools").map(|(_, r)| r).unwrap_or_default();
    (m.get("p").cloned().unwrap_or_default(), rest.to_string())
}

type Params = Path<std::collections::HashMap<String, String>>;

pub(crate) async fn item_get(State(f): State<FakeGcp>, Path(m): Params, uri: axum::http::Uri, Query(q): Query<PoolQuery>) -> Response {
    let (p, rest) = split(&m, &uri);
    item(f, "get", p, rest, q, Value::Null).await
}
pub(crate) async fn item_patch(State(f): State<FakeGcp>, Path(m): Params, uri: axum::http::Uri, Query(q): Query<PoolQuery>, Json(b): Json<Value>) -> Response {
    let (p, rest) = split(&m, &uri);
    item(f, "patch", p, rest, q, b).await
}
pub(crate) async fn item_delete(State(f): State<FakeGcp>, Path(m): Params, uri: axum::http::Uri, Query(q): Query<PoolQuery>) -> Response {
    let (p, rest) = split(&m, &uri);
    item(f, "delete", p, rest, q, Value::Null).await
}
pub(crate) async fn item_post(State(f): State<FakeGcp>, Path(m): Params, uri: axum::http::Uri, Query(q): Query<PoolQuery>) -> Response {
    let (p, rest) = split(&m, &uri);
    item(f, "undelete", p, rest, q, Value::Null).await
}

impl FakeGcp {
    /// A pool or provider as the fake holds it, by the name the API answers.
    pub fn identity_pool_item(&self, name: &str) -> Option<Value> {
        self.inner.lock().unwrap().pools.get(name).cloned()
    }
    /// The IAM policy of a service account or instance (`projects/...`), if one was set.
    pub fn iam_policy(&self, name: &str) -> Option<Value> {
        let i = self.inner.lock().unwrap();
        let resource = i.service_accounts.get(name).or_else(|| i.instances.get(name))?;
        i.iam_policies.get(&crate::gcp_iam_policy::incarnation(name, resource)).cloned()
    }
    /// The number the fake gives a project.
    pub fn project_number(project: &str) -> String {
        project_number(project)
    }
}
