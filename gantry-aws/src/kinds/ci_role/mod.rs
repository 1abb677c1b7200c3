//! `ci_role`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::ci_role`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
pub(crate) use driver::RoleDriver;

pub use gantry_core::kinds::ci_role::*;

use crate::cloud::aws::AwsContext;
use crate::core::Driver;
use std::sync::Arc;

/// The kind's driver over the account's clients (the registry's entry).
pub fn driver(c: &AwsContext) -> Arc<dyn Driver> {
    Arc::new(RoleDriver::new(Arc::new(c.iam())))
}
