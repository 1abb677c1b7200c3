//! Fakes of external APIs for tests and the demo, and the moto launcher. Each serves the real wire
//! shapes on 127.0.0.1, can be driven in-process or through a small control
//! API, and can inject faults.

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

pub mod aws_pricing;
pub mod aws_proxy;
pub mod aws_spot;
pub mod buildkite;
mod cfn_tokens;
pub mod ecr_public;
pub mod faults;
pub mod gcp;
pub mod gcp_billing;
mod gcp_compute;
mod gcp_iam;
mod gcp_iam_policy;
mod gcp_identity;
mod gcp_paging;
mod gcp_roles;
pub mod gcp_shapes;
mod gcp_store;
pub mod github;
pub mod github_repos;
mod github_runs;
mod github_store;
pub mod lambda_runtime;
pub mod moto;
mod tagging;
