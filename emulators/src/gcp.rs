//! Fake Google Cloud APIs: Cloud TPU v2 nodes and Compute Engine v1
//! instances and disks, with long-running operations, served in the REST
//! shapes the google-cloud-rust clients use (camelCase JSON, int64 as
//! strings, `{"error": {"code", "message", "status"}}` errors).
//!
//! Operations finish `latency` after they start; until then the resource is
//! CREATING/STAGING. Faults: HTTP errors for the next requests (429, 503…),
//! and operations that fail for resources whose name contains a marker.
//! Control from outside the process: `PUT /_fake/faults` with
//! `{"latency_ms": 2000, "fail_names": ["bad"], "http_errors": [503]}`.

use crate::gcp_paging::{page, PageQuery};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Injected faults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Faults {
    /// How long every operation takes.
    #[serde(default)]
    pub latency_ms: u64,
    /// Operations on resources whose name contains one of these fail.
    #[serde(default)]
    pub fail_names: Vec<String>,
    /// Statuses answered (once each, in order) to the next API requests.
    #[serde(default)]
    pub http_errors: Vec<u16>,
    /// Every list page is preceded by an empty page that carries a next
    /// page token. AIP-158: "the API may return fewer results than
    /// requested (including zero results), even if not at the end of the
    /// collection"; callers must follow the token, not stop at an empty page.
    #[serde(default)]
    pub empty_pages: bool,
}

enum Effect {
    /// The resource becomes ready.
    Ready,
    /// The resource is gone.
    Deleted,
    /// Nothing to do at completion.
    None,
}

struct Op {
    finished: bool,
    done_at: Instant,
    /// Map (tpu / instances / disks) and key of the resource.
    target: (&'static str, String),
    effect: Effect,
    failed: bool,
    compute: bool,
    body: Value,
}

#[derive(Default)]
struct Inner {
    tpu: BTreeMap<String, Value>,
    instances: BTreeMap<String, Value>,
    disks: BTreeMap<String, Value>,
    ops: HashMap<String, Op>,
    faults: Faults,
    http_errors: VecDeque<u16>,
    next_op: u64,
    requests: BTreeMap<String, u64>,
}

impl Inner {
    fn map(&mut self, which: &str) -> &mut BTreeMap<String, Value> {
        match which {
            "tpu" => &mut self.tpu,
            "instances" => &mut self.instances,
            _ => &mut self.disks,
        }
    }

    /// Completes every operation whose time has come.
    fn tick(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self.ops.iter().filter(|(_, o)| !o.finished && o.done_at <= now).map(|(k, _)| k.clone()).collect();
        for name in due {
            let op = self.ops.remove(&name).expect("due op");
            let (which, key) = op.target.clone();
            let mut body = op.body.clone();
            if op.failed {
                // A failed create leaves nothing behind; a failed delete leaves the resource.
                if matches!(op.effect, Effect::Ready) {
                    if let Some(gone) = self.map(which).remove(&key) {
                        self.release_disks(which, &gone);
                    }
                }
                if op.compute {
                    body["status"] = json!("DONE");
                    body["progress"] = json!(100);
                    body["error"] = json!({"errors": [{"code": "ZONE_RESOURCE_POOL_EXHAUSTED", "message": format!("fake: injected failure for {key}")}]});
                    body["httpErrorStatusCode"] = json!(503);
                    body["httpErrorMessage"] = json!("SERVICE UNAVAILABLE");
                } else {
                    body["done"] = json!(true);
                    body["error"] = json!({"code": 8, "message": format!("fake: injected failure for {key}: no more capacity in the zone")});
                }
            } else {
                match op.effect {
                    Effect::Ready => {
                        if let Some(r) = self.map(which).get_mut(&key) {
                            if which == "tpu" {
                                r["state"] = json!("READY");
                            } else {
                                r["status"] = json!(if which == "disks" { "READY" } else { "RUNNING" });
                            }
                        }
                    }
                    Effect::Deleted => {
                        if let Some(gone) = self.map(which).remove(&key) {
                            self.release_disks(which, &gone);
                        }
                    }
                    Effect::None => {}
                }
                if op.compute {
                    body["status"] = json!("DONE");
                    body["progress"] = json!(100);
                } else {
                    body["done"] = json!(true);
                    let response = match op.effect {
                        Effect::Deleted => json!({"@type": "type.googleapis.com/google.protobuf.Empty"}),
                        _ => {
                            let mut node = self.tpu.get(&key).cloned().unwrap_or(json!({}));
                            node["@type"] = json!("type.googleapis.com/google.cloud.tpu.v2.Node");
                            node
                        }
                    };
                    body["response"] = response;
                }
            }
            // Keep finished operations so late polls still find them.
            self.ops.insert(name, Op { finished: true, done_at: now, target: op.target, effect: Effect::None, failed: false, compute: op.compute, body });
        }
    }

