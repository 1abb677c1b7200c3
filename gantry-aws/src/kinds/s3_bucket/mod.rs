//! `s3_bucket`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::s3_bucket`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod fake;
mod lifecycle_sdk;
#[cfg(test)]
mod tests;
pub(crate) use api::S3Client;
pub(crate) use driver::S3Driver;

pub use gantry_core::kinds::s3_bucket::*;

use crate::cloud::aws::AwsContext;
use crate::cloud::tagging::AwsTagged;
use crate::core::Driver;
use std::sync::Arc;

/// The kind's driver over the account's clients (the registry's entry).
pub fn driver(c: &AwsContext) -> Arc<dyn Driver> {
    let api = S3Client { client: c.s3(), region: c.region() };
    Arc::new(S3Driver::new(Arc::new(api), c.region()).with_discovery(Arc::new(AwsTagged::new(c.clone()))))
}
