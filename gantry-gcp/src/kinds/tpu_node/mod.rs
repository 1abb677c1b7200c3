//! `tpu_node`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::tpu_node`, re-exported here.

pub(crate) mod api;
mod driver;
#[cfg(test)]
mod tests;
pub(crate) use driver::TpuDriver;

pub use gantry_core::kinds::tpu_node::*;

/// The kind's driver over the project's clients (the registry's entry).
pub fn driver(c: &crate::cloud::gcp::GcpContext) -> std::sync::Arc<dyn crate::core::Driver> {
    std::sync::Arc::new(TpuDriver::new(std::sync::Arc::new(c.clone())))
}