    /// What deleting a node or instance does to its disks: auto-delete
    /// disks go with an instance; any other attached disk is detached.
    fn release_disks(&mut self, which: &str, gone: &Value) {
        let attached: Vec<(String, bool)> = match which {
            "instances" => gone["disks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| (d["source"].as_str().unwrap_or_default().to_string(), d["autoDelete"] == true))
                .collect(),
            "tpu" => gone["dataDisks"].as_array().into_iter().flatten().map(|d| (d["sourceDisk"].as_str().unwrap_or_default().to_string(), false)).collect(),
            _ => Vec::new(),
        };
        for (source, auto_delete) in attached {
            let key = source.trim_start_matches(crate::gcp_shapes::COMPUTE).trim_start_matches('/').to_string();
            if auto_delete {
                self.disks.remove(&key);
            } else if let Some(d) = self.disks.get_mut(&key) {
                d["users"] = json!([]);
            }
        }
    }

    fn fails(&self, key: &str) -> bool {
        self.faults.fail_names.iter().any(|f| key.contains(f.as_str()))
    }

    fn tpu_op(&mut self, parent: &str, target: String, verb: &str, effect: Effect) -> Value {
        self.next_op += 1;
        let name = format!("{parent}/operations/operation-{}", self.next_op);
        let failed = self.fails(&target);
        let body = json!({
            "name": name,
            "metadata": {"@type": "type.googleapis.com/google.cloud.tpu.v2.OperationMetadata", "target": target, "verb": verb, "apiVersion": "v2"},
            "done": false,
        });
        self.ops.insert(
            name.clone(),
            Op {
                finished: false,
                done_at: Instant::now() + Duration::from_millis(self.faults.latency_ms),
                target: ("tpu", target),
                effect,
                failed,
                compute: false,
                body: body.clone(),
            },
        );
        body
    }

    fn compute_op(&mut self, project: &str, zone: &str, which: &'static str, key: String, kind: &str, effect: Effect) -> Value {
        self.next_op += 1;
        let name = format!("operation-{}", self.next_op);
        let failed = self.fails(&key);
        let zone_url = format!("https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}");
        let body = json!({
            "kind": "compute#operation",
            "id": self.next_op.to_string(),
            "name": name,
            "zone": zone_url,
            "operationType": kind,
            "targetLink": format!("https://www.googleapis.com/compute/v1/{key}"),
            "status": "RUNNING",
            "progress": 0,
            "selfLink": format!("{zone_url}/operations/{name}"),
        });
        let full = format!("projects/{project}/zones/{zone}/operations/{name}");
        self.ops.insert(
            full,
            Op {
                finished: false,
                done_at: Instant::now() + Duration::from_millis(self.faults.latency_ms),
                target: (which, key),
                effect,
                failed,
                compute: true,
                body: body.clone(),
            },
        );
        body
    }
}

/// Handle to a running fake.
#[derive(Clone)]
pub struct FakeGcp {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
}

fn error(code: u16, status: &str, message: impl Into<String>) -> Response {
    let sc = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (sc, Json(json!({"error": {"code": code, "message": message.into(), "status": status}}))).into_response()
}

fn status_name(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    }
}

impl FakeGcp {
    /// Starts on 127.0.0.1:`port` (0: any free port).
    pub async fn start(port: u16) -> std::io::Result<FakeGcp> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let fake = FakeGcp { inner: Arc::default(), addr };
        let app = Router::new()
            .route("/v2/projects/{p}/locations/{z}/nodes", get(tpu_list).post(tpu_create))
            .route("/v2/projects/{p}/locations/{z}/nodes/{n}", get(tpu_get).delete(tpu_delete).patch(tpu_patch))
            .route("/v2/projects/{p}/locations/{z}/operations/{o}", get(tpu_op_get))
            .route("/compute/v1/projects/{p}/zones/{z}/instances", get(inst_list).post(inst_insert))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}", get(inst_get).delete(inst_delete))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/setLabels", post(inst_set_labels))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/setMetadata", post(inst_set_metadata))
            .route("/compute/v1/projects/{p}/zones/{z}/disks", get(disk_list).post(disk_insert))
            .route("/compute/v1/projects/{p}/zones/{z}/disks/{n}", get(disk_get).delete(disk_delete))
            .route("/compute/v1/projects/{p}/zones/{z}/operations/{o}", get(compute_op_get))
            .route("/_fake/faults", put(set_faults))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(fake)
    }

    /// Base URL (GANTRY_GCP_ENDPOINT).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the faults (and queues its HTTP errors).
    pub fn set_faults(&self, f: Faults) {
        let mut i = self.inner.lock().unwrap();
        i.http_errors = f.http_errors.iter().copied().collect();
        i.faults = f;
    }

    /// Requests served per route kind (e.g. "tpu.list").
    pub fn requests(&self) -> BTreeMap<String, u64> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Names of the TPU nodes that exist.
    pub fn tpu_names(&self) -> Vec<String> {
        let mut i = self.inner.lock().unwrap();
        i.tick();
        i.tpu.keys().cloned().collect()
    }

    /// A TPU node as stored.
    pub fn tpu_node(&self, full_name: &str) -> Option<Value> {
        self.inner.lock().unwrap().tpu.get(full_name).cloned()
    }

    /// An instance as stored (`projects/P/zones/Z/instances/N`).
    pub fn instance(&self, key: &str) -> Option<Value> {
        let mut i = self.inner.lock().unwrap();
        i.tick();
        i.instances.get(key).cloned()
    }

    /// A disk as stored (`projects/P/zones/Z/disks/N`).
    pub fn disk(&self, key: &str) -> Option<Value> {
        let mut i = self.inner.lock().unwrap();
        i.tick();
        i.disks.get(key).cloned()
    }

    /// Names of the instances and disks that exist.
    pub fn compute_names(&self) -> Vec<String> {
        let mut i = self.inner.lock().unwrap();
        i.tick();
        i.instances.keys().chain(i.disks.keys()).cloned().collect()
    }

    /// Counts the request, finishes due operations, and answers an injected error if one is queued.
    fn enter(&self, route: &str) -> Result<std::sync::MutexGuard<'_, Inner>, Box<Response>> {
        let mut i = self.inner.lock().unwrap();
        *i.requests.entry(route.to_string()).or_default() += 1;
        i.tick();
        if let Some(code) = i.http_errors.pop_front() {
            return Err(Box::new(error(code, status_name(code), "fake: injected error")));
        }
        Ok(i)
    }
}

