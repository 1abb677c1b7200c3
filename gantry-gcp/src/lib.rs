//! gantry's Google Cloud half: the clients it drives (Compute Engine and
//! Cloud TPU through google-cloud-rust, IAM and the Billing catalog over
//! REST, one retry loop) in `cloud`, and the I/O half of every Google
//! Cloud kind in `kinds` (each kind's driver over its narrow API trait,
//! the trait's implementation on [`cloud::gcp::GcpContext`], a fake and
//! the driver's tests). Each kind's pure half is gantry-core's; the
//! `gantry` crate lists the kinds and builds their drivers.

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

// The cloud-free layers, under the paths the gantry crate gives them.
pub use gantry_core::{core, engine, lookup_api};

pub mod cloud;
pub mod kinds;
pub mod lookups;
