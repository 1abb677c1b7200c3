//! Helpers shared by several kinds: Google Cloud nodes (labels, zones, the
//! agent startup script) and IAM (tags, sorted lists).

pub mod aws_tags;
pub mod gcp;
pub mod github_runner;
pub mod iam;
pub mod lost_create;

/// Installs the GitHub Actions runner (`{{RUNNER_VERSION}}` to fill): the
/// same steps on EC2 instances and Compute Engine machines.
pub const RUNNER_INSTALL: &str = include_str!("runner_install.sh");
#[cfg(test)]
pub mod script_bench;
