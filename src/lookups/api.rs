//! The narrow APIs data sources read through: the clouds' (gantry-core's
//! `lookup_api`, implemented by gantry-aws and gantry-gcp) and GitHub's.

pub(crate) use gantry_core::lookup_api::*;

/// The GitHub REST calls data sources make (defined with the client).
pub(crate) use crate::cloud::github::GithubLookupApi;
#[cfg(test)]
pub(crate) use crate::cloud::github::RepositoryListing;
