//! A data source's pure half: what the language needs to check a
//! `data "SOURCE" "NAME" { ... }` block and to stand in for its value
//! before it is read. The read itself (cloud calls) lives with the
//! sources in the `gantry` crate's `lookups`.

use super::schema::{Attr, Schema, Ty};
use super::{Diagnostic, State};
use serde_json::Value;

/// One data source, as the language sees it.
pub trait DataSchema: Send + Sync {
    /// Block type after `data`, e.g. `vpc`.
    fn name(&self) -> &'static str;
    /// One-paragraph description for docs.
    fn doc(&self) -> &'static str;
    /// Arguments accepted in the block.
    fn schema(&self) -> &'static Schema;
    /// Attributes the read gives, for references and docs.
    fn attributes(&self) -> &'static [Attr];
    /// Checks of the arguments beyond types.
    fn check(&self, _args: &State) -> Vec<Diagnostic> {
        Vec::new()
    }
}

/// The value a data block has before it is read (`validate`, or the first
/// evaluation of a plan): every attribute present with a stand-in of its
/// type, so references type-check; checks of blocks using it are skipped.
pub fn placeholder(source: &dyn DataSchema, address: &str) -> Value {
    let text = Value::String(format!("(known after {address} is read)"));
    let attrs = source.attributes().iter().map(|a| {
        let v = match a.ty {
            Ty::ListOfString | Ty::PolicyFiles => Value::Array(vec![text.clone()]),
            Ty::MapOfString | Ty::Object => Value::Object(Default::default()),
            Ty::Bool => Value::Bool(false),
            Ty::Int | Ty::Number => Value::from(0),
            Ty::String | Ty::JsonFile | Ty::BinaryFile => text.clone(),
        };
        (a.name.to_string(), v)
    });
    Value::Object(attrs.collect())
}
