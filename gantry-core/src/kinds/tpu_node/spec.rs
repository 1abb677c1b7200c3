//! The `tpu_node` block and its comparable state as types: the rules, the
//! desired state and the driver read fields, not JSON by key.

use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Env, State};
use crate::kinds::common::gcp::{Machine, NodeNetwork, NodeSpec};
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The evaluated block (the loader checked the types and filled the defaults).
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// The attributes every Google Cloud node has.
    #[serde(flatten)]
    pub node: NodeSpec,
    /// e.g. v5litepod-1, v6e-1, v6e-8.
    #[schema(required, forces_replacement)]
    pub accelerator_type: String,
    /// TPU software version, e.g. v2-alpha-tpuv6e.
    #[schema(required, forces_replacement)]
    pub runtime_version: String,
    /// A data disk created and attached with the node.
    #[schema(block)]
    pub data_disk: Option<DataDisk>,
    /// Spot capacity.
    #[schema(default = false, forces_replacement)]
    pub spot: bool,
    /// Preemptible capacity.
    #[schema(default = false, forces_replacement)]
    pub preemptible: bool,
    /// Use a reservation.
    #[schema(default = false, forces_replacement)]
    pub reserved: bool,
}

/// The `data_disk { }` block, and the disk as read back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Schema)]
#[serde(default)]
pub struct DataDisk {
    /// Disk size.
    #[schema(required, range(1, 65536))]
    pub size_gb: i64,
    /// Disk type.
    #[serde(rename = "type")]
    #[schema(
        default = "pd-balanced",
        one_of("pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-balanced", "hyperdisk-ml", "hyperdisk-throughput", "hyperdisk-extreme")
    )]
    pub disk_type: String,
}

/// How the node is bought (the TPU API's `schedulingConfig`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scheduling {
    /// Spot capacity.
    pub spot: bool,
    /// Preemptible capacity.
    pub preemptible: bool,
    /// Use a reservation.
    pub reserved: bool,
}

/// The comparable state (the kind's fields), as the plan carries it and
/// the driver reads it back; a live node reads into it too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// The node's zone.
    pub zone: String,
    /// The node's name.
    pub name: String,
    /// e.g. v5litepod-1, v6e-1, v6e-8.
    pub accelerator_type: String,
    /// TPU software version, e.g. v2-alpha-tpuv6e.
    pub runtime_version: String,
    /// Network, subnetwork, service account and scopes.
    #[serde(flatten)]
    pub net: NodeNetwork,
    /// Spot, preemptible or reserved capacity.
    pub scheduling: Scheduling,
    /// A data disk created and attached with the node.
    pub data_disk: Option<DataDisk>,
    /// The user's labels and gantry's ownership labels.
    pub labels: BTreeMap<String, String>,
    /// Metadata: the startup script and gantry's ownership keys.
    pub metadata: BTreeMap<String, String>,
    /// The project the node lives in.
    pub project: String,
}

impl Spec {
    /// The desired state this block asks for.
    pub fn desired(&self, env: &Env) -> Desired {
        let device = if self.data_disk.is_some() { super::DATA_DEVICE } else { "" };
        let n = &self.node;
        Desired {
            zone: n.zone.clone(),
            name: n.name.clone(),
            accelerator_type: self.accelerator_type.clone(),
            runtime_version: self.runtime_version.clone(),
            net: n.network(),
            scheduling: Scheduling { spot: self.spot, preemptible: self.preemptible, reserved: self.reserved },
            data_disk: self.data_disk.clone(),
            labels: n.labels.clone(),
            metadata: n.metadata(Machine { data_device: device, gpu: false }, &self.accelerator_type),
            project: env.gcp_project.clone(),
        }
    }
}

impl Desired {
    /// A state as the plan holds it (or a live one); the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| ProviderError::google(ErrorClass::Other, "tpu", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