async fn set_faults(State(f): State<FakeGcp>, Json(faults): Json<Faults>) -> StatusCode {
    f.set_faults(faults);
    StatusCode::NO_CONTENT
}

// ---- TPU v2 ----

async fn tpu_list(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Query(q): Query<PageQuery>) -> Response {
    let i = match f.enter("tpu.list") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let (nodes, token) = page(&i.tpu, &format!("projects/{p}/locations/{z}/nodes/"), &q, i.faults.empty_pages);
    let mut out = json!({"nodes": nodes});
    if let Some(t) = token {
        out["nextPageToken"] = json!(t);
    }
    Json(out).into_response()
}

async fn tpu_get(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    let i = match f.enter("tpu.get") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.tpu.get(&format!("projects/{p}/locations/{z}/nodes/{n}")) {
        Some(v) => Json(v.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("node {n} not found")),
    }
}

async fn tpu_create(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Query(q): Query<PageQuery>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("tpu.create") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let Some(id) = q.node_id else { return error(400, "INVALID_ARGUMENT", "nodeId is required") };
    let name = format!("projects/{p}/locations/{z}/nodes/{id}");
    if i.tpu.contains_key(&name) {
        return error(409, "ALREADY_EXISTS", format!("node {id} already exists"));
    }
    if body.get("acceleratorType").and_then(Value::as_str).unwrap_or("").is_empty()
        || body.get("runtimeVersion").and_then(Value::as_str).unwrap_or("").is_empty()
    {
        return error(400, "INVALID_ARGUMENT", "acceleratorType and runtimeVersion are required");
    }
    for d in body.get("dataDisks").and_then(Value::as_array).cloned().unwrap_or_default() {
        let source =
            d.get("sourceDisk").and_then(Value::as_str).unwrap_or_default().trim_start_matches(crate::gcp_shapes::COMPUTE).trim_start_matches('/').to_string();
        match i.disks.get_mut(&source) {
            Some(disk) => disk["users"] = json!([format!("{}/{name}", crate::gcp_shapes::COMPUTE)]),
            None => return error(400, "INVALID_ARGUMENT", format!("data disk {source} does not exist")),
        }
    }
    let number = 1000 + i.next_op;
    let body = crate::gcp_shapes::tpu_node(&p, &z, &id, body, number);
    i.tpu.insert(name.clone(), body);
    let parent = format!("projects/{p}/locations/{z}");
    Json(i.tpu_op(&parent, name, "create", Effect::Ready)).into_response()
}

