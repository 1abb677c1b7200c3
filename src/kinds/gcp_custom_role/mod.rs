//! `gcp_custom_role`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::gcp_custom_role`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod tests;
pub(crate) use driver::RoleDriver;

pub(crate) use gantry_core::kinds::gcp_custom_role::*;
