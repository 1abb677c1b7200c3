//! The fake project's state: resources, operations (finished `latency`
//! after they start), injected faults, and the error shape every handler
//! answers with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
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

pub(crate) enum Effect {
    /// The resource becomes ready.
    Ready,
    /// The resource is gone.
    Deleted,
    /// The instance is stopped (TERMINATED).
    Stopped,
    /// Nothing to do at completion.
    None,
}

pub(crate) struct Op {
    pub(crate) finished: bool,
    pub(crate) done_at: Instant,
    /// Map (tpu / instances / disks) and key of the resource.
    pub(crate) target: (&'static str, String),
    pub(crate) effect: Effect,
    pub(crate) failed: bool,
    pub(crate) compute: bool,
    pub(crate) body: Value,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) tpu: BTreeMap<String, Value>,
    pub(crate) instances: BTreeMap<String, Value>,
    pub(crate) disks: BTreeMap<String, Value>,
    /// Networks added by tests (`default` exists in every project).
    pub(crate) networks: BTreeMap<String, Value>,
    /// IAM service accounts by `projects/P/serviceAccounts/EMAIL`.
    pub(crate) service_accounts: BTreeMap<String, Value>,
    /// IAM policies by resource incarnation (`gcp_iam_policy::incarnation`).
    pub(crate) iam_policies: BTreeMap<String, Value>,
    /// Custom roles by `projects/P/roles/ID` (deleted ones kept, `deleted: true`).
    pub(crate) roles: BTreeMap<String, Value>,
    /// Workload identity pools and providers by their `projects/P/...` name.
    pub(crate) pools: BTreeMap<String, Value>,
    /// The Billing Catalog's Compute Engine SKUs, in list order.
    pub(crate) skus: Vec<Value>,
    pub(crate) ops: HashMap<String, Op>,
    pub(crate) faults: Faults,
    pub(crate) http_errors: VecDeque<u16>,
    pub(crate) next_op: u64,
    pub(crate) requests: BTreeMap<String, u64>,
}

impl Inner {
    pub(crate) fn map(&mut self, which: &str) -> &mut BTreeMap<String, Value> {
        match which {
            "tpu" => &mut self.tpu,
            "instances" => &mut self.instances,
            _ => &mut self.disks,
        }
    }

    /// Completes every operation whose time has come.
    pub(crate) fn tick(&mut self) {
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
                    Effect::Stopped => {
                        if let Some(r) = self.map(which).get_mut(&key) {
                            r["status"] = json!("TERMINATED");
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

    pub(crate) fn tpu_op(&mut self, parent: &str, target: String, verb: &str, effect: Effect) -> Value {
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

    pub(crate) fn compute_op(&mut self, project: &str, zone: &str, which: &'static str, key: String, kind: &str, effect: Effect) -> Value {
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
    pub(crate) inner: Arc<Mutex<Inner>>,
    /// Where it listens.
    pub addr: SocketAddr,
}

pub(crate) fn error(code: u16, status: &str, message: impl Into<String>) -> Response {
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
    /// Counts the request, finishes due operations, and answers an injected error if one is queued.
    pub(crate) fn enter(&self, route: &str) -> Result<std::sync::MutexGuard<'_, Inner>, Box<Response>> {
        let mut i = self.inner.lock().unwrap();
        *i.requests.entry(route.to_string()).or_default() += 1;
        i.tick();
        if let Some(code) = i.http_errors.pop_front() {
            return Err(Box::new(error(code, status_name(code), "fake: injected error")));
        }
        Ok(i)
    }
}
