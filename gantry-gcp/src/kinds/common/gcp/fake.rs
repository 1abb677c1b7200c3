//! An in-memory Google Cloud for driver unit tests. Resources are stored in
//! the shapes the real APIs answer with (the emulator's `gcp_shapes`: full
//! URLs, server-filled defaults, input-only fields dropped, base64
//! fingerprints), lists come in small pages with an empty page before the
//! last token (AIP-158 allows both), and setters check the fingerprint read
//! last, as Compute Engine does (412 otherwise).

use super::DiskApi;
use crate::core::error::{ErrorClass, ProviderError};
use async_trait::async_trait;
use gantry_emulators::gcp_shapes;
use google_cloud_compute_v1::model::{Disk, Instance, InstancesSetLabelsRequest, Metadata};
use google_cloud_tpu_v2::model::Node;
use google_cloud_wkt::FieldMask;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub(crate) const PROJECT: &str = "test-project";

#[derive(Default)]
struct Inner {
    instances: BTreeMap<(String, String), Value>,
    disks: BTreeMap<(String, String), Value>,
    /// TPU nodes by full resource name.
    nodes: BTreeMap<String, Value>,
    number: u64,
    calls: Vec<String>,
    /// Instance IAM policies by (zone, name); none: `{"etag": "ACAB"}`.
    policies: BTreeMap<(String, String), crate::cloud::gcp_iam::Policy>,
}

/// The fake project.
#[derive(Default)]
pub(crate) struct FakeGcp {
    inner: Mutex<Inner>,
}

fn typed<T: DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).expect("the fake stores API shapes the SDK model reads")
}

fn not_found(op: &'static str, what: &str) -> ProviderError {
    ProviderError::google(ErrorClass::NotFound, "compute", op, format!("The resource '{what}' was not found"))
}

/// Pages of two with an empty page before the last token.
fn page<T: DeserializeOwned>(all: Vec<&Value>, token: &str) -> (Vec<T>, String) {
    let start: usize = token.strip_prefix("empty-").or(Some(token)).and_then(|t| t.parse().ok()).unwrap_or(0);
    if token.starts_with("empty-") {
        return (Vec::new(), start.to_string());
    }
    let items: Vec<T> = all.iter().skip(start).take(2).map(|v| typed(v)).collect();
    let next = start + 2;
    let token = if next < all.len() { format!("empty-{next}") } else { String::new() };
    (items, token)
}

impl FakeGcp {
    /// Every call so far, as `Operation zone/name`.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.inner.lock().unwrap().calls.clone()
    }

    fn record(&self, call: String) -> std::sync::MutexGuard<'_, Inner> {
        let mut i = self.inner.lock().unwrap();
        i.calls.push(call);
        i
    }

    /// Puts an instance in the project as another tool would have made it.
    pub(crate) fn seed_instance(&self, zone: &str, body: Value) {
        let mut i = self.inner.lock().unwrap();
        i.number += 10;
        let (inst, disks) = gcp_shapes::instance(PROJECT, zone, body, i.number);
        for d in disks {
            i.disks.insert((zone.to_string(), d["name"].as_str().unwrap_or_default().to_string()), d);
        }
        i.instances.insert((zone.to_string(), inst["name"].as_str().unwrap_or_default().to_string()), inst);
    }

    /// The stored TPU node, as the API would answer it.
    pub(crate) fn node(&self, zone: &str, id: &str) -> Option<Value> {
        self.inner.lock().unwrap().nodes.get(&format!("projects/{PROJECT}/locations/{zone}/nodes/{id}")).cloned()
    }

    /// The stored disk, as the API would answer it.
    pub(crate) fn disk(&self, zone: &str, name: &str) -> Option<Value> {
        self.inner.lock().unwrap().disks.get(&(zone.to_string(), name.to_string())).cloned()
    }

    /// The stored instance, as the API would answer it.
    pub(crate) fn instance(&self, zone: &str, name: &str) -> Option<Value> {
        self.inner.lock().unwrap().instances.get(&(zone.to_string(), name.to_string())).cloned()
    }
}

#[async_trait]
impl DiskApi for FakeGcp {
    fn project(&self) -> &str {
        PROJECT
    }

    async fn list_disks(&self, zone: &str, page_token: &str) -> Result<(Vec<Disk>, String), ProviderError> {
        let i = self.record(format!("ListDisks {zone}"));
        Ok(page(i.disks.iter().filter(|((z, _), _)| z == zone).map(|(_, v)| v).collect(), page_token))
    }

    async fn insert_disk(&self, zone: &str, disk: Disk) -> Result<(), ProviderError> {
        let name = disk.name.clone().unwrap_or_default();
        let mut i = self.record(format!("InsertDisk {zone}/{name}"));
        if i.disks.contains_key(&(zone.to_string(), name.clone())) {
            return Err(ProviderError::google(ErrorClass::Conflict, "compute", "InsertDisk", format!("operation failed: RESOURCE_ALREADY_EXISTS: {name}")));
        }
        i.number += 1;
        let stored = gcp_shapes::disk(PROJECT, zone, serde_json::to_value(&disk).unwrap_or_default(), i.number);
        i.disks.insert((zone.to_string(), name), stored);
        Ok(())
    }

