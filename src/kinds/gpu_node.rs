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
//!
//! Real Compute Engine shapes (REST reference, `instances` and `disks`):
//! references come back as full URLs; `initializeParams` is input only, so
//! the boot disk's size and type are read from its Disk; an image family
//! resolves to a concrete image on the Disk, so the image as written is
//! recorded in the instance's `gantry-boot-image` metadata; with no service
//! account gantry asks for the project's default (`email = "default"`, as
//! gcloud does) so the agent can read its token, and the server answers
//! with the real address.

use super::gcp_common::{self, label_safe, owned_labels, ownership, AGENT, LABEL_STACK, META_ADDRESS};
use crate::cloud::gcp::{call, compute_op, GcpContext};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::core::{pointer, AttrProblem, Compare, Driver, Env, Field, Kind, LiveResource, Owner, ReadScope, State};
use async_trait::async_trait;
use google_cloud_compute_v1::model::{Disk, Instance};
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
        Attr::new("type", Ty::String, "Disk type.").default(DefaultValue::Str("pd-balanced")).one_of(&[
            "pd-balanced",
            "pd-ssd",
            "pd-standard",
            "hyperdisk-balanced",
        ]),
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
        Attr::new("service_account", Ty::String, "Service account email (default: the project's default compute service account).").forces_replacement(),
        Attr::new("scopes", Ty::ListOfString, "OAuth scopes (default: cloud-platform; access is then governed by IAM).").forces_replacement(),
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
    Field::replace("machine_type").compare(Compare::GcpRef),
    Field::replace("accelerator").compare(Compare::GcpRef),
    Field::replace("boot_disk").compare(Compare::GcpRef),
    gcp_common::NETWORK,
    gcp_common::SUBNETWORK,
    Field::replace("service_account").server_filled(),
    Field::replace("scopes").server_filled(),
    Field::replace("scheduling"),
    Field::new("labels"),
    Field::new("metadata"),
];

/// Metadata key recording the boot image as written (a family resolves to
/// a concrete image on the Disk, so the Disk cannot say which was asked for).
const META_BOOT_IMAGE: &str = "gantry-boot-image";

/// A network as Compute accepts it: a bare name becomes `global/networks/NAME`.
fn network_ref(n: &str) -> String {
    if n.contains('/') {
        n.to_string()
    } else {
        format!("global/networks/{n}")
    }
}

