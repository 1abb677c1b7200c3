//! The REST clients of the CI services (Buildkite, GitHub); the clouds'
//! clients are gantry-aws's and gantry-gcp's, re-exported under the same
//! paths.

pub(crate) mod buildkite;
pub(crate) mod github;

pub use gantry_aws::cloud::{aws, ec2, ec2_xml, managed_policies, pricing, s3, stats};
pub use gantry_gcp::cloud::{gcp, gcp_catalog};

/// A timestamp as the REST APIs write it (`2026-12-04T10:00:05.250Z`;
/// Buildkite's and GitHub's), None when absent or not one.
pub fn api_time(text: Option<&str>) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(text?.trim_end_matches('Z')).ok()
}
