//! The Compute Engine v1 half of the fake: instances and disks (list, get,
//! insert, delete, setLabels, setMetadata with fingerprints, start and
//! stop) and zonal operations, in the REST shapes of `gcp_shapes`.

use crate::gcp_paging::{page, PageQuery};
use crate::gcp_store::{error, Effect, FakeGcp};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn compute_list(f: &FakeGcp, which: &'static str, route: &str, p: &str, z: &str, q: &PageQuery) -> Response {
    let i = match f.enter(route) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let map = if which == "instances" { &i.instances } else { &i.disks };
    let (items, token) = page(map, &format!("projects/{p}/zones/{z}/{which}/"), q, i.faults.empty_pages);
    // Compute omits `items` when a page has none.
    let mut out = crate::gcp_paging::list_answer("items", items, token);
    out["kind"] = json!(format!("compute#{}List", if which == "instances" { "instance" } else { "disk" }));
    Json(out).into_response()
}

fn compute_get(f: &FakeGcp, which: &'static str, route: &str, key: String) -> Response {
    let i = match f.enter(route) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let map = if which == "instances" { &i.instances } else { &i.disks };
    match map.get(&key) {
        Some(v) => Json(v.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("The resource '{key}' was not found")),
    }
}

fn compute_insert(f: &FakeGcp, which: &'static str, route: &str, p: &str, z: &str, body: Value) -> Response {
    let mut i = match f.enter(route) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let Some(name) = body.get("name").and_then(Value::as_str).map(String::from) else {
        return error(400, "INVALID_ARGUMENT", "name is required");
    };
    let key = format!("projects/{p}/zones/{z}/{which}/{name}");
    if i.map(which).contains_key(&key) {
        return error(409, "ALREADY_EXISTS", format!("The resource '{key}' already exists"));
    }
    let number = 5000 + i.next_op;
    let body = if which == "instances" {
        let (inst, boot_disks) = crate::gcp_shapes::instance(p, z, body, number);
        for d in boot_disks {
            let dk = format!("projects/{p}/zones/{z}/disks/{}", d["name"].as_str().unwrap_or_default());
            if i.disks.contains_key(&dk) {
                return error(409, "ALREADY_EXISTS", format!("The resource '{dk}' already exists"));
            }
            i.disks.insert(dk, d);
        }
        inst
    } else {
        crate::gcp_shapes::disk(p, z, body, number)
    };
    i.map(which).insert(key.clone(), body);
    Json(i.compute_op(p, z, which, key, "insert", Effect::Ready)).into_response()
}

fn compute_delete(f: &FakeGcp, which: &'static str, route: &str, p: &str, z: &str, key: String) -> Response {
    let mut i = match f.enter(route) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let Some(res) = i.map(which).get_mut(&key) else {
        return error(404, "NOT_FOUND", format!("The resource '{key}' was not found"));
    };
    // A disk attached to an instance or TPU node cannot be deleted (Compute
    // answers resourceInUseByAnotherResource).
    if which == "disks" && res.get("users").and_then(Value::as_array).is_some_and(|u| !u.is_empty()) {
        return error(
            400,
            "FAILED_PRECONDITION",
            format!("The disk resource '{key}' is already being used by '{}'", res["users"][0].as_str().unwrap_or_default()),
        );
    }
    if which == "instances" {
        res["status"] = json!("STOPPING");
    }
    Json(i.compute_op(p, z, which, key, "delete", Effect::Deleted)).into_response()
}

pub(crate) async fn inst_list(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Query(q): Query<PageQuery>) -> Response {
    compute_list(&f, "instances", "instances.list", &p, &z, &q)
}
pub(crate) async fn inst_get(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_get(&f, "instances", "instances.get", format!("projects/{p}/zones/{z}/instances/{n}"))
}
pub(crate) async fn inst_insert(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Json(body): Json<Value>) -> Response {
    compute_insert(&f, "instances", "instances.insert", &p, &z, body)
}
pub(crate) async fn inst_delete(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_delete(&f, "instances", "instances.delete", &p, &z, format!("projects/{p}/zones/{z}/instances/{n}"))
}
pub(crate) async fn disk_list(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Query(q): Query<PageQuery>) -> Response {
    compute_list(&f, "disks", "disks.list", &p, &z, &q)
}
pub(crate) async fn disk_get(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_get(&f, "disks", "disks.get", format!("projects/{p}/zones/{z}/disks/{n}"))
}
pub(crate) async fn disk_insert(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Json(body): Json<Value>) -> Response {
    compute_insert(&f, "disks", "disks.insert", &p, &z, body)
}
pub(crate) async fn disk_delete(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_delete(&f, "disks", "disks.delete", &p, &z, format!("projects/{p}/zones/{z}/disks/{n}"))
}

