//! Stack files: loading, evaluation and diagnostics.
//!
//! `load_dir` reads every `*.gantry.hcl` file in a directory, evaluates
//! variables, locals, `count`/`for_each` and references in dependency order,
//! checks every block against its kind's schema (the kinds and data
//! sources are the caller's: [`Language`]), and returns the typed
//! [`Stack`] together with all diagnostics found (never just the first).

pub(crate) mod budget;
pub mod diag;
mod file_functions;
pub mod fmt;
pub mod functions;
mod language;
mod load;
mod no_panic;
pub(crate) mod refs;
mod try_call;
mod types;
mod variables;

pub use language::Language;
pub use load::{list_stack_files, load_dir, read_settings, DataRequest, LoadOptions, Loaded, ResourceConfig, Stack, StackSettings, OFFLINE_ACCOUNT_ID};
