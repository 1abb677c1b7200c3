//! The core types every layer shares, free of network and file access: a
//! kind's contract ([`Kind`], [`Driver`]), a data source's ([`DataSchema`]), the state it compares
//! ([`State`], [`Field`]), the schema of its block, and the plan as data.
//! Nothing here imports another gantry module except the lint findings a
//! kind reports.

mod block;
pub mod bounded;
pub mod calls;
pub mod compare;
pub mod cost;
mod data_schema;
pub mod diagnostic;
mod driver;
pub mod error;
mod kind;
pub mod plan;
pub mod schema;
#[cfg(test)]
mod schema_derive_tests;
mod state;
mod typed_kind;

pub use block::{Block, ParsedBlock};
pub use compare::Compare;
pub use data_schema::{placeholder, read_args, DataSchema, TypedDataSchema};
pub use diagnostic::Diagnostic;
pub use driver::{Discovery, Driver, LiveResource, ReadScope};
pub use error::{ErrorClass, ProviderError};
pub use kind::{default_attr, BackendConfig, Bundled, BundledZip, Capacity, Env, Kind, OFFLINE_ACCOUNT_ID};
pub use plan::{Action, AttrChange, Broadening, Change, IndexEntry, Op, OutputValue, Plan, PlanInputs, Summary, FORMAT_VERSION};
pub use schema::{HasSchema, Schema};
pub use state::{
    owner_key, owner_of, pointer, sha256_base64, stale_tag_keys, text, Field, Notes, Owner, State, TAG_ADDRESS, TAG_PROTECT, TAG_STACK, TAG_WORKSPACE,
};
pub use typed_kind::{read_spec, TypedKind};
