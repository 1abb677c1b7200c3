//! The fake IAM API (v1): service accounts, in the REST shapes of the IAM
//! reference (`projects.serviceAccounts`: create, get, list, patch,
//! delete; `ServiceAccount`: name, projectId, uniqueId, email,
//! displayName, description, etag, oauth2ClientId; `disabled` only when
//! true, as proto3 JSON omits defaults).
//!
//! Modelled rules, each from the reference or the IAM docs:
//! - `accountId` is 6–30 characters, `[a-z]([-a-z0-9]*[a-z0-9])` (create:
//!   INVALID_ARGUMENT otherwise); `displayName` at most 100 characters and
//!   `description` at most 256 (INVALID_ARGUMENT).
//! - An existing account ID answers 409 ALREADY_EXISTS.
//! - `patch` takes `{"serviceAccount": {...}, "updateMask": "a,b"}`; only
//!   displayName and description may be in the mask (INVALID_ARGUMENT).
//! - `list` pages at most 100 accounts (pageSize above 100 is capped).
//! - A deleted account's email may be created again at once; it gets a new
//!   uniqueId ("Deleting service accounts": a new account with the same
//!   name is a different identity).
//! - `getIamPolicy` / `setIamPolicy` on an account: see `gcp_iam_policy`.

use crate::gcp_paging::{page, PageQuery};
use crate::gcp_store::{error, FakeGcp};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn key(project: &str, email: &str) -> String {
    format!("projects/{project}/serviceAccounts/{email}")
}

fn valid_account_id(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks the editable fields; the message names the field as the API does.
fn check_fields(sa: &Value) -> Result<(), Box<Response>> {
    let len = |k: &str| sa.get(k).and_then(Value::as_str).map(|s| s.chars().count()).unwrap_or(0);
    if len("displayName") > 100 {
        return Err(Box::new(error(400, "INVALID_ARGUMENT", "ServiceAccount.display_name must be at most 100 characters.")));
    }
    if len("description") > 256 {
        return Err(Box::new(error(400, "INVALID_ARGUMENT", "ServiceAccount.description must be at most 256 characters.")));
    }
    Ok(())
}

fn etag(i: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("etag-{i}"))
}

pub(crate) async fn sa_create(State(f): State<FakeGcp>, Path(p): Path<String>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("iam.serviceAccounts.create") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let id = body.get("accountId").and_then(Value::as_str).unwrap_or_default();
    if !valid_account_id(id) {
        return error(
            400,
            "INVALID_ARGUMENT",
            format!("Invalid account ID [{id}]: it must be 6-30 characters of lowercase letters, digits and hyphens, starting with a letter."),
        );
    }
    let given = body.get("serviceAccount").cloned().unwrap_or(json!({}));
    if let Err(e) = check_fields(&given) {
        return *e;
    }
    let email = format!("{id}@{p}.iam.gserviceaccount.com");
    if i.service_accounts.contains_key(&key(&p, &email)) {
        return error(409, "ALREADY_EXISTS", format!("Service account {id} already exists within project projects/{p}."));
    }
    i.next_op += 1;
    let unique = format!("1{:020}", 10_000 + i.next_op);
    let mut sa = json!({"name": key(&p, &email), "projectId": p, "uniqueId": unique, "email": email, "etag": etag(i.next_op), "oauth2ClientId": unique});
    for k in ["displayName", "description"] {
        if let Some(v) = given.get(k).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            sa[k] = v.clone();
        }
    }
    i.service_accounts.insert(key(&p, &email), sa.clone());
    Json(sa).into_response()
}

pub(crate) async fn sa_list(State(f): State<FakeGcp>, Path(p): Path<String>, Query(mut q): Query<PageQuery>) -> Response {
    let i = match f.enter("iam.serviceAccounts.list") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    q.page_size = Some(q.page_size.unwrap_or(20).min(100));
    let (accounts, next) = page(&i.service_accounts, &format!("projects/{p}/serviceAccounts/"), &q, i.faults.empty_pages);
    Json(crate::gcp_paging::list_answer("accounts", accounts, next)).into_response()
}

