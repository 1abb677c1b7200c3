//! Shared by the Google Cloud kinds' drivers: the Compute Engine disk
//! calls both node kinds make ([`DiskApi`]) and writing IAM policies. The
//! pure helpers (labels, zones, names, startup scripts, IAM grants) are
//! gantry-core's `kinds::common::gcp`, re-exported here.

mod disks;
#[cfg(test)]
pub(crate) mod fake;
pub(crate) mod iam_write;
pub use disks::DiskApi;

pub use gantry_core::kinds::common::gcp::*;

use crate::core::error::ProviderError;
use google_cloud_compute_v1::model::Disk;
use serde_json::Value;
use std::collections::BTreeMap;

/// Every disk of a zone by name.
pub(crate) async fn list_disks<A: DiskApi + ?Sized>(api: &A, zone: &str) -> Result<BTreeMap<String, Disk>, ProviderError> {
    let disks = all_pages(|token| async move { api.list_disks(zone, &token).await }).await?;
    Ok(disks.into_iter().filter_map(|d| d.name.clone().map(|n| (n, d))).collect())
}

/// A disk's comparable state: size and type (the API answers the type as a full URL).
pub(crate) fn disk_state(d: &Disk) -> Value {
    let kind = d.r#type.as_deref().map(|t| t.rsplit('/').next().unwrap_or(t)).unwrap_or_default();
    serde_json::json!({"size_gb": d.size_gb.unwrap_or(0), "type": kind})
}
