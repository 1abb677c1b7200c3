//! Cloud client construction: AWS config (region, endpoint, retries,
//! timeouts), error classification and the API-call counter behind `--stats`.

pub mod aws;
pub mod buildkite;
pub mod gcp;
pub mod gcp_catalog;
pub mod gcp_iam;
pub mod gcp_rest;
pub mod github;
pub mod managed_policies;
pub mod pricing;
pub mod s3;
pub mod stats;
pub mod tagged_cache;
pub mod tagging;

/// A timestamp as the REST APIs write it (`2026-12-04T10:00:05.250Z`;
/// Buildkite's and GitHub's), None when absent or not one.
pub fn api_time(text: Option<&str>) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(text?.trim_end_matches('Z')).ok()
}
