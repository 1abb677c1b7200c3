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

use crate::core::schema::{HasSchema, Schema};
use crate::core::{default_attr, Compare, Diagnostic, Env, Field, State};
use crate::kinds::common::gcp::{self, iam_binding};

pub mod spec;
use spec::{Desired, Spec};

/// The `gpu_node` kind.
pub struct GpuNode;

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
pub const META_INSTALL_DRIVER: &str = "install-nvidia-driver";

/// The project an image (or image family) reference names.
fn image_project(image: &str) -> Option<&str> {
    let rest = image.split("projects/").nth(1)?;
    rest.split('/').next()
}

/// Whether an image is a Deep Learning VM image (whose older families
/// install the driver at first boot when asked to in metadata).
fn boot_image_is_dlvm(image: &str) -> bool {
    image_project(image) == Some("deeplearning-platform-release")
}

/// Whether a boot image is known to give jobs a working NVIDIA driver.
pub fn gpu_ready_image(image: &str) -> bool {
    matches!(image_project(image), Some("deeplearning-platform-release" | "ubuntu-os-accelerator-images"))
}

/// Metadata key recording the boot image as written (a family resolves to
/// a concrete image on the Disk, so the Disk cannot say which was asked for).
pub const META_BOOT_IMAGE: &str = "gantry-boot-image";

/// A network as Compute accepts it: a bare name becomes `global/networks/NAME`.
pub fn network_ref(n: &str) -> String {
    if n.contains('/') {
        n.to_string()
    } else {
        format!("global/networks/{n}")
    }
}

impl crate::core::TypedKind for GpuNode {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "gpu_node"
    }
    fn doc(&self) -> &'static str {
        "A Compute Engine instance with GPUs running a CI agent."
    }
    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    /// `name` defaults to the block label.
    fn fill_defaults(&self, label: &str, _env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
    }
    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = spec.node.check(true);
        out.extend(iam_binding::check(&spec.iam_binding));
        if spec.accelerator.is_none() {
            out.push(Diagnostic::attr("accelerator", "add accelerator { type = \"nvidia-l4\" count = 1 }"));
        }
        let image = spec.boot_image();
        if spec.gpu_image_check.unwrap_or(true) && !gpu_ready_image(image) {
            out.push(Diagnostic::attr(
                "boot_disk.image",
                format!("{image} has no NVIDIA driver, so jobs cannot see the GPU; use a Deep Learning VM image (the default, {DEFAULT_IMAGE}) or an ubuntu-os-accelerator-images image, or set gpu_image_check = false if your image has the driver"),
            ));
        }
        out
    }
    fn identity(&self, spec: &Spec) -> String {
        spec.node.identity()
    }
    fn zone(&self, spec: &Spec) -> Option<String> {
        Some(spec.node.zone.clone())
    }
    fn change_notes(&self, action: crate::core::Action, changes: &[crate::core::AttrChange], _desired: &State) -> Vec<String> {
        gcp::startup_script_note(action, changes)
    }
    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let n = &spec.node;
        n.outputs(format!("projects/{}/zones/{}/instances/{}", env.gcp_project, n.zone, n.name))
    }
    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        iam_binding::broadening(before, after)
    }
    /// One machine; a GPU bills apart unless the machine type includes it
    /// (the accelerator-optimized families: a2, a3, a4, g2, g4).
    fn capacity(&self, st: &State) -> Option<crate::core::Capacity> {
        let d = Desired::parse(st, "capacity").ok()?;
        let last = |v: &str| v.rsplit('/').next().unwrap_or(v).to_string();
        let machine = last(&d.machine_type);
        if machine.is_empty() {
            return None;
        }
        let bundled = ["a2-", "a3-", "a4-", "g2-", "g4-"].iter().any(|p| machine.starts_with(p));
        let parts = match &d.accelerator {
            Some(a) if !bundled => vec![(last(&a.gpu_type), a.count.max(1) as u32)],
            _ => Vec::new(),
        };
        Some(crate::core::Capacity {
            cloud: "gcp".into(),
            location: d.zone,
            types: vec![machine],
            parts,
            min: 1,
            max: 1,
            on_demand_percent: if d.scheduling.spot { 0 } else { 100 },
        })
    }
}
