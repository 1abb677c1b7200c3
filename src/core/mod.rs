//! The core types every layer shares, free of network and file access: a
//! kind's contract ([`Kind`], [`Driver`]), the state it compares
//! ([`State`], [`Field`]), the schema of its block, and the plan as data.
//! Nothing here imports another gantry module except the lint findings a
//! kind reports.

pub mod compare;
mod driver;
pub mod error;
mod field;
mod kind;
pub mod plan;
pub mod schema;
mod settings;
mod state;

pub use compare::Compare;
pub use driver::{Driver, LiveResource, ReadScope};
pub use error::{ErrorClass, ProviderError};
pub use field::Field;
pub use kind::{default_attr, AttrProblem, Env, Kind};
pub use plan::{Action, AttrChange, Broadening, Change, IndexEntry, Plan, Summary, FORMAT_VERSION};
pub use schema::Schema;
pub use settings::BackendConfig;
pub use state::{owned_tags, pointer, text, Notes, Owner, State, TAG_ADDRESS, TAG_STACK};
