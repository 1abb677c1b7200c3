//! `tpu_node`: a Cloud TPU v2 node (TPU VM) running a CI agent, optionally
//! with a data disk (a Compute Engine disk created with it and attached).
//!
//! ```hcl
//! tpu_node "v6e" {
//!   count            = 16
//!   name             = "tpu-v6e-ci-${count.index}"
//!   zone             = "us-east5-b"
//!   accelerator_type = "v6e-1"
//!   runtime_version  = "v2-alpha-tpuv6e"
//!   data_disk {
//!     size_gb = 512
//!     type    = "hyperdisk-balanced"
//!   }
//!   agent {
//!     queue        = "tpu_v6e_queue"
//!     token_secret = "bk-agent-token"
//!   }
//! }
//! ```
//! Zone, accelerator type, runtime version, network, scheduling, service
//! account and data disk force replacement; labels and metadata (including
//! the startup script) are updated in place.

use crate::core::schema::{HasSchema, Schema};
use crate::core::{default_attr, Diagnostic, Env, Field, State};
use crate::kinds::common::gcp;

pub mod spec;
use spec::{Desired, Spec};

/// The `tpu_node` kind.
pub struct TpuNode;

// What the TPU API fills or rewrites (REST reference, `Node`): the network
// comes back as `projects/P/global/networks/N`, the subnetwork and the
// service account (with its scope) are chosen by the server when not sent.
static FIELDS: &[Field] = &[
    Field::replace("zone"),
    Field::replace("name"),
    Field::replace("accelerator_type"),
    Field::replace("runtime_version"),
    gcp::NETWORK,
    gcp::SUBNETWORK,
    Field::replace("scheduling"),
    Field::replace("service_account").server_filled(),
    Field::replace("scopes").server_filled(),
    Field::replace("data_disk"),
    Field::new("labels"),
    Field::new("metadata"),
];

/// Whether a runtime version belongs to the accelerator's generation.
pub fn runtime_matches(accelerator: &str, runtime: &str) -> bool {
    let gen = accelerator.split('-').next().unwrap_or("");
    match gen {
        "v6e" => runtime.contains("tpuv6e"),
        "v5litepod" | "v5e" => runtime.contains("tpuv5-lite") || runtime.contains("v5e"),
        "v5p" => runtime.contains("tpuv5") && !runtime.contains("lite"),
        "v4" | "v3" | "v2" => !runtime.contains("tpuv5") && !runtime.contains("tpuv6"),
        _ => true,
    }
}

/// The data disk types a TPU generation accepts ("Attach durable block
/// storage to a TPU VM", Cloud TPU docs: v6e takes Hyperdisk Balanced or
/// Hyperdisk ML; v2, v3, v4, v5e and v5p take Balanced Persistent Disk
/// only). The TPU API refuses others only after gantry has created the
/// disk, so they are refused at validate. `None`: a generation the table
/// does not know (no check).
pub fn data_disk_types(accelerator: &str) -> Option<&'static [&'static str]> {
    match accelerator.split('-').next().unwrap_or("") {
        "v6e" => Some(&["hyperdisk-balanced", "hyperdisk-ml"]),
        "v2" | "v3" | "v4" | "v5litepod" | "v5e" | "v5p" => Some(&["pd-balanced"]),
        _ => None,
    }
}

/// The stable name of a TPU VM's first data disk. The TPU API gives no
/// device name, so Compute assigns `persistent-disk-1` (the boot disk is
/// `-0`) and udev links it as `google-persistent-disk-1` ("Disk symlinks",
/// Compute docs); `/dev/sdb` is wrong on v6e, whose hyperdisks are NVMe.
pub const DATA_DEVICE: &str = "/dev/disk/by-id/google-persistent-disk-1";

impl crate::core::TypedKind for TpuNode {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "tpu_node"
    }
    fn doc(&self) -> &'static str {
        "A Cloud TPU v2 node (TPU VM) running a CI agent, with an optional data disk."
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
        // A TPU VM cannot stop itself: a runner's idle_stop must be 0s.
        let mut out = spec.node.check(false);
        let (acc, rt) = (spec.accelerator_type.as_str(), spec.runtime_version.as_str());
        if !acc.contains('-') || acc.split('-').nth(1).is_none_or(|n| n.parse::<u32>().is_err()) {
            out.push(Diagnostic::attr("accelerator_type", format!("\"{acc}\" is not an accelerator type (GENERATION-CHIPS, e.g. v6e-8)")));
        } else if !runtime_matches(acc, rt) {
            out.push(Diagnostic::attr("runtime_version", format!("runtime \"{rt}\" does not match accelerator {acc} (e.g. v6e needs v2-alpha-tpuv6e)")));
        }
        let disk_type = spec.data_disk.as_ref().map(|d| d.disk_type.as_str()).unwrap_or("");
        if let Some(allowed) = data_disk_types(acc).filter(|t| !disk_type.is_empty() && !t.contains(&disk_type)) {
            out.push(Diagnostic::attr(
                "data_disk.type",
                format!("{acc} takes only {} data disks, not {disk_type} (Cloud TPU, \"Attach durable block storage to a TPU VM\")", allowed.join(" or ")),
            ));
        }
        if spec.spot && spec.preemptible {
            out.push(Diagnostic::attr("spot", "spot and preemptible cannot both be set"));
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
    /// Cloud TPU bills per chip-hour: `v6e-8` is 8 chips, `v5litepod-4` 4
    /// (v5e); `v4-8` and `v5p-8` count TensorCores, two per chip.
    fn capacity(&self, st: &State) -> Option<crate::core::Capacity> {
        let d = Desired::parse(st, "capacity").ok()?;
        let t = d.accelerator_type.rsplit('/').next().unwrap_or(&d.accelerator_type);
        let (family, n) = t.rsplit_once('-')?;
        let n: u32 = n.parse().ok()?;
        let part = match family {
            "v5litepod" | "v5e" => ("tpu-v5e".to_string(), n),
            "v6e" => ("tpu-v6e".to_string(), n),
            "v5p" => ("tpu-v5p".to_string(), n.div_ceil(2)),
            "v4" => ("tpu-v4".to_string(), n.div_ceil(2)),
            other => (format!("tpu-{other}"), n),
        };
        let bought_on_demand = !(d.scheduling.spot || d.scheduling.preemptible);
        Some(crate::core::Capacity {
            cloud: "gcp".into(),
            location: d.zone,
            types: vec![],
            parts: vec![part],
            min: 1,
            max: 1,
            on_demand_percent: if bought_on_demand { 100 } else { 0 },
        })
    }
    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let n = &spec.node;
        n.outputs(format!("projects/{}/locations/{}/nodes/{}", env.gcp_project, n.zone, n.name))
    }
    fn desired_state(&self, spec: &Spec, env: &Env) -> State {
        spec.desired(env).to_state()
    }
}
