//! A data source's pure half: what the language needs to check a
//! `data "SOURCE" "NAME" { ... }` block and to stand in for its value
//! before it is read. The read itself (cloud calls) lives with the
//! sources in the `gantry` crate's `lookups`.

use super::schema::{Attr, HasSchema, Schema, Ty};
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

/// A data source defined by its types: its arguments and what a read
/// finds, whose derived schemas are its block's schema, its attributes and
/// their docs. [`DataSchema`] follows from it.
pub trait TypedDataSchema: Send + Sync {
    /// Block type after `data`, e.g. `vpc`.
    const NAME: &'static str;
    /// One-paragraph description for docs.
    const DOC: &'static str;
    /// The block's arguments.
    type Args: HasSchema + serde::de::DeserializeOwned + Default;
    /// What a read gives.
    type Found: HasSchema;
    /// Checks of the arguments beyond types.
    fn check_args(&self, _args: &Self::Args) -> Vec<Diagnostic> {
        Vec::new()
    }
}

impl<T: TypedDataSchema> DataSchema for T {
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn doc(&self) -> &'static str {
        T::DOC
    }
    fn schema(&self) -> &'static Schema {
        const { &<T::Args as HasSchema>::SCHEMA }
    }
    fn attributes(&self) -> &'static [Attr] {
        <T::Found as HasSchema>::SCHEMA.attrs
    }
    /// The arguments are read once the schema has checked their types.
    fn check(&self, args: &State) -> Vec<Diagnostic> {
        self.check_args(&read_args(args))
    }
}

/// A block's arguments as its source's typed `Args`: read once, at the
/// boundary. The loader checked them against the schema derived from the
/// same struct, so they read (anything else reads as the defaults).
pub fn read_args<T: serde::de::DeserializeOwned + Default>(args: &State) -> T {
    serde_json::from_value(Value::Object(args.clone())).unwrap_or_default()
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
