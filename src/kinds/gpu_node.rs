//! `gpu_node`: a Compute Engine instance with GPUs running a CI agent.
//!
//! ```hcl
//! gpu_node "l4-runner" {
//!   zone         = "us-central1-a"
//!   machine_type = "g2-standard-24"
//!   accelerator {
//!     type  = "nvidia-l4"
//!     count = 2
//!   }
//!   boot_disk {
//!     image   = "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts"
//!     size_gb = 200
//!   }
//!   agent {
//!     queue        = "gpu_l4_queue"
//!     token_secret = "bk-agent-token"
//!   }
//! }
//! ```
//! GPUs require `onHostMaintenance = TERMINATE`, which gantry always sets.
//! Labels and metadata are updated in place; everything else (zone, machine
//! type, GPUs, boot disk, network, service account, spot) forces replacement.

use super::gcp_common::{self, label_safe, owned_labels, ownership, AGENT, LABEL_STACK, META_ADDRESS};
use crate::cloud::gcp::{call, GcpContext};
use crate::config::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::engine::error::{ErrorClass, ProviderError};
use crate::engine::kind::{pointer, AttrProblem, Driver, Env, Field, Kind, LiveResource, Owner, ReadScope, State};
use async_trait::async_trait;
use google_cloud_lro::Poller;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The `gpu_node` kind.
pub struct GpuNode;

static ACCELERATOR: Schema = Schema {
    attrs: &[
        Attr::new("type", Ty::String, "GPU type, e.g. nvidia-l4, nvidia-tesla-a100.").required(),
        Attr::new("count", Ty::Int, "GPUs per machine.").default(DefaultValue::Int(1)).range(1, 16),
    ],
    blocks: &[],
};

static BOOT_DISK: Schema = Schema {
    attrs: &[
        Attr::new("image", Ty::String, "Source image or image family URL.").required(),
        Attr::new("size_gb", Ty::Int, "Boot disk size.").default(DefaultValue::Int(200)).range(10, 65536),
        Attr::new("type", Ty::String, "Disk type.").default(DefaultValue::Str("pd-balanced")).one_of(&["pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-balanced"]),
    ],
    blocks: &[],
};

static SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("name", Ty::String, "Instance name (default: the block label).").forces_replacement(),
        Attr::new("zone", Ty::String, "Zone, e.g. us-central1-a.").required().forces_replacement(),
        Attr::new("machine_type", Ty::String, "Machine type, e.g. g2-standard-24.").required().forces_replacement(),
        Attr::new("network", Ty::String, "VPC network.").default(DefaultValue::Str("default")).forces_replacement(),
        Attr::new("subnetwork", Ty::String, "Subnetwork.").forces_replacement(),
        Attr::new("service_account", Ty::String, "Service account email.").forces_replacement(),
        Attr::new("scopes", Ty::ListOfString, "OAuth scopes.").default(DefaultValue::EmptyList).forces_replacement(),
        Attr::new("spot", Ty::Bool, "Spot provisioning.").default(DefaultValue::Bool(false)).forces_replacement(),
        Attr::new("labels", Ty::MapOfString, "Labels (updated in place).").default(DefaultValue::EmptyMap),
        Attr::new("metadata", Ty::MapOfString, "Metadata (updated in place).").default(DefaultValue::EmptyMap),
        Attr::new("startup_script", Ty::String, "Startup script (or use an agent block)."),
    ],
    blocks: &[
        NestedBlock { name: "accelerator", schema: &ACCELERATOR, repeated: false, doc: "The GPUs (required)." },
        NestedBlock { name: "boot_disk", schema: &BOOT_DISK, repeated: false, doc: "The boot disk (required)." },
        NestedBlock { name: "agent", schema: &AGENT, repeated: false, doc: "Run a CI agent for a queue (renders the startup script)." },
    ],
};

static FIELDS: &[Field] = &[
    Field::replace("zone"),
    Field::replace("name"),
    Field::replace("machine_type"),
    Field::replace("accelerator"),
    Field::replace("boot_disk"),
    Field::replace("network"),
    Field::replace("service_account"),
    Field::replace("scheduling"),
    Field::new("labels"),
    Field::new("metadata"),
];

