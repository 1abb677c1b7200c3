//! Attribute schemas: what a resource block may contain, with types,
//! defaults and docs. Kinds declare them as `static` data; the loader checks
//! evaluated values against them and the docs generator reads them.

use serde_json::{Map, Value};

/// The type of an attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Text.
    String,
    /// A whole number.
    Int,
    /// True or false.
    Bool,
    /// A list of strings.
    ListOfString,
    /// A map of strings to strings.
    MapOfString,
    /// A path (relative to the stack directory) to a JSON document; after
    /// loading, the attribute holds the parsed document.
    JsonFile,
    /// Any number (fractions allowed).
    Number,
    /// A path (relative to the stack directory) to a file whose bytes are
    /// deployed (a Lambda zip); after loading, `{"path", "sha256", "size"}`.
    BinaryFile,
    /// Any object (e.g. a reference to another resource: `provider = github_oidc_provider.github`).
    Object,
    /// Paths to JSON policy templates; after loading, the attribute holds
    /// `[{"name", "file", "document"}]` with `${...}` interpolated.
    PolicyFiles,
}

impl Ty {
    /// Name shown in diagnostics and docs.
    pub fn name(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Int => "number",
            Ty::Bool => "bool",
            Ty::ListOfString => "list(string)",
            Ty::MapOfString => "map(string)",
            Ty::JsonFile => "string (path to a JSON file)",
            Ty::Object => "object",
            Ty::Number => "number",
            Ty::BinaryFile => "string (path to a file)",
            Ty::PolicyFiles => "list(string) (paths to JSON policy files)",
        }
    }

    /// Checks (and lightly converts, as HCL does for numbers/bools written as
    /// strings) a value; returns the converted value or what was wrong.
    pub fn check(self, v: &Value) -> Result<Value, String> {
        let got = json_type_name(v);
        match (self, v) {
            (Ty::String | Ty::JsonFile, Value::String(_)) => Ok(v.clone()),
            (Ty::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
            (Ty::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (Ty::Int, Value::Number(n)) => n
                .as_i64()
                .map(Value::from)
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| Value::from(f as i64)))
                .ok_or_else(|| format!("expected a whole number, got {n}")),
            (Ty::Int, Value::String(s)) => s.trim().parse::<i64>().map(Value::from).map_err(|_| format!("expected a number, got string \"{s}\"")),
            (Ty::Bool, Value::Bool(_)) => Ok(v.clone()),
            (Ty::Bool, Value::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            (Ty::Object, Value::Object(_)) => Ok(v.clone()),
            (Ty::Number, Value::Number(_)) => Ok(v.clone()),
            (Ty::Number, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("expected a number, got string \"{s}\"")),
            (Ty::BinaryFile, Value::String(_)) => Ok(v.clone()),
            (Ty::ListOfString | Ty::PolicyFiles, Value::Array(items)) => {
                items.iter().map(|i| Ty::String.check(i)).collect::<Result<Vec<_>, _>>().map(Value::Array).map_err(|e| format!("list element: {e}"))
            }
            (Ty::MapOfString, Value::Object(m)) => m
                .iter()
                .map(|(k, v)| Ty::String.check(v).map(|v| (k.clone(), v)))
                .collect::<Result<Map<_, _>, _>>()
                .map(Value::Object)
                .map_err(|e| format!("map value: {e}")),
            _ => Err(format!("expected {}, got {got}", self.name())),
        }
    }
}

/// A short name for a JSON value's type, for messages.
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// A default value, as `const` data.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    /// A string.
    Str(&'static str),
    /// A whole number.
    Int(i64),
    /// A bool.
    Bool(bool),
    /// `{}`.
    EmptyMap,
    /// `[]`.
    EmptyList,
}

impl DefaultValue {
    /// `{}` for maps and objects, `[]` for lists.
    pub const fn empty(ty: Ty) -> DefaultValue {
        match ty {
            Ty::MapOfString | Ty::Object => DefaultValue::EmptyMap,
            _ => DefaultValue::EmptyList,
        }
    }

    /// The default as a JSON value.
    pub fn to_value(self) -> Value {
        match self {
            DefaultValue::Str(s) => Value::String(s.into()),
            DefaultValue::Int(i) => Value::from(i),
            DefaultValue::Bool(b) => Value::Bool(b),
            DefaultValue::EmptyMap => Value::Object(Map::new()),
            DefaultValue::EmptyList => Value::Array(Vec::new()),
        }
    }
}

/// One attribute of a block.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    /// The attribute's name in the file.
    pub name: &'static str,
    /// The type its value must have.
    pub ty: Ty,
    /// The block must set it.
    pub required: bool,
    /// Its value when the block leaves it out.
    pub default: Option<DefaultValue>,
    /// Allowed values for strings (empty: any).
    pub one_of: &'static [&'static str],
    /// Inclusive range for numbers.
    pub range: Option<(i64, i64)>,
    /// Changing it replaces the resource (documentation; the kind's diff decides).
    pub forces_replacement: bool,
    /// One line for `gantry docs`.
    pub doc: &'static str,
}

