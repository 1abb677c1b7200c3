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
//!     size_gb = 200   # image: a Deep Learning VM image with the NVIDIA driver
//!   }
//!   agent {
//!     queue        = "gpu_l4_queue"
//!     token_secret = "bk-agent-token"
//!   }
//! }
//! ```
//! GPUs require `onHostMaintenance = TERMINATE`, which gantry always sets.
//!
//! What a GPU machine needs to run a job, and why gantry sees to it:
//! - a driver: plain Ubuntu or Debian images have none, so jobs cannot see
//!   the GPU. The default image is a Deep Learning VM image
//!   (`deeplearning-platform-release`, "Choose an image": the `-nvidia-`
//!   families ship the driver; older families install it at first boot
//!   when the metadata `install-nvidia-driver=True` is set, which gantry
//!   sets for every Deep Learning VM image). Ubuntu's accelerator images
//!   (`ubuntu-os-accelerator-images`) ship the driver too. Any other image
//!   is refused unless `gpu_image_check = false` (an image of your own with
//!   the driver baked in). The startup script waits for `nvidia-smi` and
//!   makes the NVIDIA container toolkit Docker's runtime when present.
//! - a route out: without an access config an instance has no external IP
//!   and, without Cloud NAT, cannot fetch Docker, the agent or the runner
//!   (Compute docs, "IP addresses"). `external_ip = true` (the default) asks
//!   for an ephemeral one; `external_ip = false` needs Cloud NAT (or Private
//!   Google Access and mirrors) on the subnetwork.
//!
//! `iam_binding { role, members }` blocks are the instance's whole IAM
//! policy (e.g. a custom role letting the wake job's service account start
//! this one machine; see `common::gcp::iam_binding`).
//!
//! Labels, metadata and IAM bindings are updated in place; everything else (zone, machine
//! type, GPUs, boot disk, network, external IP, service account, spot) forces
//! replacement.
//!
//! Real Compute Engine shapes (REST reference, `instances` and `disks`):
//! references come back as full URLs; `initializeParams` is input only, so
//! the boot disk's size and type are read from its Disk; an image family
//! resolves to a concrete image on the Disk, so the image as written is
//! recorded in the instance's `gantry-boot-image` metadata; with no service
//! account gantry asks for the project's default (`email = "default"`, as
//! gcloud does) so the agent can read its token, and the server answers
//! with the real address.

use crate::core::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::core::{default_attr, text, AttrProblem, Compare, Env, Field, Kind, State};
use crate::kinds::common::gcp::{self, iam_binding, AGENT};
use serde_json::{json, Value};

mod api;
mod driver;
#[cfg(test)]
mod tests;
pub use api::GpuApi;
pub use driver::GpuDriver;

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
        Attr::new("image", Ty::String, "Source image or image family URL (default: a Deep Learning VM image with the NVIDIA driver).")
            .default(DefaultValue::Str(DEFAULT_IMAGE)),
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
        Attr::new("external_ip", Ty::Bool, "An ephemeral external IP (false: the subnetwork needs Cloud NAT for the bootstrap's downloads).")
            .default(DefaultValue::Bool(true))
            .forces_replacement(),
        Attr::new("gpu_image_check", Ty::Bool, "Refuse boot images that are not known to carry the NVIDIA driver (false: your image has it).")
            .default(DefaultValue::Bool(true)),
    ],
    blocks: &[
        NestedBlock { name: "accelerator", schema: &ACCELERATOR, repeated: false, implied: false, doc: "The GPUs (required)." },
        NestedBlock { name: "boot_disk", schema: &BOOT_DISK, repeated: false, implied: true, doc: "The boot disk (image, size, type)." },
        NestedBlock { name: "agent", schema: &AGENT, repeated: false, implied: false, doc: "Run a CI agent for a queue (renders the startup script)." },
        NestedBlock {
            name: "runner",
            schema: &gcp::runner::RUNNER,
            repeated: false,
            implied: false,
            doc: "Run a GitHub Actions runner instead (one job per configuration from `gantry runner wake`; renders the startup script).",
        },
        iam_binding::BLOCK,
    ],
};

static FIELDS: &[Field] = &[
    Field::replace("zone"),
    Field::replace("name"),
    Field::replace("machine_type").compare(Compare::GcpRef),
    Field::replace("accelerator").compare(Compare::GcpRef),
    Field::replace("boot_disk").compare(Compare::GcpRef),
    gcp::NETWORK,
    gcp::SUBNETWORK,
    Field::replace("external_ip"),
    Field::replace("service_account").server_filled(),
    Field::replace("scopes").server_filled(),
    Field::replace("scheduling"),
    Field::new("labels"),
    Field::new("metadata"),
    Field::new("iam"),
];

/// The default boot image: Deep Learning VM, CUDA 12.8 with the NVIDIA 570
/// driver preinstalled, Ubuntu 22.04 (Deep Learning VM docs, "Choose an image").
pub const DEFAULT_IMAGE: &str = "projects/deeplearning-platform-release/global/images/family/common-cu128-ubuntu-2204-nvidia-570";

/// Metadata a Deep Learning VM image reads at first boot to install the
/// NVIDIA driver when its family does not ship one.
pub(super) const META_INSTALL_DRIVER: &str = "install-nvidia-driver";

