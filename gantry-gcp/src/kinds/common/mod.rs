//! Shared by the Google Cloud drivers (`gcp`); the pure helpers are
//! gantry-core's `kinds::common`, re-exported here.

pub mod gcp;

pub use gantry_core::kinds::common::*;
