//! `gcp_custom_role`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::gcp_custom_role`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod tests;
pub(crate) use driver::RoleDriver;

pub use gantry_core::kinds::gcp_custom_role::*;

/// The kind's driver over the project's clients (the registry's entry).
pub fn driver(c: &crate::cloud::gcp::GcpContext) -> std::sync::Arc<dyn crate::core::Driver> {
    std::sync::Arc::new(RoleDriver::new(std::sync::Arc::new(c.iam.clone())))
}
