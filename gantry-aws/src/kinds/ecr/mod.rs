//! `ecr_repository`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::ecr`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
pub(crate) use driver::EcrDriver;

pub use gantry_core::kinds::ecr::*;

use crate::cloud::aws::AwsContext;
use crate::cloud::tagging::AwsTagged;
use crate::core::Driver;
use std::sync::Arc;

/// The kind's driver over the account's clients (the registry's entry).
pub fn driver(c: &AwsContext) -> Arc<dyn Driver> {
    Arc::new(EcrDriver::new(Arc::new(c.ecr())).with_discovery(Arc::new(AwsTagged::new(c.clone())), c.region()))
}
