//! Fake Google Cloud APIs: Cloud TPU v2 nodes, Compute Engine v1
//! instances and disks, IAM v1 service accounts (`gcp_iam`), custom roles
//! (`gcp_roles`), workload identity pools (`gcp_identity`) and IAM policies
//! (`gcp_iam_policy`), the Cloud Billing Catalog and machine types
//! (`gcp_billing`), with long-running operations, served in the REST
//! shapes the google-cloud-rust clients use (camelCase JSON, int64 as
//! strings, `{"error": {"code", "message", "status"}}` errors).
//!
//! Operations finish `latency` after they start; until then the resource is
//! CREATING/STAGING. Faults: HTTP errors for the next requests (429, 503…),
//! and operations that fail for resources whose name contains a marker.
//! Control from outside the process: `PUT /_fake/faults` with
//! `{"latency_ms": 2000, "fail_names": ["bad"], "http_errors": [503]}`.

use crate::gcp_compute::*;
use crate::gcp_paging::{page, PageQuery};
use crate::gcp_store::{error, Effect};
pub use crate::gcp_store::{FakeGcp, Faults};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A pool, a provider or an operation of either (`gcp_identity::item_*`).
fn pool_item() -> axum::routing::MethodRouter<FakeGcp> {
    use crate::gcp_identity::{item_delete, item_get, item_patch, item_post};
    get(item_get).patch(item_patch).delete(item_delete).post(item_post)
}

impl FakeGcp {
    /// Starts on 127.0.0.1:`port` (0: any free port).
    pub async fn start(port: u16) -> std::io::Result<FakeGcp> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let inner = crate::gcp_store::Inner { skus: crate::gcp_billing::seed(), ..Default::default() };
        let fake = FakeGcp { inner: Arc::new(std::sync::Mutex::new(inner)), addr };
        let app = Router::new()
            .route("/v2/projects/{p}/locations/{z}/nodes", get(tpu_list).post(tpu_create))
            .route("/v2/projects/{p}/locations/{z}/nodes/{n}", get(tpu_get).delete(tpu_delete).patch(tpu_patch))
            .route("/v2/projects/{p}/locations/{z}/operations/{o}", get(tpu_op_get))
            .route("/compute/v1/projects/{p}/zones/{z}/instances", get(inst_list).post(inst_insert))
            .route("/compute/v1/projects/{p}/aggregated/instances", get(crate::gcp_compute::inst_aggregated))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}", get(inst_get).delete(inst_delete))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/setLabels", post(inst_set_labels))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/setMetadata", post(inst_set_metadata))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/start", post(crate::gcp_compute::inst_start))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/stop", post(crate::gcp_compute::inst_stop))
            .route("/compute/v1/projects/{p}/zones/{z}/disks", get(disk_list).post(disk_insert))
            .route("/compute/v1/projects/{p}/zones/{z}/disks/{n}", get(disk_get).delete(disk_delete))
            .route("/compute/v1/projects/{p}/zones/{z}/operations/{o}", get(compute_op_get))
            .route("/compute/v1/projects/{p}/global/networks/{n}", get(crate::gcp_compute::network_get))
            .route("/v1/projects/{p}/serviceAccounts", get(crate::gcp_iam::sa_list).post(crate::gcp_iam::sa_create))
            .route(
                "/v1/projects/{p}/serviceAccounts/{email}",
                get(crate::gcp_iam::sa_get).patch(crate::gcp_iam::sa_patch).delete(crate::gcp_iam::sa_delete).post(crate::gcp_iam::sa_action),
            )
            .route("/v1/projects/{p}/roles", get(crate::gcp_roles::role_list).post(crate::gcp_roles::role_create))
            .route(
                "/v1/projects/{p}/roles/{id}",
                get(crate::gcp_roles::role_get).patch(crate::gcp_roles::role_patch).delete(crate::gcp_roles::role_delete).post(crate::gcp_roles::role_action),
            )
            .route("/v3/projects/{p}", get(crate::gcp_identity::project_get))
            .route("/v1/projects/{p}/locations/global/workloadIdentityPools", get(crate::gcp_identity::pool_list).post(crate::gcp_identity::pool_create))
            .route(
                "/v1/projects/{p}/locations/global/workloadIdentityPools/{pool}/providers",
                get(crate::gcp_identity::provider_list).post(crate::gcp_identity::provider_create),
            )
            .route("/v1/projects/{p}/locations/global/workloadIdentityPools/{pool}", pool_item())
            .route("/v1/projects/{p}/locations/global/workloadIdentityPools/{pool}/providers/{prov}", pool_item())
            .route("/v1/projects/{p}/locations/global/workloadIdentityPools/{pool}/operations/{op}", pool_item())
            .route("/v1/projects/{p}/locations/global/workloadIdentityPools/{pool}/providers/{prov}/operations/{op}", pool_item())
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/getIamPolicy", get(crate::gcp_compute::inst_get_policy))
            .route("/compute/v1/projects/{p}/zones/{z}/instances/{n}/setIamPolicy", post(crate::gcp_compute::inst_set_policy))
            .route("/v1/services/{svc}/skus", get(crate::gcp_billing::skus_list))
            .route("/compute/v1/projects/{p}/regions/{r}", get(crate::gcp_billing::region_get))
            .route("/compute/v1/projects/{p}/zones/{z}/machineTypes/{n}", get(crate::gcp_billing::machine_type_get))
            .route("/_fake/faults", put(set_faults))
            .route("/_fake/guest-shutdown", post(guest_shutdown))
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

    /// Adds a custom-mode network with a subnetwork (named like it) in each region.
    pub fn add_network(&self, project: &str, name: &str, regions: &[&str]) {
        let mut i = self.inner.lock().unwrap();
        let number = i.networks.len() as u64 + 1;
        i.networks.insert(format!("projects/{project}/global/networks/{name}"), crate::gcp_shapes::network(project, name, regions, number));
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

    /// The machine shut itself down (`shutdown -h` in the guest): Compute
    /// then reports the instance TERMINATED, as after instances.stop
    /// ("Stop and start a compute instance": a guest-initiated shutdown
    /// stops the VM; its disks and metadata stay).
    pub fn guest_shutdown(&self, key: &str) {
        let mut i = self.inner.lock().unwrap();
        i.tick();
        if let Some(inst) = i.instances.get_mut(key) {
            inst["status"] = serde_json::json!("TERMINATED");
        }
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
}

#[derive(Deserialize)]
struct ShutdownRequest {
    instance: String,
}

/// Test and demo control: the machine shuts itself down (see [`FakeGcp::guest_shutdown`]).
async fn guest_shutdown(State(f): State<FakeGcp>, Json(r): Json<ShutdownRequest>) -> StatusCode {
    f.guest_shutdown(&r.instance);
    StatusCode::NO_CONTENT
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
    // `-` lists every location's nodes (AIP-159, "Reading across
    // collections"; the answer's `unreachable` names locations not read).
    let prefix = if z == "-" { format!("projects/{p}/locations/") } else { format!("projects/{p}/locations/{z}/nodes/") };
    let (nodes, token) = page(&i.tpu, &prefix, &q, i.faults.empty_pages);
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