    async fn delete_disk(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        let mut i = self.record(format!("DeleteDisk {zone}/{name}"));
        i.disks.remove(&(zone.to_string(), name.to_string())).map(|_| ()).ok_or_else(|| not_found("DeleteDisk", name))
    }
}

#[async_trait]
impl crate::kinds::gpu_node::api::GpuApi for FakeGcp {
    async fn get_policy(&self, zone: &str, name: &str) -> Result<crate::cloud::gcp_iam::Policy, ProviderError> {
        let i = self.record(format!("GetIamPolicy {zone}/{name}"));
        let empty = crate::cloud::gcp_iam::Policy { etag: "ACAB".into(), ..Default::default() };
        Ok(i.policies.get(&(zone.to_string(), name.to_string())).cloned().unwrap_or(empty))
    }

    async fn set_policy(&self, zone: &str, name: &str, policy: &crate::cloud::gcp_iam::Policy) -> Result<(), ProviderError> {
        let mut i = self.record(format!("SetIamPolicy {zone}/{name}"));
        let key = (zone.to_string(), name.to_string());
        let current = i.policies.get(&key).map(|p| p.etag.clone()).unwrap_or("ACAB".into());
        if policy.etag != current {
            return Err(ProviderError::google(ErrorClass::Conflict, "compute", "SetInstanceIamPolicy", "409: concurrent policy changes"));
        }
        i.number += 1;
        let etag = format!("p{}", i.number);
        i.policies.insert(key, crate::cloud::gcp_iam::Policy { etag, ..policy.clone() });
        Ok(())
    }

    async fn list_instances(&self, zone: &str, page_token: &str) -> Result<(Vec<Instance>, String), ProviderError> {
        let i = self.record(format!("ListInstances {zone}"));
        Ok(page(i.instances.iter().filter(|((z, _), _)| z == zone).map(|(_, v)| v).collect(), page_token))
    }

    async fn list_labelled(&self, label: &str, _page_token: &str) -> Result<(Vec<(String, Instance)>, String), ProviderError> {
        let i = self.record(format!("AggregatedListInstances {label}"));
        let found = i.instances.iter().filter(|(_, v)| v["labels"][super::LABEL_STACK] == json!(label)).map(|((z, _), v)| (z.clone(), typed(v))).collect();
        Ok((found, String::new()))
    }

    async fn get_instance(&self, zone: &str, name: &str) -> Result<Instance, ProviderError> {
        let i = self.record(format!("GetInstance {zone}/{name}"));
        i.instances.get(&(zone.to_string(), name.to_string())).map(typed).ok_or_else(|| not_found("GetInstance", name))
    }

    async fn insert_instance(&self, zone: &str, body: Instance) -> Result<(), ProviderError> {
        let name = body.name.clone().unwrap_or_default();
        drop(self.record(format!("InsertInstance {zone}/{name}")));
        if self.instance(zone, &name).is_some() {
            return Err(ProviderError::google(ErrorClass::Conflict, "compute", "InsertInstance", format!("operation failed: RESOURCE_ALREADY_EXISTS: {name}")));
        }
        let mut stored = serde_json::to_value(&body).unwrap_or_default();
        // A running instance reports RUNNING once the operation is done.
        stored["status"] = json!("RUNNING");
        self.seed_instance(zone, stored);
        Ok(())
    }

    async fn set_labels(&self, zone: &str, name: &str, req: InstancesSetLabelsRequest) -> Result<(), ProviderError> {
        let mut i = self.record(format!("SetLabels {zone}/{name}"));
        i.number += 1;
        let n = i.number;
        let inst = i.instances.get_mut(&(zone.to_string(), name.to_string())).ok_or_else(|| not_found("SetLabels", name))?;
        let sent = serde_json::to_value(&req).unwrap_or_default();
        if !gcp_shapes::same_fingerprint(sent.get("labelFingerprint"), inst.get("labelFingerprint")) {
            return Err(ProviderError::google(
                ErrorClass::Conflict,
                "compute",
                "SetLabels",
                "412: Labels fingerprint either invalid or resource labels have changed",
            ));
        }
        inst["labels"] = sent.get("labels").cloned().unwrap_or(json!({}));
        inst["labelFingerprint"] = json!(gcp_shapes::fingerprint(n));
        Ok(())
    }

