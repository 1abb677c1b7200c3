//! The I/O half of `tpu_node`: reads and writes through the cloud API.

use super::api::TpuApi;
use super::spec::{DataDisk, Desired};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::Discovery;
use crate::core::{Driver, LiveResource, Owner, ReadScope, State};
use crate::kinds::common::gcp::{self, label_safe, owned_labels, ownership, LABEL_STACK};
use async_trait::async_trait;
use google_cloud_compute_v1::model::Disk;
use google_cloud_tpu_v2::model::Node;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;

/// TPU driver (TPU v2 API; data disks through Compute Engine disks).
pub(crate) struct TpuDriver {
    api: Arc<dyn TpuApi>,
}

impl TpuDriver {
    pub(crate) fn new(api: Arc<dyn TpuApi>) -> Self {
        TpuDriver { api }
    }

    fn parent(&self, zone: &str) -> String {
        format!("projects/{}/locations/{zone}", self.api.project())
    }

    fn disk_name(node: &str) -> String {
        format!("{node}-data")
    }

    /// Every node of a zone.
    async fn list_zone(&self, zone: &str) -> Result<Vec<Node>, ProviderError> {
        gcp::all_pages(|token| async move { self.api.list_nodes(zone, &token).await }).await
    }

    fn live(&self, zone: &str, node: &Node, scope_stack: &str) -> LiveResource {
        let name = node.name.rsplit('/').next().unwrap_or_default().to_string();
        let labels: BTreeMap<String, String> = node.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let meta: BTreeMap<String, String> = node.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let (user_labels, owner_stack, owner_address) = ownership(&labels, &meta, scope_stack);
        let user_meta: BTreeMap<&String, &String> = meta.iter().filter(|(k, _)| !k.starts_with("gantry-")).collect();
        let mut st = State::new();
        st.insert("zone".into(), json!(zone));
        st.insert("name".into(), json!(name));
        st.insert("accelerator_type".into(), json!(node.accelerator_type));
        st.insert("runtime_version".into(), json!(node.runtime_version));
        let net = node.network_config.as_ref();
        let sa = node.service_account.as_ref();
        gcp::insert_live_network(
            &mut st,
            net.map(|n| n.network.as_str()),
            net.map(|n| n.subnetwork.as_str()),
            sa.map(|s| s.email.as_str()),
            sa.map(|s| s.scope.as_slice()).unwrap_or_default(),
        );
        // Proto3 JSON omits an all-false scheduling config: absent means all false.
        let sched = node.scheduling_config.clone().unwrap_or_default();
        st.insert("scheduling".into(), json!({"spot": sched.spot, "preemptible": sched.preemptible, "reserved": sched.reserved}));
        // The data disk's size and type live on the disk: filled in by read().
        st.insert("data_disk".into(), Value::Null);
        st.insert("labels".into(), user_labels);
        st.insert("metadata".into(), json!(user_meta));
        st.insert("state".into(), json!(node.state.name()));
        LiveResource { identity: format!("{zone}/{name}"), owner_stack, owner_address, protected: labels.contains_key(gcp::LABEL_PROTECT), state: st }
    }

    fn node_body(&self, desired: &Desired, owner: &Owner) -> Result<Node, ProviderError> {
        let (zone, name) = (&desired.zone, &desired.name);
        let mut metadata = desired.metadata.clone();
        for (key, value) in gcp::owned_metadata(owner) {
            metadata.insert(key.to_string(), value);
        }
        let net = &desired.net;
        let mut body = json!({
            "acceleratorType": desired.accelerator_type,
            "runtimeVersion": desired.runtime_version,
            "networkConfig": {"network": net.network.as_deref().unwrap_or("default"), "enableExternalIps": true},
            "schedulingConfig": desired.scheduling,
            "labels": owned_labels(&desired.labels, owner),
            "metadata": metadata,
        });
        if let Some(sub) = &net.subnetwork {
            body["networkConfig"]["subnetwork"] = json!(sub);
        }
        // Unset service account or scopes: the server chooses (see FIELDS).
        if net.service_account.is_some() || net.scopes.is_some() {
            let scopes = net.scopes.clone().unwrap_or_else(|| vec![gcp::DEFAULT_SCOPE.to_string()]);
            body["serviceAccount"] = json!({"email": net.service_account.as_deref().unwrap_or_default(), "scope": scopes});
        }
        if desired.data_disk.is_some() {
            body["dataDisks"] =
                json!([{"sourceDisk": format!("projects/{}/zones/{zone}/disks/{}", self.api.project(), Self::disk_name(name)), "mode": "READ_WRITE"}]);
        }
        serde_json::from_value(body).map_err(|e| ProviderError::google(ErrorClass::Other, "tpu", "CreateNode", format!("bad node body: {e}")))
    }

