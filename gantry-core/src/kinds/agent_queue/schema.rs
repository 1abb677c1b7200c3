//! The fields of an `agent_queue`'s comparable state. Its block's schema
//! (attributes, defaults, ranges, docs) is derived from the typed block,
//! [`super::block::Spec`].

use crate::core::Field;

/// The fields of the comparable state, and how each compares.
pub static FIELDS: &[Field] = &[
    Field::replace("region"),
    Field::replace("stack_name"),
    Field::replace("stack_status"),
    Field::new("template"),
    Field::new("tags"),
    Field::new("function"),
];