pub(crate) async fn inst_set_labels(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("instances.setLabels") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let next = i.next_op;
    let Some(inst) = i.instances.get_mut(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    if !crate::gcp_shapes::same_fingerprint(body.get("labelFingerprint"), inst.get("labelFingerprint")) {
        return error(412, "FAILED_PRECONDITION", "Labels fingerprint either invalid or resource labels have changed");
    }
    inst["labels"] = body.get("labels").cloned().unwrap_or(json!({}));
    inst["labelFingerprint"] = json!(crate::gcp_shapes::fingerprint(next));
    Json(i.compute_op(&p, &z, "instances", key, "setLabels", Effect::None)).into_response()
}

pub(crate) async fn inst_set_metadata(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("instances.setMetadata") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let next = i.next_op;
    let Some(inst) = i.instances.get_mut(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    if !crate::gcp_shapes::same_fingerprint(body.get("fingerprint"), inst.pointer("/metadata/fingerprint")) {
        return error(412, "FAILED_PRECONDITION", "Supplied fingerprint does not match current metadata fingerprint");
    }
    let mut m = body.clone();
    m["fingerprint"] = json!(crate::gcp_shapes::fingerprint(next + 2));
    inst["metadata"] = m;
    Json(i.compute_op(&p, &z, "instances", key, "setMetadata", Effect::None)).into_response()
}

/// instances.start: a stopped (TERMINATED) instance goes STAGING, then
/// RUNNING when the operation finishes; starting a running one is a no-op
/// operation, as in Compute.
pub(crate) async fn inst_start(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    let mut i = match f.enter("instances.start") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let Some(inst) = i.instances.get_mut(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    let effect = match inst["status"].as_str() {
        Some("TERMINATED") | Some("STOPPED") => {
            inst["status"] = json!("STAGING");
            Effect::Ready
        }
        Some("STOPPING") => return error(400, "RESOURCE_NOT_READY", format!("The resource '{key}' is not ready")),
        _ => Effect::None,
    };
    Json(i.compute_op(&p, &z, "instances", key, "start", effect)).into_response()
}

/// instances.stop: STOPPING, then TERMINATED.
pub(crate) async fn inst_stop(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    let mut i = match f.enter("instances.stop") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let Some(inst) = i.instances.get_mut(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    inst["status"] = json!("STOPPING");
    Json(i.compute_op(&p, &z, "instances", key, "stop", Effect::Stopped)).into_response()
}

pub(crate) async fn compute_op_get(State(f): State<FakeGcp>, Path((p, z, o)): Path<(String, String, String)>) -> Response {
    let i = match f.enter("compute.operation") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.ops.get(&format!("projects/{p}/zones/{z}/operations/{o}")) {
        Some(op) => Json(op.body.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("operation {o} not found")),
    }
}

pub(crate) async fn network_get(State(f): State<FakeGcp>, Path((p, n)): Path<(String, String)>) -> Response {
    let i = match f.enter("compute.networks.get") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/global/networks/{n}");
    match i.networks.get(&key) {
        Some(v) => Json(v.clone()).into_response(),
        None if n == "default" => Json(crate::gcp_shapes::network(&p, "default", &[], 0)).into_response(),
        None => error(404, "NOT_FOUND", format!("The resource '{key}' was not found")),
    }
}

/// `instances.aggregatedList`: every zone's instances, keyed `zones/ZONE`
/// (zones with none are left out here; the real API lists them with a
/// warning), filtered by `labels.KEY = "VALUE"` — the one filter form
/// gantry sends (Compute's list filter syntax: `labels.env = "prod"`).
pub(crate) async fn inst_aggregated(State(f): State<FakeGcp>, Path(p): Path<String>, Query(q): Query<AggregatedQuery>) -> Response {
    let i = match f.enter("instances.aggregatedList") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let label = match q.filter.as_deref().map(label_filter) {
        Some(Some(kv)) => Some(kv),
        Some(None) => return error(400, "INVALID_ARGUMENT", format!("Invalid value for field 'filter': '{}'", q.filter.unwrap_or_default())),
        None => None,
    };
    let mut items = serde_json::Map::new();
    for (key, inst) in i.instances.range(format!("projects/{p}/zones/")..).take_while(|(k, _)| k.starts_with(&format!("projects/{p}/zones/"))) {
        if let Some((k, v)) = &label {
            if inst["labels"][k.as_str()] != json!(v) {
                continue;
            }
        }
        let zone = key.split("/zones/").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default();
        let scoped = items.entry(format!("zones/{zone}")).or_insert_with(|| json!({"instances": []}));
        if let Some(list) = scoped["instances"].as_array_mut() {
            list.push(inst.clone());
        }
    }
    Json(json!({"kind": "compute#instanceAggregatedList", "items": items})).into_response()
}

#[derive(serde::Deserialize)]
pub(crate) struct AggregatedQuery {
    filter: Option<String>,
}

/// `labels.KEY = "VALUE"` (quotes optional) as (KEY, VALUE).
fn label_filter(f: &str) -> Option<(String, String)> {
    let (k, v) = f.split_once('=')?;
    let key = k.trim().strip_prefix("labels.")?.to_string();
    Some((key, v.trim().trim_matches('"').to_string()))
}

/// instances.getIamPolicy (GET; see `gcp_iam_policy`).
pub(crate) async fn inst_get_policy(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    let i = match f.enter("instances.getIamPolicy") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let Some(inst) = i.instances.get(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    let at = crate::gcp_iam_policy::incarnation(&key, inst);
    Json(crate::gcp_iam_policy::get(&i, &at)).into_response()
}

/// instances.setIamPolicy: a `ZoneSetPolicyRequest` (`{"policy": ...}`),
/// answered with the new policy (not an operation).
pub(crate) async fn inst_set_policy(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("instances.setIamPolicy") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let Some(inst) = i.instances.get(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    let at = crate::gcp_iam_policy::incarnation(&key, inst);
    match crate::gcp_iam_policy::set(&mut i, &at, body.get("policy").unwrap_or(&json!({}))) {
        Ok(p) => Json(p).into_response(),
        Err(e) => *e,
    }
}
