//! The plan: renderers (text, JSON) and the saved-plan file. The plan's
//! data types live in [`crate::core`] and are re-exported here.

pub mod file;
pub mod hcl;
pub mod json;
pub mod text;

pub use crate::core::plan::*;
