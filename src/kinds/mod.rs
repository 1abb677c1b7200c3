//! Resource kinds, one module each. A newcomer finds a kind's whole story —
//! schema, checks, desired state, live read, create/update/delete — in its
//! module.

pub mod agent_queue;
pub mod ci_role;
pub mod ecr;
mod iam_common;
pub mod oidc_provider;

use crate::engine::kind::Kind;

/// Every kind gantry knows, in documentation order.
pub fn all() -> &'static [&'static dyn Kind] {
    static KINDS: &[&dyn Kind] = &[&ecr::EcrRepository, &oidc_provider::GithubOidcProvider, &ci_role::CiRole, &agent_queue::AgentQueue];
    KINDS
}

/// Looks a kind up by its block name.
pub fn by_name(name: &str) -> Option<&'static dyn Kind> {
    all().iter().copied().find(|k| k.name() == name)
}

/// Drivers for every AWS kind, sharing one configuration.
pub fn aws_drivers(ctx: &crate::cloud::aws::AwsContext) -> std::collections::BTreeMap<String, std::sync::Arc<dyn crate::engine::kind::Driver>> {
    let mut m: std::collections::BTreeMap<String, std::sync::Arc<dyn crate::engine::kind::Driver>> = std::collections::BTreeMap::new();
    m.insert(ecr::EcrRepository.name().to_string(), std::sync::Arc::new(ecr::EcrDriver::new(ctx.ecr())));
    let iam = ctx.iam();
    m.insert(oidc_provider::GithubOidcProvider.name().to_string(), std::sync::Arc::new(oidc_provider::OidcDriver::new(iam.clone())));
    m.insert(ci_role::CiRole.name().to_string(), std::sync::Arc::new(ci_role::RoleDriver::new(iam)));
    m.insert(agent_queue::AgentQueue.name().to_string(), std::sync::Arc::new(agent_queue::QueueDriver::new(ctx.clone())));
    m
}
