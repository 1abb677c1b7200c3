//! gantry: a declarative provisioner for ML CI fleets.
//!
//! Layers, outermost first: `cli` (argument parsing, terminal output) →
//! `ops` (what each command does) → `kinds` (every kind, listed once in
//! `kinds::REGISTRY`) and `lookups` (data sources) → `cloud` (the CI
//! services' REST clients). Each cloud's clients and kinds' drivers are
//! its crate's, gantry-aws or gantry-gcp, re-exported under the same paths
//! (`cloud::aws`, `kinds::tpu_node`, ...). The cloud-free layers are the
//! gantry-core crate, re-exported under their names: `config` (the stack
//! language), `core` (the types all of them share), `engine` (planning,
//! the apply walker, locks), `plan` (renderers, saved files), `lint`,
//! `policy`, `cost`, and each kind's pure half (`gantry_core::kinds`).

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

// Terminal output that ignores a closed stdout or stderr (gantry-core's,
// so every crate writes the same way): `crate::outln!` and friends.
pub use gantry_core::{err, errln, out, outln};

// The cloud-free layers live in their own crate (no SDK in its tree); their
// paths stay `crate::core`, `crate::engine`, ... here.
pub use gantry_core::{config, core, cost, engine, lint, plan, policy};

pub mod cli;
pub mod cloud;
pub mod kinds;
pub(crate) mod lookups;
pub mod ops;
pub(crate) mod simulate;

/// This gantry's version (recorded in saved plans).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
