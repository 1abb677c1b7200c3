//! The I/O half of `gpu_node`: reads and writes instances through [`GpuApi`].

use super::api::GpuApi;
use super::spec::Desired;
use super::{network_ref, META_BOOT_IMAGE};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::Discovery;
use crate::core::{Driver, LiveResource, Owner, ReadScope, State};
use crate::kinds::common::gcp::node::Placement;
use crate::kinds::common::gcp::{self, iam_write, label_safe, owned_labels, ownership, LABEL_STACK};
use async_trait::async_trait;
use google_cloud_compute_v1::model::metadata::Items;
use google_cloud_compute_v1::model::{Disk, Instance, InstancesSetLabelsRequest, Metadata};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Compute Engine driver for GPU instances.
pub(crate) struct GpuDriver {
    api: Arc<dyn GpuApi>,
}

impl GpuDriver {
    /// A driver over `api`.
    pub(crate) fn new(api: Arc<dyn GpuApi>) -> Self {
        GpuDriver { api }
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
            let mut st = gcp::disk_state(d);
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
        gcp::insert_live_network(
            &mut st,
            nic.and_then(|n| n.network.as_deref()),
            nic.and_then(|n| n.subnetwork.as_deref()),
            sa.and_then(|s| s.email.as_deref()),
            sa.map(|s| s.scopes.as_slice()).unwrap_or_default(),
        );
        // An access config is the interface's external IP.
        st.insert("external_ip".into(), json!(nic.is_some_and(|n| !n.access_configs.is_empty())));
        st.insert(
            "scheduling".into(),
            json!({"spot": sched.and_then(|s| s.provisioning_model.as_ref()).map(|m| m.name() == Some("SPOT")).unwrap_or(false),
                   "on_host_maintenance": sched.and_then(|s| s.on_host_maintenance.as_ref()).and_then(|m| m.name())}),
        );
        st.insert("labels".into(), user_labels);
        st.insert("metadata".into(), json!(user_meta));
        st.insert("status".into(), json!(inst.status.as_ref().and_then(|s| s.name())));
        LiveResource { identity: format!("{zone}/{name}"), owner_stack, owner_address, protected: labels.contains_key(gcp::LABEL_PROTECT), state: st }
    }

    /// Writes the blocks' bindings over the live policy (its etag and
    /// conditional bindings kept); nothing when they already match.
    async fn write_policy(&self, zone: &str, name: &str, desired: &Desired) -> Result<(), ProviderError> {
        match iam_write::to_write(&self.api.get_policy(zone, name).await?, &desired.iam) {
            Some(p) => self.api.set_policy(zone, name, &p).await,
            None => Ok(()),
        }
    }

    fn metadata_items(desired: &Desired, owner: &Owner) -> Vec<Items> {
        let mut m = desired.metadata.clone();
        m.extend(gcp::owned_metadata(owner).map(|(k, v)| (k.to_string(), v)));
        if let Some(image) = desired.boot_disk.as_ref().and_then(|b| b.image.as_ref()) {
            m.insert(META_BOOT_IMAGE.into(), image.clone());
        }
        m.into_iter().map(|(k, v)| Items::new().set_key(k).set_value(v)).collect()
    }
}

#[async_trait]
impl Driver for GpuDriver {
    /// One aggregated list across every zone, filtered by the stack's label
    /// on the server: the zones holding the stack's nodes (a zone no block
    /// names any more included, so its nodes are planned for deletion).
    async fn discover(&self, scope: &ReadScope) -> Result<Discovery, ProviderError> {
        let label = label_safe(&scope.owner);
        let all = gcp::all_pages(|token| {
            let label = label.clone();
            async move { self.api.list_labelled(&label, &token).await }
        })
        .await?;
        let no_disks = BTreeMap::new();
        let zones: BTreeSet<String> = all
            .iter()
            .filter(|(z, i)| self.live(z, i, &no_disks, &scope.owner).owner_stack.as_deref() == Some(scope.owner.as_str()))
            .map(|(z, _)| z.clone())
            .collect();
        Ok(Discovery { owned: !zones.is_empty(), zones: zones.into_iter().filter(|z| !scope.zones.contains(z)).collect() })
    }

