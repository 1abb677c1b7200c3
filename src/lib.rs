//! gantry: a declarative provisioner for ML CI fleets.
//!
//! Layers, outermost first: `cli` (argument parsing, terminal output) →
//! `ops` (what each command does) → `kinds` (one folder per resource kind,
//! listed once in `kinds::REGISTRY`) → `cloud` (SDK clients), with
//! `config` (stack files into typed resources, with diagnostics), `engine`
//! (pure planning, the apply walker, locks) and `plan` (renderers, saved
//! files) beside them. `core` holds the types all of them share and
//! imports none of them.

pub mod cli;
pub mod cloud;
pub mod config;
pub mod core;
pub mod engine;
pub mod kinds;
pub mod lint;
pub mod lookups;
pub mod ops;
pub mod plan;
pub mod policy;

/// This gantry's version (recorded in saved plans).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
