//! Every kind gantry knows, listed once ([`REGISTRY`]): each kind's pure
//! half (typed block, rules, desired state, outputs) is gantry-core's
//! `kinds`; its I/O half (driver, narrow API trait and the SDK behind it,
//! fake, driver tests) is its cloud's crate's, gantry-aws or gantry-gcp,
//! whose `driver(&context)` is the kind's entry here. Each kind's module is
//! re-exported under its name, so `crate::kinds::agent_queue` is the whole
//! kind. Nothing else lists kinds.

// Each kind's I/O half is its cloud's crate's (same paths here).
pub use gantry_aws::kinds::{agent_queue, ci_role, ecr, ecr_public, oidc_provider, s3_bucket};
/// The kinds' pure helpers (gantry-core's).
pub use gantry_core::kinds::common;
pub use gantry_gcp::kinds::{gcp_custom_role, gcp_service_account, gcp_workload_identity_pool, gpu_node, tpu_node};
#[cfg(test)]
mod spec_agreement;

use crate::cloud::aws::AwsContext;
use crate::cloud::gcp::GcpContext;
use crate::core::{Driver, Kind};
use std::sync::Arc;

/// Which cloud a kind lives in, and how its driver is built from that
/// cloud's connection.
#[derive(Clone, Copy)]
pub enum Cloud {
    /// An AWS kind, and how its driver is built.
    Aws(fn(&AwsContext) -> Arc<dyn Driver>),
    /// A Google Cloud kind, and how its driver is built.
    Gcp(fn(&GcpContext) -> Arc<dyn Driver>),
}

/// One kind gantry knows: its pure half and where its driver comes from.
pub struct Entry {
    /// Its pure half.
    pub kind: &'static dyn Kind,
    /// Its cloud and driver.
    pub cloud: Cloud,
}

impl Entry {
    /// True for Google Cloud kinds (the rest are AWS).
    pub fn is_gcp(&self) -> bool {
        matches!(self.cloud, Cloud::Gcp(_))
    }
}

/// Every kind, in documentation order.
pub static REGISTRY: &[Entry] = &[
    Entry { kind: &ecr::EcrRepository, cloud: Cloud::Aws(ecr::driver) },
    Entry { kind: &ecr_public::EcrPublicRepository, cloud: Cloud::Aws(ecr_public::driver) },
    Entry { kind: &s3_bucket::S3Bucket, cloud: Cloud::Aws(s3_bucket::driver) },
    Entry { kind: &oidc_provider::GithubOidcProvider, cloud: Cloud::Aws(oidc_provider::driver) },
    Entry { kind: &ci_role::CiRole, cloud: Cloud::Aws(ci_role::driver) },
    Entry { kind: &agent_queue::AgentQueue, cloud: Cloud::Aws(agent_queue::driver) },
    Entry { kind: &tpu_node::TpuNode, cloud: Cloud::Gcp(tpu_node::driver) },
    Entry { kind: &gpu_node::GpuNode, cloud: Cloud::Gcp(gpu_node::driver) },
    Entry { kind: &gcp_service_account::GcpServiceAccount, cloud: Cloud::Gcp(gcp_service_account::driver) },
    Entry { kind: &gcp_workload_identity_pool::GcpWorkloadIdentityPool, cloud: Cloud::Gcp(gcp_workload_identity_pool::driver) },
    Entry { kind: &gcp_custom_role::GcpCustomRole, cloud: Cloud::Gcp(gcp_custom_role::driver) },
];

/// Every kind's pure half, in documentation order.
pub fn all() -> Vec<&'static dyn Kind> {
    REGISTRY.iter().map(|e| e.kind).collect()
}

/// Looks a kind up by its block name.
pub fn entry(name: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.kind.name() == name)
}

/// True for a Google Cloud kind's block name (its resources live in zones).
pub fn is_gcp(name: &str) -> bool {
    entry(name).is_some_and(Entry::is_gcp)
}

/// Looks a kind's pure half up by its block name.
pub fn by_name(name: &str) -> Option<&'static dyn Kind> {
    entry(name).map(|e| e.kind)
}
