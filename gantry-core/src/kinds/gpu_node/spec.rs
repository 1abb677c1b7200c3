//! The `gpu_node` block and its comparable state as types: the rules, the
//! desired state and the driver read fields, not JSON by key.

use super::{boot_image_is_dlvm, DEFAULT_IMAGE, META_INSTALL_DRIVER};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::State;
use crate::kinds::common::gcp::iam_binding::{self, BindingBlock, Grants};
use crate::kinds::common::gcp::{Machine, NodeNetwork, NodeSpec};
use crate::kinds::common::null_as_default;
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
    /// Machine type, e.g. g2-standard-24.
    #[schema(required, forces_replacement)]
    pub machine_type: String,
    /// The GPUs (required).
    #[schema(block)]
    pub accelerator: Option<Accelerator>,
    /// The boot disk (image, size, type).
    #[schema(block, implied)]
    pub boot_disk: Option<BootDisk>,
    /// Spot provisioning.
    #[schema(default = false, forces_replacement)]
    pub spot: bool,
    /// An ephemeral external IP (false: the subnetwork needs Cloud NAT for the bootstrap's downloads).
    #[schema(default = true, forces_replacement)]
    pub external_ip: Option<bool>,
    /// Refuse boot images that are not known to carry the NVIDIA driver (false: your image has it).
    #[schema(default = true)]
    pub gpu_image_check: Option<bool>,
    /// IAM bindings on the instance itself (who may start, stop or SSH).
    #[schema(block = iam_binding::BLOCK)]
    pub iam_binding: Vec<BindingBlock>,
}

/// The `accelerator { }` block, and the GPUs as read back (a type URL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Schema)]
#[serde(default)]
pub struct Accelerator {
    /// GPU type, e.g. nvidia-l4, nvidia-tesla-a100.
    #[serde(rename = "type", deserialize_with = "null_as_default")]
    #[schema(required)]
    pub gpu_type: String,
    /// GPUs per machine.
    #[serde(deserialize_with = "null_as_default")]
    #[schema(default = 1, range(1, 16))]
    pub count: i64,
}

/// The `boot_disk { }` block, and the disk as read back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Schema)]
#[serde(default)]
pub struct BootDisk {
    /// Source image or image family URL (default: a Deep Learning VM image with the NVIDIA driver).
    #[schema(default = DEFAULT_IMAGE)]
    pub image: Option<String>,
    /// Boot disk size.
    #[schema(default = 200, range(10, 65536))]
    pub size_gb: i64,
    /// Disk type.
    #[serde(rename = "type")]
    #[schema(default = "pd-balanced", one_of("pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-balanced"))]
    pub disk_type: String,
}

/// How the instance is bought and what happens at host maintenance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scheduling {
    /// Spot provisioning.
    pub spot: bool,
    /// What the host does at maintenance: TERMINATE, which GPUs require (gantry always sets it).
    pub on_host_maintenance: Option<String>,
}

/// The comparable state (the kind's fields), as the plan carries it and
/// the driver reads it back; a live instance reads into it too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Desired {
    /// The node's zone.
    pub zone: String,
    /// The node's name.
    pub name: String,
    /// Machine type, e.g. g2-standard-24.
    #[serde(deserialize_with = "null_as_default")]
    pub machine_type: String,
    /// The GPUs (required).
    pub accelerator: Option<Accelerator>,
    /// The boot disk (image, size, type).
    pub boot_disk: Option<BootDisk>,
    /// Network, subnetwork, service account and scopes.
    #[serde(flatten)]
    pub net: NodeNetwork,
    /// An ephemeral external IP (false: the subnetwork needs Cloud NAT for the bootstrap's downloads).
    pub external_ip: bool,
    /// Spot, preemptible or reserved capacity.
    pub scheduling: Scheduling,
    /// The user's labels and gantry's ownership labels.
    pub labels: BTreeMap<String, String>,
    /// Metadata: the startup script and gantry's ownership keys.
    pub metadata: BTreeMap<String, String>,
    /// Role to members, from the `iam_binding` blocks.
    pub iam: Grants,
}

impl Spec {
    /// The boot image the block asks for (the default when it names none).
    pub fn boot_image(&self) -> &str {
        self.boot_disk.as_ref().and_then(|b| b.image.as_deref()).unwrap_or(DEFAULT_IMAGE)
    }

    /// The desired state this block asks for.
    pub fn desired(&self) -> Desired {
        let n = &self.node;
        let mut metadata = n.metadata(Machine { data_device: "", gpu: self.accelerator.is_some() }, &self.machine_type);
        if boot_image_is_dlvm(self.boot_image()) {
            metadata.entry(META_INSTALL_DRIVER.into()).or_insert_with(|| "True".into());
        }
        Desired {
            zone: n.zone.clone(),
            name: n.name.clone(),
            machine_type: self.machine_type.clone(),
            accelerator: self.accelerator.clone(),
            boot_disk: self.boot_disk.clone(),
            net: n.network(),
            external_ip: self.external_ip.unwrap_or(true),
            // GPUs cannot live-migrate.
            scheduling: Scheduling { spot: self.spot, on_host_maintenance: Some("TERMINATE".into()) },
            labels: n.labels.clone(),
            metadata,
            iam: iam_binding::desired(&self.iam_binding),
        }
    }
}

impl Desired {
    /// A state as the plan holds it (or a live one); the error names the call it was for.
    pub fn parse(state: &State, operation: &'static str) -> Result<Desired, ProviderError> {
        crate::kinds::common::read_desired(state).map_err(|e| ProviderError::google(ErrorClass::Other, "compute", operation, e))
    }

    /// As the plan's comparable state.
    pub fn to_state(&self) -> State {
        crate::kinds::common::to_state(self)
    }
}
