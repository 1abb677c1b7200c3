//! Helpers shared by several kinds: Google Cloud nodes (labels, zones, the
//! agent startup script) and IAM (tags, sorted lists).

pub mod gcp;
pub mod iam;
#[cfg(test)]
pub mod script_bench;