fn s<'a>(a: &'a State, k: &str) -> &'a str {
    a.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// The last path segment of a URL-ish reference.
fn last(v: &Value) -> Value {
    v.as_str().map(|s| json!(s.rsplit('/').next().unwrap_or(s))).unwrap_or(Value::Null)
}

impl Kind for GpuNode {
    fn name(&self) -> &'static str {
        "gpu_node"
    }
    fn doc(&self) -> &'static str {
        "A Compute Engine instance with GPUs running a CI agent."
    }
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn check(&self, a: &State) -> Vec<AttrProblem> {
        let mut out = gcp_common::check_node(a);
        if !a.contains_key("accelerator") {
            out.push(AttrProblem::new("accelerator", "add accelerator { type = \"nvidia-l4\" count = 1 }"));
        }
        if !a.contains_key("boot_disk") {
            out.push(AttrProblem::new("boot_disk", "add boot_disk { image = \"...\" }"));
        }
        out
    }
    fn identity(&self, a: &State) -> String {
        gcp_common::node_identity(a)
    }
    fn outputs(&self, a: &State, env: &Env) -> State {
        gcp_common::node_outputs(a, format!("projects/{}/zones/{}/instances/{}", env.gcp_project, s(a, "zone"), s(a, "name")))
    }
    fn desired_state(&self, a: &State, _env: &Env) -> State {
        let name = s(a, "name");
        let mut st = State::new();
        st.insert("zone".into(), json!(s(a, "zone")));
        st.insert("name".into(), json!(name));
        st.insert("machine_type".into(), json!(s(a, "machine_type")));
        st.insert("accelerator".into(), a.get("accelerator").cloned().unwrap_or(Value::Null));
        st.insert("boot_disk".into(), a.get("boot_disk").cloned().unwrap_or(Value::Null));
        st.insert("network".into(), gcp_common::network_state(a));
        st.insert("service_account".into(), gcp_common::service_account_state(a));
        st.insert("scheduling".into(), json!({"spot": a.get("spot") == Some(&Value::Bool(true)), "on_host_maintenance": "TERMINATE"}));
        st.insert("labels".into(), a.get("labels").cloned().unwrap_or(json!({})));
        st.insert("metadata".into(), json!(gcp_common::metadata(a, name, "")));
        st
    }
}

/// Compute Engine driver for GPU instances.
pub struct GpuDriver {
    ctx: GcpContext,
}

impl GpuDriver {
    pub fn new(ctx: GcpContext) -> Self {
        GpuDriver { ctx }
    }

