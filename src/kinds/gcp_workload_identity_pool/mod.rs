//! `gcp_workload_identity_pool`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::gcp_workload_identity_pool`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod tests;
pub(crate) use driver::PoolDriver;

pub(crate) use gantry_core::kinds::gcp_workload_identity_pool::*;