    /// Creates the node's data disk; `true` when this call created it.
    async fn create_disk(&self, desired: &Desired, disk: &DataDisk, owner: &Owner) -> Result<bool, ProviderError> {
        let zone = desired.zone.as_str();
        let body = json!({
            "name": Self::disk_name(&desired.name),
            "sizeGb": disk.size_gb.to_string(),
            "type": format!("projects/{}/zones/{zone}/diskTypes/{}", self.api.project(), disk.disk_type),
            "labels": owned_labels(&BTreeMap::new(), owner),
        });
        let disk: Disk = serde_json::from_value(body).map_err(|e| ProviderError::google(ErrorClass::Other, "compute", "InsertDisk", e.to_string()))?;
        match self.api.insert_disk(zone, disk).await {
            Ok(_) => Ok(true),
            // Left from an earlier attempt (e.g. an apply stopped between the
            // two creates): reuse it.
            Err(e) if e.class == ErrorClass::Conflict => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn delete_disk(&self, zone: &str, node: &str) -> Result<(), ProviderError> {
        match self.api.delete_disk(zone, &Self::disk_name(node)).await {
            Ok(_) => Ok(()),
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Driver for TpuDriver {
    /// One paged list across every location (`locations/-`: AIP-159's
    /// wildcard collection, which nodes.list serves — its answer names
    /// `unreachable` locations): the zones holding the stack's nodes.
    async fn discover(&self, scope: &ReadScope) -> Result<Discovery, ProviderError> {
        let label = label_safe(&scope.owner);
        let nodes = self.list_zone("-").await?;
        let zones: BTreeSet<String> = nodes
            .iter()
            .filter(|n| n.labels.get(LABEL_STACK) == Some(&label))
            .filter_map(|n| {
                let zone = n.name.split("/locations/").nth(1)?.split('/').next()?.to_string();
                (self.live(&zone, n, &scope.owner).owner_stack.as_deref() == Some(scope.owner.as_str())).then_some(zone)
            })
            .collect();
        Ok(Discovery { owned: !zones.is_empty(), zones: zones.into_iter().filter(|z| !scope.zones.contains(z)).collect() })
    }

    /// One paged list of nodes per zone, plus one paged disk list per zone
    /// where a node has a data disk (its size and type live on the disk).
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let zones = gcp::zones_to_read(scope);
        let stack_label = label_safe(&scope.owner);
        let per_zone = futures::future::try_join_all(zones.iter().map(|z| {
            let stack_label = stack_label.clone();
            async move {
                let nodes: Vec<_> = self
                    .list_zone(z)
                    .await?
                    .into_iter()
                    .filter(|n| {
                        n.labels.get(LABEL_STACK) == Some(&stack_label)
                            || scope.identities.iter().any(|i| i == &format!("{z}/{}", n.name.rsplit('/').next().unwrap_or_default()))
                    })
                    .collect();
                let disks = if nodes.iter().any(|n| !n.data_disks.is_empty()) { gcp::list_disks(self.api.as_ref(), z).await? } else { BTreeMap::new() };
                Ok::<_, ProviderError>(
                    nodes
                        .into_iter()
                        .map(|n| {
                            let disk = n.data_disks.first().and_then(|d| disks.get(d.source_disk.rsplit('/').next().unwrap_or_default()));
                            let mut l = self.live(z, &n, &scope.owner);
                            l.state.insert("data_disk".into(), disk.map(gcp::disk_state).unwrap_or(Value::Null));
                            l
                        })
                        .collect::<Vec<_>>(),
                )
            }
        }))
        .await?;
        Ok(per_zone.into_iter().flatten().collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "CreateNode")?;
        let node = self.node_body(&desired, owner)?;
        let (zone, name) = (desired.zone.as_str(), desired.name.as_str());
        let mut created_disk = false;
        if let Some(disk) = &desired.data_disk {
            owner.note("creating data disk".into());
            created_disk = self.create_disk(&desired, disk, owner).await?;
        }
        owner.note("creating node (long-running operation)".into());
        let Err(e) = self.api.create_node(zone, name, node).await else { return Ok(()) };
        // A node the API refused leaves no disk this apply made: a stray
        // disk bills, and a later apply would meet it half-made. When the
        // outcome is unknown (a lost answer, a wait that gave up while the
        // operation may still finish) the disk may be attaching: kept.
        let refused = !matches!(e.class, ErrorClass::Network | ErrorClass::Throttled) && !e.message.contains("may still finish");
        if created_disk && refused {
            owner.note("the node was not created: deleting the data disk this apply created".into());
            if let Err(d) = self.delete_disk(zone, name).await {
                return Err(ProviderError::google(
                    e.class,
                    "tpu",
                    "CreateNode",
                    format!("{}; the data disk {} it created could not be deleted either ({}): delete it by hand", e.message, Self::disk_name(name), d.message),
                ));
            }
        }
        Err(e)
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let mut mask = Vec::new();
        if changed.iter().any(|c| c == "labels" || c == "owner") {
            mask.push("labels");
        }
        if changed.iter().any(|c| c == "metadata" || c == "owner") {
            mask.push("metadata");
        }
        if mask.is_empty() {
            return Ok(());
        }
        let desired = Desired::parse(desired, "UpdateNode")?;
        let mut node = self.node_body(&desired, owner)?;
        node.name = format!("{}/nodes/{}", self.parent(&desired.zone), live.identity.rsplit('/').next().unwrap_or_default());
        let update_mask = google_cloud_wkt::FieldMask::default().set_paths(mask);
        self.api.update_node(node, update_mask).await
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let node = Desired::parse(&live.state, "DeleteNode")?;
        let (zone, name) = (node.zone, node.name);
        let full = format!("{}/nodes/{name}", self.parent(&zone));
        match self.api.delete_node(&full).await {
            Ok(_) => {}
            Err(e) if e.class == ErrorClass::NotFound => {}
            Err(e) => return Err(e),
        }
        if node.data_disk.is_some() {
            self.delete_disk(&zone, &name).await?;
        }
        Ok(())
    }
}
