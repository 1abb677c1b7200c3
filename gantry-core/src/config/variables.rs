//! `variable` blocks and the values given for them (defaults, environment,
//! `-var-file`, `-var`, in increasing precedence).

use crate::config::diag::{Diagnostic, Diagnostics, SrcSpan};
use serde_json::Value;

pub(super) use crate::config::types::VarType;

/// A `validation { condition, error_message }` block of a variable.
#[derive(Debug, Clone)]
pub(super) struct Validation {
    pub condition: hcl_edit::expr::Expression,
    pub message: String,
    /// The condition, where a failed check is reported.
    pub span: SrcSpan,
}

/// One declared variable.
#[derive(Debug, Clone)]
pub(super) struct VarDecl {
    pub name: String,
    pub ty: VarType,
    pub default: Option<Value>,
    pub sensitive: bool,
    pub span: SrcSpan,
    pub validations: Vec<Validation>,
}

/// Where a value came from, for messages.
#[derive(Debug, Clone)]
pub(super) enum ValueSource {
    Env(String),
    CommandLine,
    File(SrcSpan),
}

/// A type mismatch in words that never show a sensitive value (the
/// checker's message quotes what it got, e.g. `got string "hunter2"`).
pub(super) fn mismatch(ty: &VarType, sensitive: bool, message: String) -> String {
    if sensitive {
        format!("expected {}; the value given does not match (not shown: the variable is sensitive)", ty.name())
    } else {
        message
    }
}

/// Parses a command-line/env value of a declared variable (see [`parse_cli_value`]).
pub(super) fn parse_given(d: &VarDecl, raw: &str) -> Result<Value, String> {
    parse_cli_value(&d.ty, raw).map_err(|e| mismatch(&d.ty, d.sensitive, e))
}

/// Parses a command-line/env value: raw for strings, HCL expression otherwise.
pub(super) fn parse_cli_value(ty: &VarType, raw: &str) -> Result<Value, String> {
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
pub(super) fn resolve(decls: &[VarDecl], given: &[(String, Value, ValueSource)], diags: &mut Diagnostics) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for d in decls {
        // Later entries in `given` win (env < file < command line).
        let value = given.iter().rev().find(|(n, _, _)| n == &d.name);
        match value {
            Some((_, v, src)) => match d.ty.check(v) {
                Ok(v) => {
                    let origin = match src {
                        ValueSource::File(_) => "the var file".to_string(),
                        ValueSource::Env(k) => format!("environment variable {k}"),
                        ValueSource::CommandLine => "-var".to_string(),
                    };
                    validate(d, &v, &origin, diags);
                    out.insert(d.name.clone(), v);
                }
                Err(e) => {
                    let (span, origin) = match src {
                        // Not the var file's line: its snippet would print the secret.
                        ValueSource::File(_) if d.sensitive => (Some(d.span.clone()), "the var file".to_string()),
                        ValueSource::File(s) => (Some(s.clone()), "the var file".to_string()),
                        ValueSource::Env(k) => (Some(d.span.clone()), format!("environment variable {k}")),
                        ValueSource::CommandLine => (Some(d.span.clone()), "-var".to_string()),
                    };
                    diags
                        .push(Diagnostic::error(format!("invalid value for variable \"{}\" from {origin}: {}", d.name, mismatch(&d.ty, d.sensitive, e)), span));
                }
            },
            None => match &d.default {
                Some(v) => {
                    validate(d, v, "its default", diags);
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

/// Runs a variable's validation blocks against its value: each failed
/// condition is one diagnostic with the block's own message.
fn validate(d: &VarDecl, v: &Value, origin: &str, diags: &mut Diagnostics) {
    if d.validations.is_empty() {
        return;
    }
    let mut ctx = hcl::eval::Context::new();
    crate::config::functions::declare_all(&mut ctx);
    let mut vars = hcl::Map::new();
    vars.insert(d.name.clone(), hcl::to_value(v).unwrap_or(hcl::Value::Null));
    ctx.declare_var("var", hcl::Value::Object(vars));
    for rule in &d.validations {
        let expr: hcl::Expression = rule.condition.clone().into();
        match hcl::eval::Evaluate::evaluate(&expr, &ctx) {
            Ok(hcl::Value::Bool(true)) => {}
            Ok(hcl::Value::Bool(false)) => diags.push(
                Diagnostic::error(format!("invalid value for variable \"{}\": {}", d.name, rule.message), Some(rule.span.clone()))
                    .with_label("this condition is false")
                    .with_note(format!("the value came from {origin}")),
            ),
            Ok(other) => diags.push(Diagnostic::error(
                format!(
                    "the validation condition of variable \"{}\" must be true or false, got {}",
                    d.name,
                    crate::core::schema::json_type_name(&serde_json::to_value(other).unwrap_or_default())
                ),
                Some(rule.span.clone()),
            )),
            Err(e) => diags.push(
                Diagnostic::error(format!("cannot evaluate the validation condition of variable \"{}\": {}", d.name, e.kind()), Some(rule.span.clone()))
                    .with_note(format!("a condition may use var.{} and functions", d.name)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cli_values_follow_the_declared_type() {
        assert_eq!(parse_cli_value(&VarType::String, "a b").unwrap(), json!("a b"));
        assert_eq!(parse_cli_value(&VarType::Number, "3").unwrap(), json!(3));
        assert_eq!(parse_cli_value(&VarType::List(Box::new(VarType::String)), "[\"a\"]").unwrap(), json!(["a"]));
        // Not an expression: the literal string, refused by the type, not "undefined variable".
        let e = parse_cli_value(&VarType::Number, "abc").unwrap_err();
        assert!(e.contains("\"abc\"") && !e.contains("undefined"), "{e}");
        assert_eq!(parse_cli_value(&VarType::Any, "word").unwrap(), json!("word"));
    }
}
