//! The fake IAM custom roles (`projects.roles`: create, get, list, patch,
//! delete, undelete) in the reference's shapes (`Role`: name, title,
//! description, includedPermissions, stage, etag, deleted).
//!
//! Modelled rules, from the reference and "Creating and managing custom roles":
//! - `roleId` matches `[a-zA-Z0-9_.]{3,64}`; title at most 100 characters,
//!   description at most 256; stage one of ALPHA, BETA, GA, DEPRECATED,
//!   DISABLED, EAP (ALPHA when left out); permissions `service.resource.verb`
//!   (400 INVALID_ARGUMENT).
//! - Delete is soft: the role stays, `deleted: true`, listed only with
//!   `showDeleted=true`; `undelete` restores it; its ID cannot be used to
//!   create another (409, "a role with that role_id in a deleted state").
//! - A deleted role cannot be updated (400 FAILED_PRECONDITION); patch and
//!   undelete take the etag, and a stale one answers 409 ABORTED.
//! - `list` leaves `includedPermissions` out unless `view=FULL`.

use crate::gcp_paging::{page, PageQuery};
use crate::gcp_store::{error, FakeGcp, Inner};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub(crate) struct RoleQuery {
    #[serde(rename = "showDeleted", default)]
    show_deleted: bool,
    #[serde(default)]
    view: String,
    #[serde(rename = "updateMask", default)]
    update_mask: String,
    #[serde(rename = "pageSize")]
    page_size: Option<usize>,
    #[serde(rename = "pageToken")]
    page_token: Option<String>,
}

fn valid_id(id: &str) -> bool {
    (3..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn check(role: &Value) -> Option<String> {
    let len = |k: &str| role.get(k).and_then(Value::as_str).map(|s| s.chars().count()).unwrap_or(0);
    if len("title") > 100 {
        return Some("The title must be at most 100 characters.".into());
    }
    if len("description") > 256 {
        return Some("The description must be at most 256 characters.".into());
    }
    let stage = role.get("stage").and_then(Value::as_str).unwrap_or("ALPHA");
    if !["ALPHA", "BETA", "GA", "DEPRECATED", "DISABLED", "EAP"].contains(&stage) {
        return Some(format!("Invalid value for stage: {stage}"));
    }
    for p in role.get("includedPermissions").and_then(Value::as_array).into_iter().flatten() {
        let p = p.as_str().unwrap_or_default();
        let parts: Vec<&str> = p.split('.').collect();
        if parts.len() < 3 || parts.iter().any(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric())) {
            return Some(format!("Permission {p} is not valid."));
        }
    }
    None
}

fn etag(n: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("role-{n}"))
}

/// A role to change, with the etag it gets: 404 when there is none, 400
/// when `deleted` is not what the method needs (`need_deleted`: undelete
/// needs a deleted role, the rest a live one).
fn writable<'a>(i: &'a mut Inner, p: &str, id: &str, need_deleted: bool, refusal: &str) -> Result<(&'a mut Value, String), Box<Response>> {
    i.next_op += 1;
    let tag = etag(i.next_op);
    let name = format!("projects/{p}/roles/{id}");
    let Some(role) = i.roles.get_mut(&name) else { return Err(Box::new(error(404, "NOT_FOUND", format!("The role named {name} was not found.")))) };
    if (role.get("deleted") == Some(&json!(true))) != need_deleted {
        return Err(Box::new(error(400, "FAILED_PRECONDITION", refusal.replace("NAME", &name))));
    }
    Ok((role, tag))
}

pub(crate) async fn role_create(State(f): State<FakeGcp>, Path(p): Path<String>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("iam.roles.create") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let id = body.get("roleId").and_then(Value::as_str).unwrap_or_default();
    if !valid_id(id) {
        return error(400, "INVALID_ARGUMENT", format!("The role_id ({id}) is invalid: 3-64 letters, digits, _ and ."));
    }
    let given = body.get("role").cloned().unwrap_or(json!({}));
    if let Some(m) = check(&given) {
        return error(400, "INVALID_ARGUMENT", m);
    }
    let name = format!("projects/{p}/roles/{id}");
    match i.roles.get(&name) {
        Some(r) if r.get("deleted") == Some(&json!(true)) => {
            return error(
                409,
                "ALREADY_EXISTS",
                format!("You can't create a role with role_id ({id}) where there is an existing role with that role_id in a deleted state."),
            )
        }
        Some(_) => return error(409, "ALREADY_EXISTS", format!("A role named {id} in projects/{p} already exists.")),
        None => {}
    }
    i.next_op += 1;
    let mut role = json!({"name": name, "title": given["title"], "description": given["description"],
        "includedPermissions": given.get("includedPermissions").cloned().unwrap_or(json!([])),
        "stage": given.get("stage").cloned().unwrap_or(json!("ALPHA")), "etag": etag(i.next_op)});
    drop_empty(&mut role);
    i.roles.insert(name, role.clone());
    Json(role).into_response()
}

