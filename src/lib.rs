//! gantry: a declarative provisioner for ML CI fleets.
//!
//! Layers, outermost first: `cli` (argument parsing, terminal output) →
//! `ops` (what each command does) → `engine` (planning, apply walker, lock)
//! → `kinds` (one module per resource kind) → `cloud` (SDK clients).
//! `config` turns stack files into typed resources with diagnostics; `plan`
//! holds the plan data and its renderers.

pub mod cli;
pub mod cloud;
pub mod config;
pub mod core;
pub mod engine;
pub mod kinds;
pub mod lint;
pub mod ops;
pub mod plan;
pub mod policy;
