//! One expression evaluated: the built-in functions, values converted to
//! and from HCL, and errors reported once (not again for a reference
//! already reported as unknown).

use super::{span_of, Loader};
use crate::config::diag::{did_you_mean, Diagnostic, FileId};
use crate::config::functions;
use hcl::eval::{Context, Evaluate};
use hcl_edit::expr::Expression;
use hcl_edit::Span;
use serde_json::Value;

/// Every call of a function gantry does not have, with the span of its
/// name: all of them at once, where evaluation stops at the first.
fn unknown_calls(expr: &Expression) -> Vec<(String, Option<std::ops::Range<usize>>)> {
    use hcl_edit::visit::{visit_expr, Visit};
    use hcl_edit::Span;
    struct Find(Vec<(String, Option<std::ops::Range<usize>>)>);
    impl Visit for Find {
        fn visit_expr(&mut self, e: &Expression) {
            if let Expression::FuncCall(f) = e {
                let name = f.name.name.as_str();
                if !f.name.namespace.is_empty() || !functions::names().any(|n| n == name) {
                    self.0.push((f.name.name.to_string(), f.name.name.span().or_else(|| f.span())));
                }
            }
            visit_expr(self, e);
        }
    }
    let mut find = Find(Vec::new());
    find.visit_expr(expr);
    find.0
}

impl Loader<'_> {
    pub(super) fn eval(&mut self, file: FileId, expr: &Expression, ctx: &Context) -> Option<Value> {
        let unknown = unknown_calls(expr);
        for (name, span) in &unknown {
            let d = Diagnostic::error(format!("unknown function `{name}`"), span_of(file, span.clone())).with_label("no such function");
            self.diags.push(match did_you_mean(name, functions::names()) {
                Some(sug) => d.with_note(format!("did you mean {sug}()?")),
                None => d.with_note(format!("the functions are: {}", functions::names().collect::<Vec<_>>().join(", "))),
            });
        }
        if !unknown.is_empty() {
            return None;
        }
        // Every `for` counted against the stack's evaluation budgets.
        let counted = crate::config::budget::instrument(expr);
        let expr_in = counted.as_ref().unwrap_or(expr);
        let e: hcl::Expression =
            if crate::config::try_call::mentions_try(expr_in) { crate::config::try_call::resolve(expr_in, ctx).into() } else { expr_in.clone().into() };
        let evaluated = match crate::config::no_panic::guarded(|| e.evaluate(ctx)) {
            Ok(r) => r,
            Err(msg) => {
                self.diags.push(Diagnostic::error(format!("cannot evaluate expression: {msg}"), span_of(file, expr.span())).with_label(msg));
                return None;
            }
        };
        if let Ok(v) = &evaluated {
            if let Err(msg) = crate::config::budget::check_value(v) {
                self.diags.push(Diagnostic::error(msg, span_of(file, expr.span())).with_label("too large"));
                return None;
            }
        }
        match evaluated {
            Ok(v) => match serde_json::to_value(&v) {
                Ok(j) => Some(j),
                Err(err) => {
                    self.diags.push(Diagnostic::error(format!("cannot use this value: {err}"), span_of(file, expr.span())));
                    None
                }
            },
            Err(errs) => {
                let range = expr.span().unwrap_or(0..0);
                if self.bad_refs.iter().any(|b| b.file == file && b.range.start >= range.start && b.range.end <= range.end) {
                    return None; // already reported as an unknown reference
                }
                // (Unknown functions were reported before evaluating, each at its name.)
                let msg = errs.kind().to_string();
                self.diags.push(Diagnostic::error(format!("cannot evaluate expression: {msg}"), span_of(file, expr.span())).with_label(msg));
                None
            }
        }
    }
}

pub(super) fn base_context() -> Context<'static> {
    let mut ctx = Context::new();
    functions::declare_all(&mut ctx);
    ctx
}

pub(super) fn to_hcl(v: &Value) -> hcl::Value {
    hcl::to_value(v).unwrap_or(hcl::Value::Null)
}
