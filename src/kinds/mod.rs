//! Resource kinds' I/O halves, one folder each with the same shape:
//! `driver.rs`, the narrow API trait it calls (`api.rs`, with the SDK
//! behind it), a fake of that API and the driver's tests. Each kind's pure
//! half (typed block, rules, desired state, outputs) is the folder of the
//! same name in gantry-core's `kinds`, which the `mod.rs` here re-exports:
//! the crate boundary keeps every SDK out of it. [`REGISTRY`] has one entry
//! per kind; nothing else lists kinds.

pub mod agent_queue;
pub(crate) mod ci_role;
pub(crate) mod common;
pub(crate) mod ecr;
pub(crate) mod ecr_public;
pub(crate) mod oidc_provider;
pub(crate) mod s3_bucket;
// The Google Cloud kinds' drivers are gantry-gcp's (same paths here).
pub use gantry_gcp::kinds::{gcp_custom_role, gcp_service_account, gcp_workload_identity_pool, gpu_node, tpu_node};
#[cfg(test)]
mod spec_agreement;

use crate::cloud::aws::AwsContext;
use crate::cloud::gcp::GcpContext;
use crate::cloud::tagging::AwsTagged;
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
    Entry {
        kind: &ecr::EcrRepository,
        cloud: Cloud::Aws(|c| Arc::new(ecr::EcrDriver::new(Arc::new(c.ecr())).with_discovery(Arc::new(AwsTagged::new(c.clone())), c.region()))),
    },
    Entry { kind: &ecr_public::EcrPublicRepository, cloud: Cloud::Aws(|c| Arc::new(ecr_public::EcrPublicDriver::new(Arc::new(c.ecr_public())))) },
    Entry {
        kind: &s3_bucket::S3Bucket,
        cloud: Cloud::Aws(|c| {
            let api = s3_bucket::S3Client { client: c.s3(), region: c.region() };
            Arc::new(s3_bucket::S3Driver::new(Arc::new(api), c.region()).with_discovery(Arc::new(AwsTagged::new(c.clone()))))
        }),
    },
    Entry { kind: &oidc_provider::GithubOidcProvider, cloud: Cloud::Aws(|c| Arc::new(oidc_provider::OidcDriver::new(Arc::new(c.iam())))) },
    Entry { kind: &ci_role::CiRole, cloud: Cloud::Aws(|c| Arc::new(ci_role::RoleDriver::new(Arc::new(c.iam())))) },
    Entry {
        kind: &agent_queue::AgentQueue,
        cloud: Cloud::Aws(|c| {
            Arc::new(agent_queue::QueueDriver::new(Arc::new(agent_queue::AwsQueueApi::new(c.clone()))).with_discovery(Arc::new(AwsTagged::new(c.clone()))))
        }),
    },
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
