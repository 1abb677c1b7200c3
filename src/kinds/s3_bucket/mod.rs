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

pub(crate) use gantry_core::kinds::s3_bucket::*;
