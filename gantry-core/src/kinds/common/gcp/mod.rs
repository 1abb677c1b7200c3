//! Shared by the Google Cloud kinds: label-safe ownership labels, zone and
//! label validation, the agent startup script.

pub mod description_marker;
pub mod extras;
pub mod iam_binding;
pub mod node;
pub mod runner;
pub use node::{NodeNetwork, NodeSpec};

use crate::core::error::ProviderError;
use crate::core::{Compare, Diagnostic, Field, State};
use serde_json::Value;
use std::collections::BTreeMap;

/// Ownership labels (label-safe forms of stack and address).
pub const LABEL_STACK: &str = "gantry-stack";
/// The stack label (see [`LABEL_STACK`]): the label-safe address.
pub const LABEL_ADDRESS: &str = "gantry-address";
/// Label recording `protect = true` on the node itself.
pub const LABEL_PROTECT: &str = "gantry-protect";
/// Metadata key holding the exact address (labels are lossy).
pub const META_ADDRESS: &str = "gantry-address";
/// Metadata key holding the exact owner key ([`crate::core::owner_key`]):
/// label values are lowercase, so stacks `GC` and `gc` share a label, and
/// `@` is not allowed in them. The label stays for server-side filtering.
pub const META_STACK: &str = "gantry-stack";

/// A GCP label value: lowercase letters, digits, `_` and `-`, at most 63
/// characters; anything else becomes `-`. Long values keep a hash suffix.
pub fn label_safe(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else if c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-').to_string();
    crate::kinds::common::limit(&trimmed, 63)
}

/// Checks user labels against GCP's rules.
pub fn check_labels(attr: &str, labels: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let ok = |s: &str, max: usize| s.len() <= max && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    for (k, v) in labels {
        if k.is_empty() || !k.starts_with(|c: char| c.is_ascii_lowercase()) || !ok(k, 63) {
            out.push(Diagnostic::attr(
                attr,
                format!("label key \"{k}\" must start with a lowercase letter and use only lowercase letters, digits, _ and - (max 63)"),
            ));
        }
        if !ok(v, 63) {
            out.push(Diagnostic::attr(attr, format!("label value \"{v}\" may use only lowercase letters, digits, _ and - (max 63)")));
        }
        if k.starts_with("gantry-") {
            out.push(Diagnostic::attr(attr, format!("label key \"{k}\" is reserved")));
        }
    }
    out
}

/// `us-central1-a`: region (`letters-lettersDIGITS`) plus a zone letter.
pub fn valid_zone(z: &str) -> bool {
    let parts: Vec<&str> = z.split('-').collect();
    parts.len() == 3
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && !parts[0].is_empty()
        && parts[1].chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && parts[1].chars().last().is_some_and(|c| c.is_ascii_digit())
        && parts[1].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && parts[2].len() == 1
        && parts[2].chars().all(|c| c.is_ascii_lowercase())
}

/// Names of GCE/TPU resources: lowercase, digits and `-`, starting with a letter, at most 63.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.starts_with(|c: char| c.is_ascii_lowercase())
        && !n.ends_with('-')
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A node's network: compared as a resource reference (the APIs answer
/// `projects/P/global/networks/N` or a full URL for `N`).
pub const NETWORK: Field = Field::replace("network").compare(Compare::GcpRef);
/// The scope gantry asks for when a service account is given without
/// scopes: without one the VM cannot call Google APIs; access is then
/// governed by the account's IAM roles (Google's recommended practice).
pub const DEFAULT_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Filled by the server when unset: the network's subnet in the region.
pub const SUBNETWORK: Field = Field::replace("subnetwork").compare(Compare::GcpRef).server_filled();

/// Live network and service-account fields as the API reports them.
pub fn insert_live_network(st: &mut State, network: Option<&str>, subnetwork: Option<&str>, email: Option<&str>, scopes: &[String]) {
    let opt = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(|s| Value::String(s.to_string())).unwrap_or(Value::Null);
    st.insert("network".into(), opt(network));
    st.insert("subnetwork".into(), opt(subnetwork));
    st.insert("service_account".into(), opt(email));
    let mut sorted = scopes.to_vec();
    sorted.sort();
    st.insert("scopes".into(), serde_json::json!(sorted));
}

/// Every item of a paged list: `page(token)` answers one page and the next
/// token ("" at the end). Tokens are followed even after an empty page
/// (AIP-158 allows a page with no items and a next token).
pub async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, ProviderError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, String), ProviderError>>,
{
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        if next.is_empty() {
            return Ok(out);
        }
        token = next;
    }
}

/// Zones a driver lists: those of the stack plus those of the files' nodes.
pub fn zones_to_read(scope: &crate::core::ReadScope) -> Vec<String> {
    let mut zones: Vec<String> = scope.zones.clone();
    zones.extend(scope.identities.iter().filter_map(|i| i.split_once('/').map(|(z, _)| z.to_string())));
    zones.sort();
    zones.dedup();
    zones
}

const PRELUDE: &str = include_str!("node_prelude.sh");
const STARTUP: &str = include_str!("agent_startup.sh");

const GPU_SETUP: &str = include_str!("gpu_setup.sh");

/// What a node's startup script sets up besides its agent or runner.
#[derive(Clone, Copy, Debug, Default)]
pub struct Machine<'a> {
    /// The data disk's stable device path ("" without one).
    pub data_device: &'a str,
    /// A GPU machine: wait for the NVIDIA driver, Docker's NVIDIA runtime.
    pub gpu: bool,
}

/// The start of every generated startup script: the data disk, Docker, the GPU.
fn prelude(what: &str, node: &str, m: Machine) -> String {
    PRELUDE
        .replace("{{WHAT}}", what)
        .replace("{{NODE}}", node)
        .replace("{{DATA_DEVICE}}", m.data_device)
        .replace("{{GPU_SETUP}}", if m.gpu { GPU_SETUP } else { "" })
}

