//! `gcp_service_account`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::gcp_service_account`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod tests;
pub(crate) use driver::ServiceAccountDriver;

pub use gantry_core::kinds::gcp_service_account::*;

/// The kind's driver over the project's clients (the registry's entry).
pub fn driver(c: &crate::cloud::gcp::GcpContext) -> std::sync::Arc<dyn crate::core::Driver> {
    std::sync::Arc::new(ServiceAccountDriver::new(std::sync::Arc::new(c.iam.clone())))
}
