//! gantry's AWS half: the clients it drives (the SDK's, with gantry's
//! retries, timeouts and call count; the EC2 reads over the Query API;
//! the tagging, pricing and S3 lock-store calls) in `cloud`, and the I/O
//! half of every AWS kind in `kinds` (each kind's driver over its narrow
//! API trait, the trait's SDK implementation, a fake and the driver's
//! tests). Each kind's pure half is gantry-core's; the `gantry` crate
//! lists the kinds and builds their drivers.

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

// The cloud-free layers, under the paths the gantry crate gives them.
pub use gantry_core::{core, engine, errln, lint, lookup_api, policy};

pub mod cloud;
pub mod kinds;
pub mod lookups;
