//! The Cloud TPU v2 calls a `tpu_node` driver makes (its data disk goes
//! through [`DiskApi`]). Long-running calls wait for their operation.

use crate::cloud::gcp::{call, GcpContext};
use crate::core::error::ProviderError;
use crate::kinds::common::gcp::DiskApi;
use async_trait::async_trait;
use google_cloud_lro::Poller;
use google_cloud_tpu_v2::model::Node;
use google_cloud_wkt::FieldMask;

/// TPU nodes of one project.
#[async_trait]
pub(crate) trait TpuApi: DiskApi {
    /// One page of a zone's nodes and the next page token ("" at the end).
    async fn list_nodes(&self, zone: &str, page_token: &str) -> Result<(Vec<Node>, String), ProviderError>;
    async fn create_node(&self, zone: &str, id: &str, node: Node) -> Result<(), ProviderError>;
    /// Updates the fields in `mask` from `node` (whose `name` is the full resource name).
    async fn update_node(&self, node: Node, mask: FieldMask) -> Result<(), ProviderError>;
    async fn delete_node(&self, name: &str) -> Result<(), ProviderError>;
}

fn parent(project: &str, zone: &str) -> String {
    format!("projects/{project}/locations/{zone}")
}

#[async_trait]
impl TpuApi for GcpContext {
    async fn list_nodes(&self, zone: &str, page_token: &str) -> Result<(Vec<Node>, String), ProviderError> {
        let page = call(&self.stats, "tpu", "ListNodes", || {
            self.tpu.list_nodes().set_parent(parent(&self.project, zone)).set_page_size(500).set_page_token(page_token).send()
        })
        .await?;
        Ok((page.nodes, page.next_page_token))
    }

    async fn create_node(&self, zone: &str, id: &str, node: Node) -> Result<(), ProviderError> {
        call(&self.stats, "tpu", "CreateNode", || {
            self.tpu.create_node().set_parent(parent(&self.project, zone)).set_node_id(id).set_node(node.clone()).poller().until_done()
        })
        .await
        .map(drop)
    }

    async fn update_node(&self, node: Node, mask: FieldMask) -> Result<(), ProviderError> {
        call(&self.stats, "tpu", "UpdateNode", || self.tpu.update_node().set_node(node.clone()).set_update_mask(mask.clone()).poller().until_done())
            .await
            .map(drop)
    }

    async fn delete_node(&self, name: &str) -> Result<(), ProviderError> {
        call(&self.stats, "tpu", "DeleteNode", || self.tpu.delete_node().set_name(name).poller().until_done()).await.map(drop)
    }
}
