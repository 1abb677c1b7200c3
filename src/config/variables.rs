//! `variable` blocks and the values given for them (defaults, environment,
//! `-var-file`, `-var`, in increasing precedence).

use crate::config::diag::{Diagnostic, Diagnostics, SrcSpan};
use crate::core::schema::Ty;
use serde_json::Value;

/// Declared type of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    Any,
    Typed(Ty),
}

impl VarType {
    /// Parses the text of a `type = ...` expression.
    pub fn parse(src: &str) -> Option<VarType> {
        let compact: String = src.chars().filter(|c| !c.is_whitespace()).collect();
        Some(match compact.as_str() {
            "any" => VarType::Any,
            "string" => VarType::Typed(Ty::String),
            "number" => VarType::Typed(Ty::Int),
            "bool" => VarType::Typed(Ty::Bool),
            "list(string)" | "set(string)" => VarType::Typed(Ty::ListOfString),
            "map(string)" => VarType::Typed(Ty::MapOfString),
            _ => return None,
        })
    }

    /// Checks/converts a value.
    pub fn check(self, v: &Value) -> Result<Value, String> {
        match self {
            VarType::Any => Ok(v.clone()),
            VarType::Typed(t) => t.check(v),
        }
    }

    /// Whether a value given on the command line is taken as a raw string.
    pub fn takes_raw_string(self) -> bool {
        matches!(self, VarType::Typed(Ty::String))
    }
}

/// One declared variable.
#[derive(Debug, Clone)]
pub struct VarDecl {
    pub name: String,
    pub ty: VarType,
    pub default: Option<Value>,
    pub sensitive: bool,
    pub span: SrcSpan,
}

/// Where a value came from, for messages.
#[derive(Debug, Clone)]
pub enum ValueSource {
    Env(String),
    CommandLine,
    File(SrcSpan),
}

/// Parses a command-line/env value: raw for strings, HCL expression otherwise.
pub fn parse_cli_value(ty: VarType, raw: &str) -> Result<Value, String> {
    if ty.takes_raw_string() {
        return Ok(Value::String(raw.to_string()));
    }
    // A value that is not a valid HCL expression (`abc`, `a b`) is the
    // literal string, as Terraform reads -var: then the type says what is
    // wrong with it ("expected number, got string"), not the parser.
    let literal = || Value::String(raw.to_string());
    let json = match hcl_edit::parser::parse_expr(raw) {
        Ok(expr) => {
            let expr: hcl::Expression = expr.into();
            match hcl::eval::Evaluate::evaluate(&expr, &hcl::eval::Context::new()) {
                Ok(v) => serde_json::to_value(v).unwrap_or_else(|_| literal()),
                Err(_) => literal(),
            }
        }
        Err(_) => literal(),
    };
    ty.check(&json).map_err(|e| format!("{e} (from {raw:?})"))
}

/// Resolves the final value of each declared variable. Reports missing
/// required values and bad conversions.
pub fn resolve(decls: &[VarDecl], given: &[(String, Value, ValueSource)], diags: &mut Diagnostics) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for d in decls {
        // Later entries in `given` win (env < file < command line).
        let value = given.iter().rev().find(|(n, _, _)| n == &d.name);
        match value {
            Some((_, v, src)) => match d.ty.check(v) {
                Ok(v) => {
                    out.insert(d.name.clone(), v);
                }
                Err(e) => {
                    let (span, origin) = match src {
                        ValueSource::File(s) => (Some(s.clone()), "the var file".to_string()),
                        ValueSource::Env(k) => (Some(d.span.clone()), format!("environment variable {k}")),
                        ValueSource::CommandLine => (Some(d.span.clone()), "-var".to_string()),
                    };
                    diags.push(Diagnostic::error(format!("invalid value for variable \"{}\" from {origin}: {e}", d.name), span));
                }
            },
            None => match &d.default {
                Some(v) => {
                    out.insert(d.name.clone(), v.clone());
                }
                None => diags.push(
                    Diagnostic::error(format!("no value for required variable \"{}\"", d.name), Some(d.span.clone()))
                        .with_label("declared here without a default")
                        .with_note(format!("give it with -var {0}=VALUE, a -var-file, or the environment variable GANTRY_VAR_{0}", d.name)),
                ),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_types() {
        assert_eq!(VarType::parse("list( string )"), Some(VarType::Typed(Ty::ListOfString)));
        assert_eq!(VarType::parse("object({})"), None);
    }

    #[test]
    fn cli_values_follow_the_declared_type() {
        assert_eq!(parse_cli_value(VarType::Typed(Ty::String), "a b").unwrap(), json!("a b"));
        assert_eq!(parse_cli_value(VarType::Typed(Ty::Int), "3").unwrap(), json!(3));
        assert_eq!(parse_cli_value(VarType::Typed(Ty::ListOfString), "[\"a\"]").unwrap(), json!(["a"]));
        // Not an expression: the literal string, refused by the type, not "undefined variable".
        let e = parse_cli_value(VarType::Typed(Ty::Int), "abc").unwrap_err();
        assert!(e.contains("\"abc\"") && !e.contains("undefined"), "{e}");
        assert_eq!(parse_cli_value(VarType::Any, "word").unwrap(), json!("word"));
    }
}