    /// One paged instance list per zone, plus one paged disk list per zone
    /// with instances of ours (for their boot disks).
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let zones = gcp::zones_to_read(scope);
        let stack_label = label_safe(&scope.owner);
        let per_zone = futures::future::try_join_all(zones.iter().map(|z| {
            let stack_label = stack_label.clone();
            async move {
                let all = gcp::all_pages(|token| async move { self.api.list_instances(z, &token).await }).await?;
                let found: Vec<Instance> = all
                    .into_iter()
                    .filter(|inst| {
                        let name = inst.name.as_deref().unwrap_or_default();
                        inst.labels.get(LABEL_STACK) == Some(&stack_label) || scope.identities.iter().any(|i| *i == format!("{z}/{name}"))
                    })
                    .collect();
                let disks = if found.is_empty() { BTreeMap::new() } else { gcp::list_disks(self.api.as_ref(), z).await? };
                let mut live: Vec<LiveResource> = found.iter().map(|i| self.live(z, i, &disks, &scope.owner)).collect();
                for l in &mut live {
                    let policy = self.api.get_policy(z, &Placement::of(&l.state).name).await?;
                    l.state.insert("iam".into(), serde_json::json!(iam_write::live(&policy)));
                }
                Ok::<_, ProviderError>(live)
            }
        }))
        .await?;
        Ok(per_zone.into_iter().flatten().collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "InsertInstance")?;
        let zone = desired.zone.as_str();
        let acc = desired.accelerator.clone().unwrap_or_default();
        let boot = desired.boot_disk.clone().unwrap_or_default();
        let spot = desired.scheduling.spot;
        let net = &desired.net;
        let mut body = json!({
            "name": desired.name,
            "machineType": format!("zones/{zone}/machineTypes/{}", desired.machine_type),
            "guestAccelerators": [{"acceleratorType": format!("zones/{zone}/acceleratorTypes/{}", acc.gpu_type), "acceleratorCount": acc.count}],
            "disks": [{"boot": true, "autoDelete": true, "initializeParams": {
                "sourceImage": boot.image, "diskSizeGb": boot.size_gb.to_string(),
                "diskType": format!("zones/{zone}/diskTypes/{}", boot.disk_type)}}],
            // GPUs cannot live-migrate.
            "scheduling": {"onHostMaintenance": "TERMINATE", "automaticRestart": !spot, "provisioningModel": if spot { "SPOT" } else { "STANDARD" }},
            "networkInterfaces": [{"network": network_ref(net.network.as_deref().unwrap_or("default"))}],
            "labels": owned_labels(&desired.labels, owner),
        });
        if let Some(sub) = &net.subnetwork {
            body["networkInterfaces"][0]["subnetwork"] = json!(sub);
        }
        // An ephemeral external IP: the bootstrap downloads Docker, the agent
        // or the runner (REST reference, `AccessConfig`; gcloud's default).
        if desired.external_ip {
            body["networkInterfaces"][0]["accessConfigs"] = json!([{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}]);
        }
        // "default" asks Compute for the project's default service account.
        let email = net.service_account.as_deref().unwrap_or("default");
        let scopes = net.scopes.clone().unwrap_or_else(|| vec![gcp::DEFAULT_SCOPE.to_string()]);
        body["serviceAccounts"] = json!([{"email": email, "scopes": scopes}]);
        let inst: Instance = serde_json::from_value(body)
            .map_err(|e| ProviderError::google(ErrorClass::Other, "compute", "InsertInstance", format!("bad instance body: {e}")))?;
        let inst = inst.set_metadata(Metadata::new().set_items(Self::metadata_items(&desired, owner)));
        owner.note("creating instance (long-running operation)".into());
        self.api.insert_instance(zone, inst).await?;
        self.write_policy(zone, &desired.name, &desired).await
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "SetMetadata")?;
        let zone = desired.zone.as_str();
        let live_name = Placement::of(&live.state).name;
        let name = live_name.as_str();
        // Both setters need the fingerprint read last (optimistic locking).
        let current = self.api.get_instance(zone, name).await?;
        if changed.iter().any(|c| c == "labels" || c == "owner") {
            let req = InstancesSetLabelsRequest::new()
                .set_labels(owned_labels(&desired.labels, owner))
                .set_or_clear_label_fingerprint(current.label_fingerprint.clone());
            self.api.set_labels(zone, name, req).await?;
        }
        if changed.iter().any(|c| c == "metadata" || c == "owner") {
            // A runner configuration `gantry runner wake` left is the node's, not the stack's: kept.
            let mut items = Self::metadata_items(&desired, owner);
            let jit = current.metadata.as_ref().and_then(|m| m.items.iter().find(|i| i.key.as_deref() == Some(gcp::runner::META_JITCONFIG)));
            items.extend(jit.cloned());
            let md = Metadata::new().set_items(items).set_or_clear_fingerprint(current.metadata.as_ref().and_then(|m| m.fingerprint.clone()));
            self.api.set_metadata(zone, name, md).await?;
        }
        if changed.iter().any(|c| c == "iam") {
            self.write_policy(zone, name, &desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let at = Placement::of(&live.state);
        match self.api.delete_instance(&at.zone, &at.name).await {
            Ok(_) => Ok(()),
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