async fn tpu_delete(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    let mut i = match f.enter("tpu.delete") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let name = format!("projects/{p}/locations/{z}/nodes/{n}");
    match i.tpu.get_mut(&name) {
        Some(node) => node["state"] = json!("DELETING"),
        None => return error(404, "NOT_FOUND", format!("node {n} not found")),
    }
    let parent = format!("projects/{p}/locations/{z}");
    Json(i.tpu_op(&parent, name, "delete", Effect::Deleted)).into_response()
}

#[derive(Deserialize)]
struct MaskQuery {
    #[serde(rename = "updateMask")]
    update_mask: Option<String>,
}

async fn tpu_patch(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>, Query(q): Query<MaskQuery>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("tpu.update") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let name = format!("projects/{p}/locations/{z}/nodes/{n}");
    let mask = q.update_mask.unwrap_or_default();
    let Some(node) = i.tpu.get_mut(&name) else { return error(404, "NOT_FOUND", format!("node {n} not found")) };
    for field in mask.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match field {
            "labels" | "metadata" | "description" | "tags" => node[field] = body.get(field).cloned().unwrap_or(Value::Null),
            other => return error(400, "INVALID_ARGUMENT", format!("field {other} cannot be updated")),
        }
    }
    let parent = format!("projects/{p}/locations/{z}");
    Json(i.tpu_op(&parent, name, "update", Effect::Ready)).into_response()
}

async fn tpu_op_get(State(f): State<FakeGcp>, Path((p, z, o)): Path<(String, String, String)>) -> Response {
    let i = match f.enter("tpu.operation") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.ops.get(&format!("projects/{p}/locations/{z}/operations/{o}")) {
        Some(op) => Json(op.body.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("operation {o} not found")),
    }
}

// ---- Compute v1 ----

