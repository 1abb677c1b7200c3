//! Cloud client construction: AWS config (region, endpoint, retries,
//! timeouts), error classification and the API-call counter behind `--stats`.

pub mod aws;
pub mod buildkite;
pub mod gcp;
pub mod gcp_iam;
pub mod github;
pub mod managed_policies;
pub mod pricing;
pub mod s3;
pub mod stats;
pub mod tagging;
