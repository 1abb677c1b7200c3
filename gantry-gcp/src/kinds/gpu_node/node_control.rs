//! What `gantry runner wake` asks of a node, in plain types: its status
//! and metadata (with the fingerprint a metadata write must carry), a
//! metadata write, and a start. Neither write waits for its operation
//! (see `GpuApi::start_instance`): the caller reads the node to see it land.

use super::api::GpuApi;
use crate::cloud::gcp::GcpContext;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use google_cloud_compute_v1::model::metadata::Items;
use google_cloud_compute_v1::model::{Instance, Metadata};
use std::collections::BTreeMap;

/// A node as the wake reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeState {
    /// Compute's status (`RUNNING`, `TERMINATED`, `STOPPING`, ...).
    pub status: String,
    /// Its metadata items.
    pub metadata: BTreeMap<String, String>,
    /// The metadata's fingerprint (opaque bytes): a write must carry the
    /// one read last.
    pub fingerprint: Option<Vec<u8>>,
}

impl From<&Instance> for NodeState {
    fn from(inst: &Instance) -> NodeState {
        let items = inst.metadata.as_ref().map(|m| m.items.as_slice()).unwrap_or_default();
        NodeState {
            status: inst.status.as_ref().and_then(|s| s.name()).unwrap_or("UNKNOWN").to_string(),
            metadata: items.iter().map(|i| (i.key.clone().unwrap_or_default(), i.value.clone().unwrap_or_default())).collect(),
            fingerprint: inst.metadata.as_ref().and_then(|m| m.fingerprint.as_ref()).map(|f| f.to_vec()),
        }
    }
}

/// The node calls of `gantry runner wake`.
#[async_trait]
pub trait NodeControl: Send + Sync {
    /// The node's status and metadata.
    async fn node(&self, zone: &str, name: &str) -> Result<NodeState, ProviderError>;
    /// Asks for the node's metadata to become `items` (every item: the
    /// write replaces them all); `fingerprint` is the one read last.
    async fn request_metadata(&self, zone: &str, name: &str, items: BTreeMap<String, String>, fingerprint: Option<Vec<u8>>) -> Result<(), ProviderError>;
    /// Asks a stopped node to start.
    async fn start(&self, zone: &str, name: &str) -> Result<(), ProviderError>;
}

#[async_trait]
impl NodeControl for GcpContext {
    async fn node(&self, zone: &str, name: &str) -> Result<NodeState, ProviderError> {
        Ok(NodeState::from(&self.get_instance(zone, name).await?))
    }

    async fn request_metadata(&self, zone: &str, name: &str, items: BTreeMap<String, String>, fingerprint: Option<Vec<u8>>) -> Result<(), ProviderError> {
        let md = Metadata::new().set_items(items.into_iter().map(|(k, v)| Items::new().set_key(k).set_value(v))).set_or_clear_fingerprint(fingerprint);
        GpuApi::request_metadata(self, zone, name, md).await
    }

    async fn start(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        self.start_instance(zone, name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_compute_v1::model::instance::Status;

    #[test]
    fn a_node_reads_its_status_metadata_and_fingerprint() {
        let md = Metadata::new().set_items([Items::new().set_key("a").set_value("1"), Items::new().set_key("b")]).set_fingerprint("f1");
        let inst = Instance::new().set_status(Status::Terminated).set_metadata(md);
        let n = NodeState::from(&inst);
        assert_eq!(n.status, "TERMINATED");
        assert_eq!(n.metadata, BTreeMap::from([("a".to_string(), "1".to_string()), ("b".to_string(), String::new())]));
        assert_eq!(n.fingerprint.as_deref(), Some(&b"f1"[..]));
        assert_eq!(NodeState::from(&Instance::new()), NodeState { status: "UNKNOWN".into(), ..Default::default() });
    }
}
