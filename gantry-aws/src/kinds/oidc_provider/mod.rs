//! `github_oidc_provider`: the I/O half (driver, its narrow API and the SDK behind
//! it). The pure half (block, rules, desired state) is gantry-core's
//! `kinds::oidc_provider`, re-exported here.

mod api;
mod driver;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
pub(crate) use driver::OidcDriver;

pub use gantry_core::kinds::oidc_provider::*;

use crate::cloud::aws::AwsContext;
use crate::core::Driver;
use std::sync::Arc;

/// The kind's driver over the account's clients (the registry's entry).
pub fn driver(c: &AwsContext) -> Arc<dyn Driver> {
    Arc::new(OidcDriver::new(Arc::new(c.iam())))
}
