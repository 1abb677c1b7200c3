//! Resource kinds, one module each. A newcomer finds a kind's whole story —
//! schema, checks, desired state, live read, create/update/delete — in its
//! module.

pub mod agent_queue;
pub mod ci_role;
pub mod ecr;
mod gcp_common;
pub mod gpu_node;
mod iam_common;
pub mod oidc_provider;
pub mod tpu_node;

use crate::core::Kind;

/// Every kind gantry knows, in documentation order.
pub fn all() -> &'static [&'static dyn Kind] {
    static KINDS: &[&dyn Kind] =
        &[&ecr::EcrRepository, &oidc_provider::GithubOidcProvider, &ci_role::CiRole, &agent_queue::AgentQueue, &tpu_node::TpuNode, &gpu_node::GpuNode];
    KINDS
}

/// Looks a kind up by its block name.
pub fn by_name(name: &str) -> Option<&'static dyn Kind> {
    all().iter().copied().find(|k| k.name() == name)
}

/// Drivers for every AWS kind, sharing one configuration.
pub fn aws_drivers(ctx: &crate::cloud::aws::AwsContext) -> std::collections::BTreeMap<String, std::sync::Arc<dyn crate::core::Driver>> {
    let mut m: std::collections::BTreeMap<String, std::sync::Arc<dyn crate::core::Driver>> = std::collections::BTreeMap::new();
    m.insert(ecr::EcrRepository.name().to_string(), std::sync::Arc::new(ecr::EcrDriver::new(ctx.ecr())));
    let iam = ctx.iam();
    m.insert(oidc_provider::GithubOidcProvider.name().to_string(), std::sync::Arc::new(oidc_provider::OidcDriver::new(iam.clone())));
    m.insert(ci_role::CiRole.name().to_string(), std::sync::Arc::new(ci_role::RoleDriver::new(iam)));
    m.insert(agent_queue::AgentQueue.name().to_string(), std::sync::Arc::new(agent_queue::QueueDriver::new(ctx.clone())));
    m
}

/// Drivers for the Google Cloud kinds.
pub fn gcp_drivers(ctx: &crate::cloud::gcp::GcpContext) -> std::collections::BTreeMap<String, std::sync::Arc<dyn crate::core::Driver>> {
    let mut m: std::collections::BTreeMap<String, std::sync::Arc<dyn crate::core::Driver>> = std::collections::BTreeMap::new();
    m.insert(tpu_node::TpuNode.name().to_string(), std::sync::Arc::new(tpu_node::TpuDriver::new(ctx.clone())));
    m.insert(gpu_node::GpuNode.name().to_string(), std::sync::Arc::new(gpu_node::GpuDriver::new(ctx.clone())));
    m
}

/// Kinds that live in Google Cloud (the rest are AWS).
pub fn is_gcp(kind: &str) -> bool {
    kind == "tpu_node" || kind == "gpu_node"
}
