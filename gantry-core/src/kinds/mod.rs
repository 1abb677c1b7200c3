//! The kinds' pure halves: each kind's block as a typed `Spec` (its schema
//! derived from it), its rules, desired state and outputs. The I/O half
//! (the driver, its narrow API trait and the SDK behind it) lives in its
//! cloud's crate (gantry-aws, gantry-gcp); the `gantry` crate lists every
//! kind once in its registry.

pub mod agent_queue;
pub mod ci_role;
pub mod common;
pub mod ecr;
pub mod ecr_public;
pub mod gcp_custom_role;
pub mod gcp_service_account;
pub mod gcp_workload_identity_pool;
pub mod gpu_node;
pub mod oidc_provider;
pub mod s3_bucket;
pub mod tpu_node;
