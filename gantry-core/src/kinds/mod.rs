//! The kinds' pure halves: each kind's block as a typed `Spec` (its schema
//! derived from it), its rules, desired state and outputs. The I/O half
//! (the driver, its narrow API trait and the SDK behind it) lives in the
//! `gantry` crate, which lists every kind once in its registry.

pub mod ci_role;
pub mod common;
pub mod ecr;
pub mod ecr_public;
pub mod oidc_provider;
pub mod s3_bucket;
