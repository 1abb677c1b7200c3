//! Every kind's typed block (`Spec`) and its schema agree: a block that
//! the schema accepts, with every attribute and nested block set, reads
//! into the kind's `Spec`. The loader checks values against the schema
//! only, so a field typed differently from its attribute would refuse
//! every block that sets it ("does not read as") at plan time.

use crate::core::schema::{Schema, Ty};
use crate::core::State;
use serde_json::{json, Value};

/// A value of `ty` the schema accepts (the first allowed value, the
/// bottom of the range).
fn sample(ty: Ty, one_of: &[&str], range: Option<(i64, i64)>) -> Value {
    match ty {
        Ty::String => json!(one_of.first().copied().unwrap_or("x")),
        Ty::Int => json!(range.map_or(1, |(lo, _)| lo)),
        Ty::Bool => json!(true),
        Ty::ListOfString => json!(["x"]),
        Ty::MapOfString => json!({"K": "v"}),
        Ty::JsonFile => json!({"Version": "2012-10-17", "Statement": []}),
        Ty::Number => json!(0.5),
        Ty::BinaryFile => json!({"path": "scaler.zip", "sha256": "c2hh", "size": 3}),
        Ty::Object => json!({"arn": "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"}),
        Ty::PolicyFiles => json!([{"name": "p", "file": "p.json", "document": {"Version": "2012-10-17", "Statement": []}}]),
    }
}

/// A block with every attribute and nested block of `schema` set.
fn full_block(schema: &Schema) -> State {
    let mut block = State::new();
    for a in schema.attrs {
        block.insert(a.name.to_string(), sample(a.ty, a.one_of, a.range));
    }
    for b in schema.blocks {
        let inner = Value::Object(full_block(b.schema));
        block.insert(b.name.to_string(), if b.repeated { json!([inner]) } else { inner });
    }
    block
}

/// Why `block` does not read into its kind's `Spec`, if it does not.
fn unreadable(kind: &'static dyn crate::core::Kind, block: &State) -> Option<String> {
    kind.read(block).1.map(|d| d.message)
}

#[test]
fn every_block_the_schema_accepts_reads_into_its_kinds_spec() {
    for kind in super::all() {
        let block = full_block(kind.schema());
        assert_eq!(unreadable(kind, &block), None, "{}: its Spec and its schema disagree", kind.name());
    }
}

#[test]
fn a_field_of_another_type_than_its_attribute_is_caught() {
    let kind = super::entry("ecr_repository").expect("a kind").kind;
    let mut block = full_block(kind.schema());
    block.insert("scan_on_push".into(), json!("yes"));
    assert!(unreadable(kind, &block).is_some_and(|m| m.contains("does not read as ecr_repository")), "a bool field given text does not read");
}

/// Every name a schema (and its nested blocks') holds twice: a flattened
/// block and a field of the same name would both be derived.
fn repeated_names(schema: &Schema, path: &str, out: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    for name in schema.names() {
        if !seen.insert(name) {
            out.push(format!("{path}{name}"));
        }
    }
    for b in schema.blocks {
        repeated_names(b.schema, &format!("{path}{}.", b.name), out);
    }
}

#[test]
fn no_schema_names_an_attribute_twice() {
    for kind in super::all() {
        let mut twice = Vec::new();
        repeated_names(kind.schema(), "", &mut twice);
        assert_eq!(twice, Vec::<String>::new(), "{}: derived twice", kind.name());
    }
    let mut twice = Vec::new();
    static TWICE: Schema =
        Schema { attrs: &[crate::core::schema::Attr::new("a", Ty::String, ""), crate::core::schema::Attr::new("a", Ty::Int, "")], blocks: &[] };
    repeated_names(&TWICE, "", &mut twice);
    assert_eq!(twice, ["a"], "a repeated name is found");
}
