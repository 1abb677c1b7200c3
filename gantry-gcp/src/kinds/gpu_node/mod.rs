//! `gpu_node`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::gpu_node`, re-exported here.

pub(crate) mod api;
mod driver;
mod node_control;
#[cfg(test)]
mod tests;
pub(crate) use driver::GpuDriver;
pub use node_control::{NodeControl, NodeState};

pub use gantry_core::kinds::gpu_node::*;

/// The kind's driver over the project's clients (the registry's entry).
pub fn driver(c: &crate::cloud::gcp::GcpContext) -> std::sync::Arc<dyn crate::core::Driver> {
    std::sync::Arc::new(GpuDriver::new(std::sync::Arc::new(c.clone())))
}