fn s<'a>(a: &'a State, k: &str) -> &'a str {
    a.get(k).and_then(Value::as_str).unwrap_or_default()
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
    fn change_notes(&self, changes: &[crate::core::AttrChange]) -> Vec<String> {
        gcp_common::startup_script_note(changes)
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
        gcp_common::insert_network(&mut st, a);
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

    fn live(&self, zone: &str, inst: &Instance, disks: &BTreeMap<String, Disk>, scope_stack: &str) -> LiveResource {
        let name = inst.name.clone().unwrap_or_default();
        let labels: BTreeMap<String, String> = inst.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let meta: BTreeMap<String, String> = inst
            .metadata
            .as_ref()
            .map(|m| m.items.iter().map(|i| (i.key.clone().unwrap_or_default(), i.value.clone().unwrap_or_default())).collect())
            .unwrap_or_default();
        let (user_labels, owner_stack, owner_address) = ownership(&labels, &meta, scope_stack);
        let user_meta: BTreeMap<&String, &String> = meta.iter().filter(|(k, _)| !k.starts_with("gantry-")).collect();
        // The boot disk's size, type and image live on its Disk (initializeParams is input only).
        let boot = inst.disks.iter().find(|d| d.boot.unwrap_or(false));
        let disk = boot.and_then(|b| b.source.as_deref()).and_then(|src| disks.get(src.rsplit('/').next().unwrap_or(src)));
        let boot_disk = disk.map(|d| {
            let mut st = gcp_common::disk_state(d);
            st["image"] = meta.get(META_BOOT_IMAGE).cloned().or_else(|| d.source_image.clone()).map(Value::String).unwrap_or(Value::Null);
            st
        });
        let nic = inst.network_interfaces.first();
        let sa = inst.service_accounts.first();
        let sched = inst.scheduling.as_ref();
        let mut st = State::new();
        st.insert("zone".into(), json!(zone));
        st.insert("name".into(), json!(name));
        st.insert("machine_type".into(), json!(inst.machine_type));
        st.insert(
            "accelerator".into(),
            inst.guest_accelerators.first().map(|g| json!({"type": g.accelerator_type, "count": g.accelerator_count})).unwrap_or(Value::Null),
        );
        st.insert("boot_disk".into(), boot_disk.unwrap_or(Value::Null));
        gcp_common::insert_live_network(
            &mut st,
            nic.and_then(|n| n.network.as_deref()),
            nic.and_then(|n| n.subnetwork.as_deref()),
            sa.and_then(|s| s.email.as_deref()),
            sa.map(|s| s.scopes.as_slice()).unwrap_or_default(),
        );
        st.insert(
            "scheduling".into(),
            json!({"spot": sched.and_then(|s| s.provisioning_model.as_ref()).map(|m| m.name() == Some("SPOT")).unwrap_or(false),
                   "on_host_maintenance": sched.and_then(|s| s.on_host_maintenance.as_ref()).and_then(|m| m.name())}),
        );
        st.insert("labels".into(), user_labels);
        st.insert("metadata".into(), json!(user_meta));
        st.insert("status".into(), json!(inst.status.as_ref().and_then(|s| s.name())));
        LiveResource { identity: format!("{zone}/{name}"), owner_stack, owner_address, state: st }
    }

    fn metadata_items(desired: &State, owner: &Owner) -> Vec<Value> {
        let mut m: BTreeMap<String, String> = desired
            .get("metadata")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        m.insert(META_ADDRESS.into(), owner.address.clone());
        if let Some(image) = desired.get("boot_disk").and_then(|b| b.get("image")).and_then(Value::as_str) {
            m.insert(META_BOOT_IMAGE.into(), image.to_string());
        }
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
    /// One paged instance list per zone, plus one paged disk list per zone
    /// with instances of ours (for their boot disks).
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let zones = gcp_common::zones_to_read(scope);
        let stack_label = label_safe(&scope.stack);
        let per_zone = futures::future::try_join_all(zones.iter().map(|z| {
            let stack_label = stack_label.clone();
            async move {
                let mut found = Vec::new();
                let mut token = String::new();
                loop {
                    let page = call(&self.ctx.stats, "compute", "ListInstances", || {
                        self.ctx
                            .instances
                            .list()
                            .set_project(&self.ctx.project)
                            .set_zone(z.clone())
                            .set_max_results(500u32)
                            .set_page_token(token.clone())
                            .send()
                    })
                    .await?;
                    for inst in page.items {
                        let name = inst.name.clone().unwrap_or_default();
                        let ours = inst.labels.get(LABEL_STACK) == Some(&stack_label);
                        if ours || scope.identities.iter().any(|i| *i == format!("{z}/{name}")) {
                            found.push(inst);
                        }
                    }
                    // Follow the token even after an empty page (AIP-158).
                    match page.next_page_token {
                        Some(t) if !t.is_empty() => token = t,
                        _ => break,
                    }
                }
                let disks = if found.is_empty() { BTreeMap::new() } else { gcp_common::list_disks(&self.ctx, z).await? };
                Ok::<_, ProviderError>(found.iter().map(|i| self.live(z, i, &disks, &scope.stack)).collect::<Vec<_>>())
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
            "networkInterfaces": [{"network": network_ref(desired.get("network").and_then(Value::as_str).unwrap_or("default"))}],
            "labels": owned_labels(desired.get("labels"), &owner.stack, &owner.address),
            "metadata": {"items": Self::metadata_items(desired, owner)},
        });
        if let Some(sub) = desired.get("subnetwork").and_then(Value::as_str) {
            body["networkInterfaces"][0]["subnetwork"] = json!(sub);
        }
        // "default" asks Compute for the project's default service account.
        let email = desired.get("service_account").and_then(Value::as_str).unwrap_or("default");
        let scopes = desired.get("scopes").filter(|v| !v.is_null()).cloned().unwrap_or(json!([gcp_common::DEFAULT_SCOPE]));
        body["serviceAccounts"] = json!([{"email": email, "scopes": scopes}]);
        let inst: google_cloud_compute_v1::model::Instance =
            serde_json::from_value(body).map_err(|e| ProviderError::new(ErrorClass::Other, "compute", "InsertInstance", format!("bad instance body: {e}")))?;
        owner.note("creating instance (long-running operation)".into());
        compute_op(&self.ctx.stats, "InsertInstance", || {
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
            compute_op(&self.ctx.stats, "SetLabels", || {
                self.ctx.instances.set_labels().set_project(&self.ctx.project).set_zone(zone).set_instance(name).set_body(req.clone()).poller().until_done()
            })
            .await?;
        }
        if changed.iter().any(|c| c == "metadata" || c == "owner") {
            let md: google_cloud_compute_v1::model::Metadata =
                serde_json::from_value(json!({"items": Self::metadata_items(desired, owner), "fingerprint": current.pointer("/metadata/fingerprint")}))
                    .map_err(|e| ProviderError::new(ErrorClass::Other, "compute", "SetMetadata", e.to_string()))?;
            compute_op(&self.ctx.stats, "SetMetadata", || {
                self.ctx.instances.set_metadata().set_project(&self.ctx.project).set_zone(zone).set_instance(name).set_body(md.clone()).poller().until_done()
            })
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let zone = s(&live.state, "zone");
        let name = s(&live.state, "name");
        match compute_op(&self.ctx.stats, "DeleteInstance", || {
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