impl Attr {
    /// An optional attribute with no default.
    pub const fn new(name: &'static str, ty: Ty, doc: &'static str) -> Attr {
        Attr { name, ty, required: false, default: None, one_of: &[], range: None, forces_replacement: false, doc }
    }
    /// The block must set it.
    pub const fn required(mut self) -> Attr {
        self.required = true;
        self
    }
    /// Its value when the block leaves it out.
    pub const fn default(mut self, d: DefaultValue) -> Attr {
        self.default = Some(d);
        self
    }
    /// The values a string may take.
    pub const fn one_of(mut self, values: &'static [&'static str]) -> Attr {
        self.one_of = values;
        self
    }
    /// The inclusive range a number may take.
    pub const fn range(mut self, min: i64, max: i64) -> Attr {
        self.range = Some((min, max));
        self
    }
    /// Changing it replaces the resource (shown in docs).
    pub const fn forces_replacement(mut self) -> Attr {
        self.forces_replacement = true;
        self
    }
}

/// A nested block (e.g. `lifecycle_policy { ... }`), at most once per parent
/// unless `repeated`.
#[derive(Debug, Clone, Copy)]
pub struct NestedBlock {
    /// The block's name in the file.
    pub name: &'static str,
    /// What its body may hold.
    pub schema: &'static Schema,
    /// It may appear more than once (its value is then a list).
    pub repeated: bool,
    /// Present with its defaults when the file leaves it out (a block of
    /// tuning knobs, every one optional).
    pub implied: bool,
    /// One line for `gantry docs`.
    pub doc: &'static str,
}

impl NestedBlock {
    /// A filler for [`concat`] (never shown: every slot is overwritten).
    pub const EMPTY: NestedBlock = NestedBlock { name: "", schema: &Schema { attrs: &[], blocks: &[] }, repeated: false, implied: false, doc: "" };
}

/// The full shape of a block body.
#[derive(Debug)]
pub struct Schema {
    /// Its attributes.
    pub attrs: &'static [Attr],
    /// Its nested blocks.
    pub blocks: &'static [NestedBlock],
}

impl Schema {
    /// The attribute named `name`.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
    /// The nested block named `name`.
    pub fn block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
    /// Every attribute and block name, for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.attrs.iter().map(|a| a.name).chain(self.blocks.iter().map(|b| b.name))
    }
}

/// A typed block whose schema is derived from its fields
/// (`#[derive(Schema)]`, gantry-schema-derive): the names, types, defaults,
/// limits and docs are written once, on the struct the block reads into.
pub trait HasSchema {
    /// What the block may hold.
    const SCHEMA: Schema;
}

/// The schema type of a Rust field type (a derived attribute's `ty`, unless
/// it says otherwise: `ty = JsonFile`).
pub trait SchemaType {
    /// The attribute's type.
    const TY: Ty;
}

macro_rules! schema_types {
    ($($t:ty => $ty:ident),* $(,)?) => {$(impl SchemaType for $t { const TY: Ty = Ty::$ty; })*};
}

schema_types! {
    String => String,
    i64 => Int,
    i32 => Int,
    u32 => Int,
    u64 => Int,
    bool => Bool,
    f64 => Number,
    Vec<String> => ListOfString,
    std::collections::BTreeMap<String, String> => MapOfString,
}

impl<T: SchemaType> SchemaType for Option<T> {
    const TY: Ty = T::TY;
}

/// The summed lengths of `parts` (the size of [`concat`]'s array).
pub const fn total_len<T>(parts: &[&[T]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

/// `parts` one after another, at compile time (a derived schema splices a
/// `#[serde(flatten)]` field's attributes in place). `N` is
/// [`total_len`]`(parts)`; `filler` only initialises the array.
pub const fn concat<T: Copy, const N: usize>(parts: &[&[T]], filler: T) -> [T; N] {
    let mut out = [filler; N];
    let (mut i, mut k) = (0, 0);
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[k] = parts[i][j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(k == N, "concat: N is not the parts' total length");
    out
}

/// Checks one evaluated attribute value against its spec: type, allowed
/// values, range. Returns the converted value.
pub fn check_attr(spec: &Attr, v: &Value) -> Result<Value, String> {
    let v = spec.ty.check(v)?;
    if !spec.one_of.is_empty() {
        if let Value::String(s) = &v {
            if !spec.one_of.contains(&s.as_str()) {
                return Err(format!("\"{s}\" is not one of {}", spec.one_of.join(", ")));
            }
        }
    }
    if let (Some((min, max)), Some(n)) = (spec.range, v.as_i64()) {
        if n < min || n > max {
            return Err(format!("{n} is out of range {min}..={max}"));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_check_and_convert() {
        assert_eq!(Ty::Int.check(&json!("14")).unwrap(), json!(14));
        assert!(Ty::Int.check(&json!(1.5)).is_err());
        assert_eq!(Ty::String.check(&json!(3)).unwrap(), json!("3"));
        assert!(Ty::Bool.check(&json!("yes")).is_err());
        assert!(Ty::ListOfString.check(&json!(["a", {}])).is_err());
        assert!(Ty::MapOfString.check(&json!(["a"])).unwrap_err().contains("expected map(string), got list"));
    }

    #[test]
    fn one_of_and_range() {
        let a = Attr::new("m", Ty::String, "").one_of(&["A", "B"]);
        assert!(check_attr(&a, &json!("C")).unwrap_err().contains("not one of A, B"));
        let n = Attr::new("n", Ty::Int, "").range(1, 10);
        assert!(check_attr(&n, &json!(0)).is_err());
        assert!(check_attr(&n, &json!(10)).is_ok());
    }
}
