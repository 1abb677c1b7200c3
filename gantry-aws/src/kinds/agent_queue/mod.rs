//! `agent_queue`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::agent_queue`, re-exported here.

mod api;
mod aws;
mod change_set;
mod driver;
#[cfg(test)]
mod fake;
mod function;
mod preflight;
#[cfg(test)]
mod tests;
pub use api::{FunctionApi, LookupApi, QueueApi, StackApi};
pub use aws::AwsQueueApi;
pub use driver::QueueDriver;

pub use gantry_core::kinds::agent_queue::*;

use crate::cloud::aws::AwsContext;
use crate::cloud::tagging::AwsTagged;
use crate::core::Driver;
use std::sync::Arc;

/// The kind's driver over the account's clients (the registry's entry).
pub fn driver(c: &AwsContext) -> Arc<dyn Driver> {
    Arc::new(QueueDriver::new(Arc::new(AwsQueueApi::new(c.clone()))).with_discovery(Arc::new(AwsTagged::new(c.clone()))))
}
