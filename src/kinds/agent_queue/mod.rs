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
