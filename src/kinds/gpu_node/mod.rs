//! `gpu_node`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::gpu_node`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod tests;
pub use api::GpuApi;
pub use driver::GpuDriver;

pub use gantry_core::kinds::gpu_node::*;
