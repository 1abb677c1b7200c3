//! Cloud client construction: AWS config (region, endpoint, retries,
//! timeouts), error classification and the API-call counter behind `--stats`.

pub(crate) mod aws;
pub(crate) mod buildkite;
pub(crate) mod ec2;
pub(crate) mod ec2_xml;
// The Google Cloud clients are gantry-gcp's (same paths here).
pub use gantry_gcp::cloud::{gcp, gcp_catalog};
pub(crate) mod github;
pub(crate) mod managed_policies;
pub(crate) mod pricing;
pub mod s3;
pub mod stats;
pub(crate) mod tagged_cache;
pub(crate) mod tagging;

/// A timestamp as the REST APIs write it (`2026-12-04T10:00:05.250Z`;
/// Buildkite's and GitHub's), None when absent or not one.
pub fn api_time(text: Option<&str>) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(text?.trim_end_matches('Z')).ok()
}