    fn live(&self, zone: &str, inst: &google_cloud_compute_v1::model::Instance, scope_stack: &str) -> LiveResource {
        let v = serde_json::to_value(inst).unwrap_or(Value::Null);
        let name = v["name"].as_str().unwrap_or_default().to_string();
        let labels: BTreeMap<String, String> = v["labels"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()).unwrap_or_default();
        let meta: BTreeMap<String, String> = v
            .pointer("/metadata/items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|i| (i["key"].as_str().unwrap_or_default().to_string(), i["value"].as_str().unwrap_or_default().to_string()))
            .collect();
        let (user_labels, owner_stack, owner_address) = ownership(&labels, &meta, scope_stack);
        let user_meta: BTreeMap<&String, &String> = meta.iter().filter(|(k, _)| k.as_str() != META_ADDRESS).collect();
        let boot = v["disks"].as_array().and_then(|d| d.iter().find(|d| d["boot"] == true)).cloned().unwrap_or(Value::Null);
        let size = boot.pointer("/initializeParams/diskSizeGb").and_then(|s| s.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| s.as_i64()));
        let mut scopes: Vec<String> = v.pointer("/serviceAccounts/0/scopes").and_then(Value::as_array).into_iter().flatten().filter_map(|s| s.as_str().map(String::from)).collect();
        scopes.sort();
        let mut st = State::new();
        st.insert("zone".into(), json!(zone));
        st.insert("name".into(), json!(name));
        st.insert("machine_type".into(), last(&v["machineType"]));
        st.insert(
            "accelerator".into(),
            v.pointer("/guestAccelerators/0").map(|g| json!({"type": last(&g["acceleratorType"]), "count": g["acceleratorCount"]})).unwrap_or(Value::Null),
        );
        st.insert(
            "boot_disk".into(),
            json!({"image": boot.pointer("/initializeParams/sourceImage").cloned().unwrap_or(Value::Null), "size_gb": size, "type": last(boot.pointer("/initializeParams/diskType").unwrap_or(&Value::Null))}),
        );
        st.insert(
            "network".into(),
            json!({"network": last(v.pointer("/networkInterfaces/0/network").unwrap_or(&json!("default"))), "subnetwork": v.pointer("/networkInterfaces/0/subnetwork").map(last).unwrap_or(Value::Null)}),
        );
        st.insert("service_account".into(), json!({"email": v.pointer("/serviceAccounts/0/email").cloned().unwrap_or(Value::Null), "scopes": scopes}));
        st.insert(
            "scheduling".into(),
            json!({"spot": v.pointer("/scheduling/provisioningModel").and_then(Value::as_str) == Some("SPOT"), "on_host_maintenance": v.pointer("/scheduling/onHostMaintenance").cloned().unwrap_or(Value::Null)}),
        );
        st.insert("labels".into(), user_labels);
        st.insert("metadata".into(), json!(user_meta));
        st.insert("fingerprints".into(), json!({"labels": v["labelFingerprint"], "metadata": v.pointer("/metadata/fingerprint").cloned().unwrap_or(Value::Null)}));
        LiveResource { identity: format!("{zone}/{name}"), owner_stack, owner_address, state: st }
    }

    fn metadata_items(desired: &State, owner: &Owner) -> Vec<Value> {
        let mut m: BTreeMap<String, String> =
            desired.get("metadata").and_then(Value::as_object).map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()).unwrap_or_default();
        m.insert(META_ADDRESS.into(), owner.address.clone());
        m.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect()
    }

    async fn get(&self, zone: &str, name: &str) -> Result<Value, ProviderError> {
        let inst = call(&self.ctx.stats, "compute", "GetInstance", || {
            self.ctx.instances.get().set_project(&self.ctx.project).set_zone(zone).set_instance(name).send()
        })
        .await?;
        Ok(serde_json::to_value(&inst).unwrap_or(Value::Null))
    }
}