fn compute_list(f: &FakeGcp, which: &'static str, route: &str, p: &str, z: &str, q: &PageQuery) -> Response {
    let i = match f.enter(route) {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let map = if which == "instances" { &i.instances } else { &i.disks };
    let (items, token) = page(map, &format!("projects/{p}/zones/{z}/{which}/"), q, i.faults.empty_pages);
    let mut out = json!({"kind": format!("compute#{}List", if which == "instances" { "instance" } else { "disk" })});
    // Compute omits `items` when a page has none.
    if !items.is_empty() {
        out["items"] = json!(items);
    }
    if let Some(t) = token {
        out["nextPageToken"] = json!(t);
    }
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

async fn inst_list(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Query(q): Query<PageQuery>) -> Response {
    compute_list(&f, "instances", "instances.list", &p, &z, &q)
}
async fn inst_get(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_get(&f, "instances", "instances.get", format!("projects/{p}/zones/{z}/instances/{n}"))
}
async fn inst_insert(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Json(body): Json<Value>) -> Response {
    compute_insert(&f, "instances", "instances.insert", &p, &z, body)
}
async fn inst_delete(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_delete(&f, "instances", "instances.delete", &p, &z, format!("projects/{p}/zones/{z}/instances/{n}"))
}
async fn disk_list(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Query(q): Query<PageQuery>) -> Response {
    compute_list(&f, "disks", "disks.list", &p, &z, &q)
}
async fn disk_get(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_get(&f, "disks", "disks.get", format!("projects/{p}/zones/{z}/disks/{n}"))
}
async fn disk_insert(State(f): State<FakeGcp>, Path((p, z)): Path<(String, String)>, Json(body): Json<Value>) -> Response {
    compute_insert(&f, "disks", "disks.insert", &p, &z, body)
}
async fn disk_delete(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>) -> Response {
    compute_delete(&f, "disks", "disks.delete", &p, &z, format!("projects/{p}/zones/{z}/disks/{n}"))
}

async fn inst_set_labels(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("instances.setLabels") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let next = i.next_op;
    let Some(inst) = i.instances.get_mut(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    if body.get("labelFingerprint") != inst.get("labelFingerprint") {
        return error(412, "FAILED_PRECONDITION", "Labels fingerprint either invalid or resource labels have changed");
    }
    inst["labels"] = body.get("labels").cloned().unwrap_or(json!({}));
    inst["labelFingerprint"] = json!(crate::gcp_shapes::fingerprint(next));
    Json(i.compute_op(&p, &z, "instances", key, "setLabels", Effect::None)).into_response()
}

async fn inst_set_metadata(State(f): State<FakeGcp>, Path((p, z, n)): Path<(String, String, String)>, Json(body): Json<Value>) -> Response {
    let mut i = match f.enter("instances.setMetadata") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    let key = format!("projects/{p}/zones/{z}/instances/{n}");
    let next = i.next_op;
    let Some(inst) = i.instances.get_mut(&key) else { return error(404, "NOT_FOUND", format!("The resource '{key}' was not found")) };
    if body.get("fingerprint") != inst.pointer("/metadata/fingerprint") {
        return error(412, "FAILED_PRECONDITION", "Supplied fingerprint does not match current metadata fingerprint");
    }
    let mut m = body.clone();
    m["fingerprint"] = json!(crate::gcp_shapes::fingerprint(next + 2));
    inst["metadata"] = m;
    Json(i.compute_op(&p, &z, "instances", key, "setMetadata", Effect::None)).into_response()
}

async fn compute_op_get(State(f): State<FakeGcp>, Path((p, z, o)): Path<(String, String, String)>) -> Response {
    let i = match f.enter("compute.operation") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    match i.ops.get(&format!("projects/{p}/zones/{z}/operations/{o}")) {
        Some(op) => Json(op.body.clone()).into_response(),
        None => error(404, "NOT_FOUND", format!("operation {o} not found")),
    }
}