/// Metadata is updated in place, but a VM runs its startup script only when
/// it boots: a running node keeps its old agent set-up until then. gantry
/// does not reboot CI machines (a job may be running); the plan says so.
pub fn startup_script_note(action: crate::core::Action, changes: &[crate::core::AttrChange]) -> Vec<String> {
    let script = |v: &Value| serde_json::from_value::<BTreeMap<String, String>>(v.clone()).ok().and_then(|mut m| m.remove("startup-script"));
    changes
        .iter()
        .filter(|c| action == crate::core::Action::Update && c.name == "metadata" && script(&c.before) != script(&c.after))
        .map(|_| "the startup script changes: it runs at the node's next boot; until then the running agent keeps its current set-up (reboot or replace the node to apply it now)".to_string())
        .collect()
}

/// Labels a resource should carry: the user's plus ownership.
pub fn owned_labels(user: &BTreeMap<String, String>, owner: &crate::core::Owner) -> BTreeMap<String, String> {
    let (stack, address) = (owner.stack.as_str(), owner.address.as_str());
    let mut l = user.clone();
    l.insert(LABEL_STACK.into(), label_safe(stack));
    l.insert(LABEL_ADDRESS.into(), label_safe(address));
    if owner.protect {
        l.insert(LABEL_PROTECT.into(), "true".into());
    }
    l
}

/// Metadata gantry writes for ownership (exact stack owner and address).
pub fn owned_metadata(owner: &crate::core::Owner) -> [(&'static str, String); 2] {
    [(META_STACK, owner.stack.clone()), (META_ADDRESS, owner.address.clone())]
}

/// Splits live labels/metadata into (user labels, owner key, owner address).
/// The owner comes from metadata (exact); a node written before gantry
/// recorded it there has only the lowercased label, read as the scope's
/// owner when it matches (ambiguous between stacks differing in case).
pub fn ownership(labels: &BTreeMap<String, String>, metadata: &BTreeMap<String, String>, scope_owner: &str) -> (Value, Option<String>, Option<String>) {
    // `goog-` labels are added by Google services themselves, never by the user.
    let user: serde_json::Map<String, Value> =
        labels.iter().filter(|(k, _)| !k.starts_with("gantry-") && !k.starts_with("goog-")).map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let legacy = || labels.get(LABEL_STACK).map(|s| if *s == label_safe(scope_owner) { scope_owner.to_string() } else { s.clone() });
    let stack = metadata.get(META_STACK).cloned().or_else(legacy);
    (Value::Object(user), stack, metadata.get(META_ADDRESS).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_are_made_safe() {
        assert_eq!(label_safe("tpu_node.v6e[3]"), "tpu_node-v6e-3");
        assert_eq!(label_safe("Stack.Name"), "stack-name");
        assert!(label_safe(&"x".repeat(100)).len() <= 63);
    }

    #[test]
    fn the_owner_is_read_exactly_from_metadata_and_labels_only_filter() {
        let owner = |stack: &str| crate::core::Owner { stack: stack.into(), address: "tpu_node.n".into(), protect: false, notes: None };
        let (upper, lower) = (owner("GC"), owner("gc"));
        assert_eq!(owned_labels(&BTreeMap::new(), &upper)[LABEL_STACK], owned_labels(&BTreeMap::new(), &lower)[LABEL_STACK], "one label: lowercase");
        let meta = |o: &crate::core::Owner| owned_metadata(o).map(|(k, v)| (k.to_string(), v)).into_iter().collect::<BTreeMap<_, _>>();
        let labels = owned_labels(&BTreeMap::new(), &upper);
        assert_eq!(ownership(&labels, &meta(&upper), "gc").1.as_deref(), Some("GC"), "seen from gc, GC's node is GC's");
        assert_eq!(ownership(&labels, &meta(&lower), "GC").1.as_deref(), Some("gc"));
        // Written before the owner was in metadata: the label, as the scope's when it matches.
        assert_eq!(ownership(&labels, &BTreeMap::new(), "GC").1.as_deref(), Some("GC"));
        // A workspace owner keeps its `@` in metadata; its label is the derived name's.
        let ws = owner("ow@dev");
        assert_eq!(owned_labels(&BTreeMap::new(), &ws)[LABEL_STACK], "ow-dev");
        assert_eq!(ownership(&owned_labels(&BTreeMap::new(), &ws), &meta(&ws), "ow-dev").1.as_deref(), Some("ow@dev"));
    }

    #[test]
    fn zones_names_and_labels() {
        assert!(valid_zone("us-east5-b") && valid_zone("europe-west4-a"));
        assert!(!valid_zone("us-east5") && !valid_zone("US-east5-b") && !valid_zone("us-east-b"));
        assert!(valid_name("tpu-v6e-ci-3") && !valid_name("Tpu") && !valid_name("1abc") && !valid_name("a-"));
        assert!(check_labels("labels", &node::typed(json!({"team": "ci"}))).is_empty());
        assert_eq!(check_labels("labels", &node::typed(json!({"Team": "CI", "gantry-x": "y"}))).len(), 3);
    }

    #[test]
    fn startup_script_snapshot() {
        let s = node::startup_script(
            "tpu-v6e-ci-0",
            &node::typed(json!({"queue": "tpu_v6e_queue", "token_secret": "bk-agent-token", "agents": 1, "tags": {"accelerator": "v6e"}})),
            Machine { data_device: crate::kinds::tpu_node::DATA_DEVICE, gpu: false },
        );
        assert!(!s.contains("{{"), "every placeholder is filled");
        insta::assert_snapshot!("tpu_agent_startup", s);
    }
}