#[async_trait]
impl Driver for GpuDriver {
    /// One paged list per zone.
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let zones = gcp_common::zones_to_read(scope);
        let stack_label = label_safe(&scope.stack);
        let per_zone = futures::future::try_join_all(zones.iter().map(|z| {
            let stack_label = stack_label.clone();
            async move {
                let mut out = Vec::new();
                let mut token = String::new();
                loop {
                    let page = call(&self.ctx.stats, "compute", "ListInstances", || {
                        self.ctx.instances.list().set_project(&self.ctx.project).set_zone(z.clone()).set_max_results(500u32).set_page_token(token.clone()).send()
                    })
                    .await?;
                    for inst in &page.items {
                        let name = inst.name.clone().unwrap_or_default();
                        let ours = inst.labels.get(LABEL_STACK) == Some(&stack_label);
                        if ours || scope.identities.iter().any(|i| *i == format!("{z}/{name}")) {
                            out.push(self.live(z, inst, &scope.stack));
                        }
                    }
                    match page.next_page_token {
                        Some(t) if !t.is_empty() => token = t,
                        _ => return Ok::<_, ProviderError>(out),
                    }
                }
            }
        }))
        .await?;
        Ok(per_zone.into_iter().flatten().collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let zone = s(desired, "zone");
        let acc = desired.get("accelerator").cloned().unwrap_or(Value::Null);
        let boot = desired.get("boot_disk").cloned().unwrap_or(Value::Null);
        let spot = pointer(desired, "/scheduling/spot") == Some(&Value::Bool(true));
        let mut body = json!({
            "name": s(desired, "name"),
            "machineType": format!("zones/{zone}/machineTypes/{}", s(desired, "machine_type")),
            "guestAccelerators": [{"acceleratorType": format!("zones/{zone}/acceleratorTypes/{}", acc["type"].as_str().unwrap_or_default()), "acceleratorCount": acc["count"].as_i64().unwrap_or(1)}],
            "disks": [{"boot": true, "autoDelete": true, "initializeParams": {
                "sourceImage": boot["image"], "diskSizeGb": boot["size_gb"].as_i64().unwrap_or(200).to_string(),
                "diskType": format!("zones/{zone}/diskTypes/{}", boot["type"].as_str().unwrap_or("pd-balanced"))}}],
            // GPUs cannot live-migrate.
            "scheduling": {"onHostMaintenance": "TERMINATE", "automaticRestart": !spot, "provisioningModel": if spot { "SPOT" } else { "STANDARD" }},
            "networkInterfaces": [{"network": format!("global/networks/{}", pointer(desired, "/network/network").and_then(Value::as_str).unwrap_or("default"))}],
            "labels": owned_labels(desired.get("labels"), &owner.stack, &owner.address),
            "metadata": {"items": Self::metadata_items(desired, owner)},
        });
        if let Some(sub) = pointer(desired, "/network/subnetwork").and_then(Value::as_str) {
            body["networkInterfaces"][0]["subnetwork"] = json!(sub);
        }
        if let Some(email) = pointer(desired, "/service_account/email").and_then(Value::as_str) {
            body["serviceAccounts"] = json!([{"email": email, "scopes": pointer(desired, "/service_account/scopes").cloned().unwrap_or(json!([]))}]);
        }
        let inst: google_cloud_compute_v1::model::Instance =
            serde_json::from_value(body).map_err(|e| ProviderError::new(ErrorClass::Other, "compute", "InsertInstance", format!("bad instance body: {e}")))?;
        owner.note("creating instance (long-running operation)".into());
        call(&self.ctx.stats, "compute", "InsertInstance", || {
            self.ctx.instances.insert().set_project(&self.ctx.project).set_zone(zone).set_body(inst.clone()).poller().until_done()
        })
        .await?;
        Ok(())
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let zone = s(desired, "zone");
        let name = s(&live.state, "name");
        let current = self.get(zone, name).await?;
        if changed.iter().any(|c| c == "labels" || c == "owner") {
            let req: google_cloud_compute_v1::model::InstancesSetLabelsRequest = serde_json::from_value(json!({
                "labels": owned_labels(desired.get("labels"), &owner.stack, &owner.address),
                "labelFingerprint": current["labelFingerprint"],
            }))
            .map_err(|e| ProviderError::new(ErrorClass::Other, "compute", "SetLabels", e.to_string()))?;
            call(&self.ctx.stats, "compute", "SetLabels", || {
                self.ctx.instances.set_labels().set_project(&self.ctx.project).set_zone(zone).set_instance(name).set_body(req.clone()).poller().until_done()
            })
            .await?;
        }
        if changed.iter().any(|c| c == "metadata" || c == "owner") {
            let md: google_cloud_compute_v1::model::Metadata =
                serde_json::from_value(json!({"items": Self::metadata_items(desired, owner), "fingerprint": current.pointer("/metadata/fingerprint")}))
                    .map_err(|e| ProviderError::new(ErrorClass::Other, "compute", "SetMetadata", e.to_string()))?;
            call(&self.ctx.stats, "compute", "SetMetadata", || {
                self.ctx.instances.set_metadata().set_project(&self.ctx.project).set_zone(zone).set_instance(name).set_body(md.clone()).poller().until_done()
            })
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let zone = s(&live.state, "zone");
        let name = s(&live.state, "name");
        match call(&self.ctx.stats, "compute", "DeleteInstance", || {
            self.ctx.instances.delete().set_project(&self.ctx.project).set_zone(zone).set_instance(name).poller().until_done()
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
