//! The Compute Engine disk calls both node kinds make: a TPU's data disk
//! and a GPU instance's boot disk (whose size and type live on the Disk,
//! since `initializeParams` is input only).

use crate::cloud::gcp::{call, compute_op, GcpContext};
use crate::core::error::ProviderError;
use async_trait::async_trait;
use google_cloud_compute_v1::model::Disk;
use google_cloud_lro::Poller;

/// Disks of one project.
#[async_trait]
pub trait DiskApi: Send + Sync {
    /// The project every call addresses.
    fn project(&self) -> &str;
    /// One page of a zone's disks and the next page token ("" at the end).
    async fn list_disks(&self, zone: &str, page_token: &str) -> Result<(Vec<Disk>, String), ProviderError>;
    /// Creates a disk and waits for the operation.
    async fn insert_disk(&self, zone: &str, disk: Disk) -> Result<(), ProviderError>;
    /// Deletes a disk and waits for the operation.
    async fn delete_disk(&self, zone: &str, name: &str) -> Result<(), ProviderError>;
}

#[async_trait]
impl DiskApi for GcpContext {
    fn project(&self) -> &str {
        &self.project
    }

    async fn list_disks(&self, zone: &str, page_token: &str) -> Result<(Vec<Disk>, String), ProviderError> {
        let page = call(&self.stats, "compute", "ListDisks", || {
            self.disks.list().set_project(&self.project).set_zone(zone).set_max_results(500u32).set_page_token(page_token).send()
        })
        .await?;
        Ok((page.items, page.next_page_token.unwrap_or_default()))
    }

    async fn insert_disk(&self, zone: &str, disk: Disk) -> Result<(), ProviderError> {
        compute_op(&self.stats, "InsertDisk", || self.disks.insert().set_project(&self.project).set_zone(zone).set_body(disk.clone()).poller().until_done())
            .await
    }

    async fn delete_disk(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        compute_op(&self.stats, "DeleteDisk", || self.disks.delete().set_project(&self.project).set_zone(zone).set_disk(name).poller().until_done()).await
    }
}