pub(crate) async fn sa_get(State(f): State<FakeGcp>, Path((p, email)): Path<(String, String)>) -> Response {
    let i = match f.enter("iam.serviceAccounts.get") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.service_accounts.get(&key(&p, &email)) {
        Some(sa) => Json(sa.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("Unknown service account: projects/{p}/serviceAccounts/{email}")),
    }
}

pub(crate) async fn sa_patch(State(f): State<FakeGcp>, Path((p, email)): Path<(String, String)>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("iam.serviceAccounts.patch") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let given = body.get("serviceAccount").cloned().unwrap_or(json!({}));
    if let Err(e) = check_fields(&given) {
        return *e;
    }
    let mask = body.get("updateMask").and_then(Value::as_str).unwrap_or_default().to_string();
    i.next_op += 1;
    let tag = etag(i.next_op);
    let Some(sa) = i.service_accounts.get_mut(&key(&p, &email)) else {
        return error(404, "NOT_FOUND", format!("Unknown service account: projects/{p}/serviceAccounts/{email}"));
    };
    for field in mask.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if !["displayName", "description", "display_name"].contains(&field) {
            return error(400, "INVALID_ARGUMENT", format!("Invalid update mask path: {field}"));
        }
        let field = if field == "display_name" { "displayName" } else { field };
        match given.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Some(v) => sa[field] = json!(v),
            None => {
                sa.as_object_mut().map(|o| o.remove(field));
            }
        }
    }
    sa["etag"] = json!(tag);
    Json(sa.clone()).into_response()
}

pub(crate) async fn sa_delete(State(f): State<FakeGcp>, Path((p, email)): Path<(String, String)>) -> Response {
    let mut i = match f.enter("iam.serviceAccounts.delete") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.service_accounts.remove(&key(&p, &email)) {
        Some(_) => Json(json!({})).into_response(),
        None => error(404, "NOT_FOUND", format!("Unknown service account: projects/{p}/serviceAccounts/{email}")),
    }
}

/// `serviceAccounts/EMAIL:getIamPolicy` and `:setIamPolicy` (POST on the
/// account's path; axum hands the `:verb` over with the email).
pub(crate) async fn sa_action(State(f): State<FakeGcp>, Path((p, email_verb)): Path<(String, String)>, body: Option<Json<Value>>) -> Response {
    let Some((email, verb)) = email_verb.rsplit_once(':') else {
        return error(404, "NOT_FOUND", format!("POST /v1/projects/{p}/serviceAccounts/{email_verb} is not a method"));
    };
    let mut i = match f.enter(&format!("iam.serviceAccounts.{verb}")) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let Some(sa) = i.service_accounts.get(&key(&p, email)) else {
        return error(404, "NOT_FOUND", format!("Unknown service account: projects/{p}/serviceAccounts/{email}"));
    };
    let at = crate::gcp_iam_policy::incarnation(&key(&p, email), sa);
    match verb {
        "getIamPolicy" => Json(crate::gcp_iam_policy::get(&i, &at)).into_response(),
        "setIamPolicy" => {
            let policy = body.and_then(|Json(b)| b.get("policy").cloned()).unwrap_or(json!({}));
            match crate::gcp_iam_policy::set(&mut i, &at, &policy) {
                Ok(p) => Json(p).into_response(),
                Err(e) => *e,
            }
        }
        _ => error(404, "NOT_FOUND", format!("unknown method {verb}")),
    }
}

impl FakeGcp {
    /// A service account as the fake holds it (`projects/P/serviceAccounts/EMAIL`).
    pub fn service_account(&self, name: &str) -> Option<Value> {
        self.inner.lock().unwrap().service_accounts.get(name).cloned()
    }
}