    async fn set_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError> {
        let mut i = self.record(format!("SetMetadata {zone}/{name}"));
        i.number += 1;
        let n = i.number;
        let inst = i.instances.get_mut(&(zone.to_string(), name.to_string())).ok_or_else(|| not_found("SetMetadata", name))?;
        let mut sent = serde_json::to_value(&md).unwrap_or_default();
        if !gcp_shapes::same_fingerprint(sent.get("fingerprint"), inst.pointer("/metadata/fingerprint")) {
            return Err(ProviderError::google(
                ErrorClass::Conflict,
                "compute",
                "SetMetadata",
                "412: Supplied fingerprint does not match current metadata fingerprint",
            ));
        }
        sent["fingerprint"] = json!(gcp_shapes::fingerprint(n));
        sent["kind"] = json!("compute#metadata");
        inst["metadata"] = sent;
        Ok(())
    }

    async fn delete_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        let mut i = self.record(format!("DeleteInstance {zone}/{name}"));
        i.instances.remove(&(zone.to_string(), name.to_string())).ok_or_else(|| not_found("DeleteInstance", name))?;
        i.policies.remove(&(zone.to_string(), name.to_string()));
        // autoDelete boot disks go with the instance.
        i.disks.remove(&(zone.to_string(), name.to_string()));
        Ok(())
    }

    async fn request_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError> {
        self.set_metadata(zone, name, md).await
    }

    async fn start_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        let mut i = self.record(format!("StartInstance {zone}/{name}"));
        let inst = i.instances.get_mut(&(zone.to_string(), name.to_string())).ok_or_else(|| not_found("StartInstance", name))?;
        inst["status"] = json!("RUNNING");
        Ok(())
    }
}

#[async_trait]
impl crate::kinds::tpu_node::api::TpuApi for FakeGcp {
    async fn list_nodes(&self, zone: &str, page_token: &str) -> Result<(Vec<Node>, String), ProviderError> {
        let i = self.record(format!("ListNodes {zone}"));
        // `-`: every location's nodes (AIP-159).
        let prefix = if zone == "-" { format!("projects/{PROJECT}/locations/") } else { format!("projects/{PROJECT}/locations/{zone}/nodes/") };
        Ok(page(i.nodes.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| v).collect(), page_token))
    }

    async fn create_node(&self, zone: &str, id: &str, node: Node) -> Result<(), ProviderError> {
        let mut i = self.record(format!("CreateNode {zone}/{id}"));
        let name = format!("projects/{PROJECT}/locations/{zone}/nodes/{id}");
        if i.nodes.contains_key(&name) {
            return Err(ProviderError::google(ErrorClass::Conflict, "tpu", "CreateNode", format!("AlreadyExists: {name}")));
        }
        for d in &node.data_disks {
            let disk = d.source_disk.rsplit('/').next().unwrap_or_default().to_string();
            let Some(stored) = i.disks.get(&(zone.to_string(), disk.clone())) else {
                return Err(ProviderError::google(ErrorClass::NotFound, "tpu", "CreateNode", format!("NotFound: disk {disk}")));
            };
            // The TPU API refuses a disk type the generation does not take
            // ("Attach durable block storage to a TPU VM"), after the disk exists.
            let kind = stored.get("type").and_then(Value::as_str).and_then(|t| t.rsplit('/').next()).unwrap_or_default().to_string();
            if crate::kinds::tpu_node::data_disk_types(&node.accelerator_type).is_some_and(|ok| !ok.contains(&kind.as_str())) {
                return Err(ProviderError::google(
                    ErrorClass::Other,
                    "tpu",
                    "CreateNode",
                    format!("InvalidArgument: disk type {kind} is not supported for accelerator type {}", node.accelerator_type),
                ));
            }
        }
        i.number += 1;
        let mut stored = gcp_shapes::tpu_node(PROJECT, zone, id, serde_json::to_value(&node).unwrap_or_default(), i.number);
        // The create operation finishes when the node is READY.
        stored["state"] = json!("READY");
        i.nodes.insert(name, stored);
        Ok(())
    }

    async fn update_node(&self, node: Node, mask: FieldMask) -> Result<(), ProviderError> {
        let mut i = self.record(format!("UpdateNode {}", node.name));
        let sent = serde_json::to_value(&node).unwrap_or_default();
        let stored = i.nodes.get_mut(&node.name).ok_or_else(|| not_found("UpdateNode", &node.name))?;
        for path in &mask.paths {
            match path.as_str() {
                "labels" | "metadata" => stored[path.as_str()] = sent.get(path.as_str()).cloned().unwrap_or(json!({})),
                other => {
                    return Err(ProviderError::google(ErrorClass::Other, "tpu", "UpdateNode", format!("InvalidArgument: field {other} cannot be updated")))
                }
            }
        }
        Ok(())
    }

    async fn delete_node(&self, name: &str) -> Result<(), ProviderError> {
        let mut i = self.record(format!("DeleteNode {name}"));
        i.nodes.remove(name).map(|_| ()).ok_or_else(|| not_found("DeleteNode", name))
    }
}
