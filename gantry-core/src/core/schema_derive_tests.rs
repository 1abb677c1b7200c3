//! `#[derive(Schema)]` (gantry-schema-derive) against schemas written out
//! by hand: names (serde's too), types, defaults, limits, docs, nested and
//! flattened blocks.

use super::schema::{Attr, DefaultValue, HasSchema, NestedBlock, Schema, Ty};
use gantry_schema_derive::Schema;
use std::collections::BTreeMap;

const KINDS: &[&str] = &["a", "b"];

#[derive(Schema, serde::Deserialize)]
#[allow(dead_code)]
struct Inner {
    /// Size in GB.
    #[schema(required, range(1, 64))]
    size_gb: i64,
    /// Disk type.
    #[serde(rename = "type")]
    #[schema(default = "pd", one_of = KINDS)]
    disk_type: String,
}

#[derive(Schema, serde::Deserialize)]
#[allow(dead_code)]
struct Common {
    /// Zone,
    /// e.g. us-east5-b.
    #[schema(required, forces_replacement)]
    zone: String,
    /// Labels.
    #[schema(default = empty)]
    labels: BTreeMap<String, String>,
    /// A disk.
    #[schema(block)]
    disk: Option<Inner>,
}

#[derive(Schema, serde::Deserialize)]
#[allow(dead_code)]
struct Outer {
    /// Name.
    name: Option<String>,
    #[serde(flatten)]
    common: Common,
    /// Disks besides.
    #[schema(block, implied)]
    extra: Vec<Inner>,
    /// Policy.
    #[schema(ty = JsonFile)]
    policy: Option<serde_json::Value>,
    /// Share.
    #[schema(default = 1)]
    share: f64,
    /// Offset.
    #[schema(default = -1, range(-1, 10))]
    offset: i64,
    /// On.
    #[schema(default = true)]
    on: bool,
    #[schema(skip)]
    derived: String,
}

fn attrs(s: &Schema) -> Vec<String> {
    s.attrs.iter().map(|a| format!("{a:?}")).collect()
}

fn blocks(s: &Schema) -> Vec<String> {
    s.blocks.iter().map(|b| format!("{} {} {} {} {:?}", b.name, b.repeated, b.implied, b.doc, attrs(b.schema))).collect()
}

#[test]
fn a_derived_schema_is_the_one_written_by_hand() {
    static INNER: Schema = Schema {
        attrs: &[
            Attr::new("size_gb", Ty::Int, "Size in GB.").required().range(1, 64),
            Attr::new("type", Ty::String, "Disk type.").default(DefaultValue::Str("pd")).one_of(KINDS),
        ],
        blocks: &[],
    };
    static OUTER: Schema = Schema {
        attrs: &[
            Attr::new("name", Ty::String, "Name."),
            Attr::new("zone", Ty::String, "Zone, e.g. us-east5-b.").required().forces_replacement(),
            Attr::new("labels", Ty::MapOfString, "Labels.").default(DefaultValue::EmptyMap),
            Attr::new("policy", Ty::JsonFile, "Policy."),
            Attr::new("share", Ty::Number, "Share.").default(DefaultValue::Int(1)),
            Attr::new("offset", Ty::Int, "Offset.").default(DefaultValue::Int(-1)).range(-1, 10),
            Attr::new("on", Ty::Bool, "On.").default(DefaultValue::Bool(true)),
        ],
        blocks: &[
            NestedBlock { name: "disk", schema: &INNER, repeated: false, implied: false, doc: "A disk." },
            NestedBlock { name: "extra", schema: &INNER, repeated: true, implied: true, doc: "Disks besides." },
        ],
    };
    assert_eq!(attrs(&Inner::SCHEMA), attrs(&INNER));
    assert_eq!(attrs(&Outer::SCHEMA), attrs(&OUTER));
    assert_eq!(blocks(&Outer::SCHEMA), blocks(&OUTER));
}
