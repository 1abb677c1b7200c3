//! Variable type constraints, as Terraform writes them: `string`, `number`,
//! `bool`, `any`, `list(T)`, `set(T)`, `map(T)`, `tuple([T, ...])` and
//! `object({ name = T, size = optional(number, 10) })`. Parsed once from
//! the `type` expression; values are checked and converted the way
//! Terraform converts them (numbers and bools written as strings, sets
//! de-duplicated, optional attributes filled).

use crate::config::diag::did_you_mean;
use crate::core::schema::json_type_name;
use hcl_edit::expr::{Expression, ObjectKey};
use serde_json::{Map, Number, Value};

/// A type constraint.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum VarType {
    Any,
    String,
    Number,
    Bool,
    List(Box<VarType>),
    Set(Box<VarType>),
    Map(Box<VarType>),
    Tuple(Vec<VarType>),
    Object(Vec<ObjectAttr>),
}

/// One attribute of an `object({...})` type.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ObjectAttr {
    pub name: String,
    pub ty: VarType,
    /// `optional(T)` (default null) or `optional(T, DEFAULT)`.
    pub optional: bool,
    pub default: Option<Value>,
}

impl VarType {
    /// Parses a `type = ...` expression; the error says what is accepted.
    pub(super) fn parse(e: &Expression) -> Result<VarType, String> {
        match e {
            Expression::Variable(v) => match v.as_str() {
                "any" => Ok(VarType::Any),
                "string" => Ok(VarType::String),
                "number" => Ok(VarType::Number),
                "bool" => Ok(VarType::Bool),
                other => Err(unknown(other)),
            },
            Expression::FuncCall(f) => {
                let name = f.name.name.as_str();
                let args: Vec<&Expression> = f.args.iter().collect();
                let one = |what: &str| -> Result<&Expression, String> {
                    match args.as_slice() {
                        [a] => Ok(*a),
                        _ => Err(format!("{name}(...) takes one argument: {what}")),
                    }
                };
                match name {
                    "list" => Ok(VarType::List(Box::new(VarType::parse(one("the element type, e.g. list(string)")?)?))),
                    "set" => Ok(VarType::Set(Box::new(VarType::parse(one("the element type, e.g. set(string)")?)?))),
                    "map" => Ok(VarType::Map(Box::new(VarType::parse(one("the value type, e.g. map(number)")?)?))),
                    "tuple" => match one("a list of types, e.g. tuple([string, number])")? {
                        Expression::Array(items) => Ok(VarType::Tuple(items.iter().map(VarType::parse).collect::<Result<_, _>>()?)),
                        _ => Err("tuple takes a list of types, e.g. tuple([string, number])".into()),
                    },
                    "object" => match one("the attributes, e.g. object({ name = string })")? {
                        Expression::Object(o) => {
                            let mut attrs = Vec::new();
                            for (k, v) in o.iter() {
                                let name = match k {
                                    ObjectKey::Ident(i) => i.as_str().to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                                    _ => return Err("object attribute names are plain names: object({ name = string })".into()),
                                };
                                attrs.push(object_attr(name, v.expr())?);
                            }
                            Ok(VarType::Object(attrs))
                        }
                        _ => Err("object takes the attributes in braces, e.g. object({ name = string })".into()),
                    },
                    "optional" => Err("optional(...) is only allowed for an attribute inside object({...})".into()),
                    other => Err(unknown(other)),
                }
            }
            _ => Err(unknown(&e.to_string())),
        }
    }

    /// The type as written.
    pub(super) fn name(&self) -> String {
        match self {
            VarType::Any => "any".into(),
            VarType::String => "string".into(),
            VarType::Number => "number".into(),
            VarType::Bool => "bool".into(),
            VarType::List(t) => format!("list({})", t.name()),
            VarType::Set(t) => format!("set({})", t.name()),
            VarType::Map(t) => format!("map({})", t.name()),
            VarType::Tuple(ts) => format!("tuple([{}])", ts.iter().map(VarType::name).collect::<Vec<_>>().join(", ")),
            VarType::Object(attrs) => format!("object({{ {} }})", attrs.iter().map(|a| format!("{} = {}", a.name, a.ty.name())).collect::<Vec<_>>().join(", ")),
        }
    }