/// proto3 JSON leaves empty strings and lists out.
fn drop_empty(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, x| !(x.is_null() || x.as_str() == Some("") || x.as_array().is_some_and(|a| a.is_empty()) || x == &json!(false)));
    }
}

pub(crate) async fn role_list(State(f): State<FakeGcp>, Path(p): Path<String>, Query(q): Query<RoleQuery>) -> Response {
    let i = match f.enter("iam.roles.list") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let shown: std::collections::BTreeMap<String, Value> = i
        .roles
        .iter()
        .filter(|(_, r)| q.show_deleted || r.get("deleted") != Some(&json!(true)))
        .map(|(k, r)| {
            let mut r = r.clone();
            if q.view != "FULL" {
                r.as_object_mut().map(|o| o.remove("includedPermissions"));
            }
            (k.clone(), r)
        })
        .collect();
    let pq = PageQuery { page_size: Some(q.page_size.unwrap_or(300).min(1000)), page_token: q.page_token, node_id: None };
    let (roles, next) = page(&shown, &format!("projects/{p}/roles/"), &pq, i.faults.empty_pages);
    Json(crate::gcp_paging::list_answer("roles", roles, next)).into_response()
}

pub(crate) async fn role_get(State(f): State<FakeGcp>, Path((p, id)): Path<(String, String)>) -> Response {
    let i = match f.enter("iam.roles.get") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.roles.get(&format!("projects/{p}/roles/{id}")) {
        Some(r) => Json(r.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("The role named projects/{p}/roles/{id} was not found.")),
    }
}

pub(crate) async fn role_patch(
    State(f): State<FakeGcp>,
    Path((p, id)): Path<(String, String)>,
    Query(q): Query<RoleQuery>,
    Json(body): Json<Value>,
) -> Response {
    let mut i = match f.enter("iam.roles.patch") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    if let Some(m) = check(&body) {
        return error(400, "INVALID_ARGUMENT", m);
    }
    let (role, tag) = match writable(&mut i, &p, &id, false, "You can't update a deleted role (NAME).") {
        Ok(w) => w,
        Err(e) => return *e,
    };
    if body.get("etag").and_then(Value::as_str).is_some_and(|t| Some(t) != role["etag"].as_str()) {
        return error(409, "ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.");
    }
    for field in q.update_mask.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if !["title", "description", "includedPermissions", "stage"].contains(&field) {
            return error(400, "INVALID_ARGUMENT", format!("Invalid update mask path: {field}"));
        }
        role[field] = body.get(field).cloned().unwrap_or(Value::Null);
    }
    role["etag"] = json!(tag);
    drop_empty(role);
    Json(role.clone()).into_response()
}

pub(crate) async fn role_delete(State(f): State<FakeGcp>, Path((p, id)): Path<(String, String)>) -> Response {
    let mut i = match f.enter("iam.roles.delete") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let (role, tag) = match writable(&mut i, &p, &id, false, "The role NAME is already deleted.") {
        Ok(w) => w,
        Err(e) => return *e,
    };
    role["deleted"] = json!(true);
    role["etag"] = json!(tag);
    Json(role.clone()).into_response()
}

/// `roles/ID:undelete` (POST on the role's path; axum hands `:undelete` over with the ID).
pub(crate) async fn role_action(State(f): State<FakeGcp>, Path((p, id_verb)): Path<(String, String)>, body: Option<Json<Value>>) -> Response {
    let Some((id, "undelete")) = id_verb.rsplit_once(':') else {
        return error(404, "NOT_FOUND", format!("POST /v1/projects/{p}/roles/{id_verb} is not a method"));
    };
    let mut i = match f.enter("iam.roles.undelete") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let (role, tag) = match writable(&mut i, &p, id, true, "The role NAME is not deleted.") {
        Ok(w) => w,
        Err(e) => return *e,
    };
    let given = body.and_then(|Json(b)| b.get("etag").and_then(Value::as_str).map(String::from));
    if given.is_some_and(|t| Some(t.as_str()) != role["etag"].as_str()) {
        return error(409, "ABORTED", "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.");
    }
    role.as_object_mut().map(|o| o.remove("deleted"));
    role["etag"] = json!(tag);
    Json(role.clone()).into_response()
}

impl FakeGcp {
    /// A custom role as the fake holds it (`projects/P/roles/ID`).
    pub fn role(&self, name: &str) -> Option<Value> {
        self.inner.lock().unwrap().roles.get(name).cloned()
    }
}