/// The project an image (or image family) reference names.
fn image_project(image: &str) -> Option<&str> {
    let rest = image.split("projects/").nth(1)?;
    rest.split('/').next()
}

/// The boot image a block asks for (the default when it names none).
fn boot_image(a: &State) -> &str {
    a.get("boot_disk").and_then(|b| b.get("image")).and_then(Value::as_str).unwrap_or(DEFAULT_IMAGE)
}

/// Whether a boot image is known to give jobs a working NVIDIA driver.
pub fn gpu_ready_image(image: &str) -> bool {
    matches!(image_project(image), Some("deeplearning-platform-release" | "ubuntu-os-accelerator-images"))
}

/// Metadata key recording the boot image as written (a family resolves to
/// a concrete image on the Disk, so the Disk cannot say which was asked for).
pub(super) const META_BOOT_IMAGE: &str = "gantry-boot-image";

/// A network as Compute accepts it: a bare name becomes `global/networks/NAME`.
pub(super) fn network_ref(n: &str) -> String {
    if n.contains('/') {
        n.to_string()
    } else {
        format!("global/networks/{n}")
    }
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
    /// `name` defaults to the block label.
    fn fill_defaults(&self, label: &str, _env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
    }
    fn check(&self, a: &State) -> Vec<AttrProblem> {
        let mut out = gcp::check_node(a);
        out.extend(iam_binding::check(a));
        if let Some(r) = a.get("runner") {
            out.extend(gcp::runner::check(r, true));
        }
        if !a.contains_key("accelerator") {
            out.push(AttrProblem::new("accelerator", "add accelerator { type = \"nvidia-l4\" count = 1 }"));
        }
        let image = boot_image(a);
        if a.get("gpu_image_check").and_then(Value::as_bool).unwrap_or(true) && !gpu_ready_image(image) {
            out.push(AttrProblem::new(
                "boot_disk.image",
                format!("{image} has no NVIDIA driver, so jobs cannot see the GPU; use a Deep Learning VM image (the default, {DEFAULT_IMAGE}) or an ubuntu-os-accelerator-images image, or set gpu_image_check = false if your image has the driver"),
            ));
        }
        out
    }
    fn identity(&self, a: &State) -> String {
        gcp::node_identity(a)
    }
    fn zone(&self, a: &State) -> Option<String> {
        a.get("zone").and_then(Value::as_str).map(String::from)
    }
    fn change_notes(&self, action: crate::core::Action, changes: &[crate::core::AttrChange], _desired: &State) -> Vec<String> {
        gcp::startup_script_note(action, changes)
    }
    fn outputs(&self, a: &State, env: &Env) -> State {
        gcp::node_outputs(a, format!("projects/{}/zones/{}/instances/{}", env.gcp_project, text(a, "zone"), text(a, "name")))
    }
    fn desired_state(&self, a: &State, _env: &Env) -> State {
        let name = text(a, "name");
        let mut st = State::new();
        st.insert("zone".into(), json!(text(a, "zone")));
        st.insert("name".into(), json!(name));
        st.insert("machine_type".into(), json!(text(a, "machine_type")));
        st.insert("accelerator".into(), a.get("accelerator").cloned().unwrap_or(Value::Null));
        st.insert("boot_disk".into(), a.get("boot_disk").cloned().unwrap_or(Value::Null));
        gcp::insert_network(&mut st, a);
        st.insert("external_ip".into(), json!(a.get("external_ip").and_then(Value::as_bool).unwrap_or(true)));
        st.insert("scheduling".into(), json!({"spot": a.get("spot") == Some(&Value::Bool(true)), "on_host_maintenance": "TERMINATE"}));
        st.insert("labels".into(), a.get("labels").cloned().unwrap_or(json!({})));
        let mut metadata = gcp::metadata(a, name, "");
        let image = boot_image(a);
        if image_project(image) == Some("deeplearning-platform-release") {
            metadata.entry(META_INSTALL_DRIVER.into()).or_insert_with(|| "True".into());
        }
        st.insert("metadata".into(), json!(metadata));
        st.insert("iam".into(), iam_binding::desired(a));
        st
    }
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        iam_binding::broadening(before, after)
    }
    /// One machine; a GPU bills apart unless the machine type includes it
    /// (the accelerator-optimized families: a2, a3, a4, g2, g4).
    fn capacity(&self, st: &State) -> Option<crate::core::Capacity> {
        let last = |v: &str| v.rsplit('/').next().unwrap_or(v).to_string();
        let machine = last(st.get("machine_type")?.as_str()?);
        let on_demand_percent = gcp::on_demand_percent(st);
        let bundled = ["a2-", "a3-", "a4-", "g2-", "g4-"].iter().any(|p| machine.starts_with(p));
        let acc = st.get("accelerator").filter(|a| !a.is_null());
        let parts = match acc {
            Some(a) if !bundled => vec![(last(a.get("type")?.as_str()?), a.get("count").and_then(Value::as_u64).unwrap_or(1) as u32)],
            _ => Vec::new(),
        };
        Some(crate::core::Capacity {
            cloud: "gcp".into(),
            location: text(st, "zone").to_string(),
            types: vec![machine],
            parts,
            min: 1,
            max: 1,
            on_demand_percent,
        })
    }
}