    /// Whether a value given on the command line is taken as a raw string.
    pub(super) fn takes_raw_string(&self) -> bool {
        matches!(self, VarType::String)
    }

    /// Checks and converts a value; the error names the element or
    /// attribute at fault (`element 2: expected number, got string "x"`).
    pub(super) fn check(&self, v: &Value) -> Result<Value, String> {
        let got = || format!("expected {}, got {}", self.name(), describe(v));
        match (self, v) {
            (VarType::Any, _) => Ok(v.clone()),
            (_, Value::Null) => Ok(Value::Null),
            (VarType::String, Value::String(_)) => Ok(v.clone()),
            (VarType::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
            (VarType::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (VarType::Number, Value::Number(_)) => Ok(v.clone()),
            (VarType::Number, Value::String(s)) => number(s).ok_or_else(got),
            (VarType::Bool, Value::Bool(_)) => Ok(v.clone()),
            (VarType::Bool, Value::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            (VarType::List(t), Value::Array(items)) => elements(t, items).map(Value::Array),
            (VarType::Set(t), Value::Array(items)) => {
                let mut out = elements(t, items)?;
                out.sort_by_key(|x| x.to_string());
                out.dedup();
                Ok(Value::Array(out))
            }
            (VarType::Tuple(ts), Value::Array(items)) if ts.len() == items.len() => ts
                .iter()
                .zip(items)
                .enumerate()
                .map(|(i, (t, x))| t.check(x).map_err(|e| format!("element {i}: {e}")))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            (VarType::Tuple(ts), Value::Array(items)) => Err(format!("expected {} elements, got {}", ts.len(), items.len())),
            (VarType::Map(t), Value::Object(m)) => m
                .iter()
                .map(|(k, x)| t.check(x).map(|x| (k.clone(), x)).map_err(|e| format!("key \"{k}\": {e}")))
                .collect::<Result<Map<_, _>, _>>()
                .map(Value::Object),
            (VarType::Object(attrs), Value::Object(m)) => object(attrs, m).map(Value::Object),
            _ => Err(got()),
        }
    }
}

fn unknown(what: &str) -> String {
    format!("unsupported type `{}`: use string, number, bool, any, list(T), set(T), map(T), tuple([...]) or object({{...}})", what.trim())
}

fn object_attr(name: String, e: &Expression) -> Result<ObjectAttr, String> {
    if let Expression::FuncCall(f) = e {
        if f.name.name.as_str() == "optional" {
            let args: Vec<&Expression> = f.args.iter().collect();
            let (ty, default) = match args.as_slice() {
                [t] => (VarType::parse(t)?, None),
                [t, d] => {
                    let ty = VarType::parse(t)?;
                    let d = literal(d).ok_or_else(|| format!("the default of optional attribute \"{name}\" must be a literal value"))?;
                    let d = ty.check(&d).map_err(|e| format!("the default of optional attribute \"{name}\": {e}"))?;
                    (ty, Some(d))
                }
                _ => return Err("optional takes a type and an optional default: optional(number, 10)".into()),
            };
            return Ok(ObjectAttr { name, ty, optional: true, default });
        }
    }
    Ok(ObjectAttr { name, ty: VarType::parse(e)?, optional: false, default: None })
}

/// A literal default (no references, no functions).
fn literal(e: &Expression) -> Option<Value> {
    let e: hcl::Expression = e.clone().into();
    let v = hcl::eval::Evaluate::evaluate(&e, &hcl::eval::Context::new()).ok()?;
    serde_json::to_value(v).ok()
}

fn number(s: &str) -> Option<Value> {
    let s = s.trim();
    s.parse::<i64>().ok().map(Value::from).or_else(|| s.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number))
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() <= 40 => format!("string \"{s}\""),
        other => json_type_name(other).to_string(),
    }
}

fn elements(t: &VarType, items: &[Value]) -> Result<Vec<Value>, String> {
    items.iter().enumerate().map(|(i, x)| t.check(x).map_err(|e| format!("element {i}: {e}"))).collect()
}

fn object(attrs: &[ObjectAttr], m: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for a in attrs {
        match m.get(&a.name) {
            Some(x) => {
                out.insert(a.name.clone(), a.ty.check(x).map_err(|e| format!("attribute \"{}\": {e}", a.name))?);
            }
            None if a.optional => {
                out.insert(a.name.clone(), a.default.clone().unwrap_or(Value::Null));
            }
            None => return Err(format!("attribute \"{}\" is required", a.name)),
        }
    }
    // Terraform drops attributes the type does not have; a typo would then
    // vanish silently, so gantry refuses them.
    if let Some(extra) = m.keys().find(|k| !attrs.iter().any(|a| &a.name == *k)) {
        let mut msg = format!("attribute \"{extra}\" is not in the type");
        if let Some(s) = did_you_mean(extra, attrs.iter().map(|a| a.name.as_str())) {
            msg.push_str(&format!(" (did you mean \"{s}\"?)"));
        }
        return Err(msg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(src: &str) -> VarType {
        VarType::parse(&hcl_edit::parser::parse_expr(src).unwrap()).unwrap()
    }

    #[test]
    fn parses_nested_types() {
        assert_eq!(ty("list(number)"), VarType::List(Box::new(VarType::Number)));
        assert_eq!(ty("map(any)").name(), "map(any)");
        assert_eq!(ty("object({ name = string, gpus = optional(number, 1) })").name(), "object({ name = string, gpus = number })");
        assert_eq!(ty("tuple([string, bool])").name(), "tuple([string, bool])");
        let bad = VarType::parse(&hcl_edit::parser::parse_expr("lst(string)").unwrap()).unwrap_err();
        assert!(bad.starts_with("unsupported type `lst`"), "{bad}");
        let bad = VarType::parse(&hcl_edit::parser::parse_expr("optional(string)").unwrap()).unwrap_err();
        assert!(bad.contains("only allowed for an attribute inside object"), "{bad}");
    }

    #[test]
    fn values_convert_like_terraform() {
        assert_eq!(ty("list(number)").check(&json!([1, "2", 2.5])).unwrap(), json!([1, 2, 2.5]));
        assert_eq!(ty("list(number)").check(&json!([1, "x"])).unwrap_err(), "element 1: expected number, got string \"x\"");
        assert_eq!(ty("set(string)").check(&json!(["b", "a", "b"])).unwrap(), json!(["a", "b"]));
        assert_eq!(ty("map(any)").check(&json!({"a": [1], "b": "x"})).unwrap(), json!({"a": [1], "b": "x"}));
        assert_eq!(ty("map(bool)").check(&json!({"a": "yes"})).unwrap_err(), "key \"a\": expected bool, got string \"yes\"");
    }

    #[test]
    fn objects_fill_optionals_and_refuse_unknown_attributes() {
        let t = ty("object({ name = string, gpus = optional(number, 1), zone = optional(string) })");
        assert_eq!(t.check(&json!({"name": "a100"})).unwrap(), json!({"name": "a100", "gpus": 1, "zone": null}));
        assert_eq!(t.check(&json!({"gpus": 2})).unwrap_err(), "attribute \"name\" is required");
        assert_eq!(t.check(&json!({"name": "a", "gpsu": 2})).unwrap_err(), "attribute \"gpsu\" is not in the type (did you mean \"gpus\"?)");
        let nested = ty("list(object({ name = string, size = number }))");
        assert_eq!(nested.check(&json!([{"name": "a", "size": "x"}])).unwrap_err(), "element 0: attribute \"size\": expected number, got string \"x\"");
    }
}
