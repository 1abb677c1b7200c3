//! Evaluation budgets: a stack's expressions may not run away with memory
//! or time (`[for a in range(1024) : [for b in range(1024) : [for c in
//! range(1024) : c]]]`, or a `for` that copies a large value a thousand
//! times). hcl-rs gives no hook into its evaluation, so every `for`
//! (expression or template directive) is rewritten before it is evaluated:
//! its collection goes through `__gantry_each`, which counts the elements
//! iterated, and its value through `__gantry_cost`, which counts the bytes
//! produced. Past a budget the call fails, and the failure is an error at
//! the expression, like any other. Each evaluated value is also bounded.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::Value;
use hcl_edit::expr::{Expression, FuncCall};
use hcl_edit::template::Template;
use hcl_edit::visit_mut::{visit_expr_mut, visit_for_template_expr_mut, VisitMut};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// Elements every `for` of one stack may iterate, together.
pub(crate) const ITERATIONS: u64 = 1_000_000;
/// Bytes every `for` of one stack may produce, together.
pub(crate) const PRODUCED_BYTES: u64 = 256 << 20;
/// Largest value one expression may evaluate to (a policy document or a
/// startup script is far below; EC2 user data is 16 KB).
pub(crate) const VALUE_BYTES: u64 = 16 << 20;
/// Wall time the `for`s of one stack may take.
pub(crate) const TIME: Duration = Duration::from_secs(30);

const EACH: &str = "__gantry_each";
const COST: &str = "__gantry_cost";

thread_local! {
    static ITERATED: Cell<u64> = const { Cell::new(0) };
    static PRODUCED: Cell<u64> = const { Cell::new(0) };
    static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Starts the budgets of one evaluation of a stack (this thread's).
pub(crate) fn reset() {
    ITERATED.with(|c| c.set(0));
    PRODUCED.with(|c| c.set(0));
    STARTED.with(|c| c.set(Some(Instant::now())));
}

/// Declares the counting functions the rewritten `for`s call.
pub(crate) fn declare(ctx: &mut Context) {
    ctx.declare_func(EACH, FuncDef::new(each, [ParamType::Any]));
    ctx.declare_func(COST, FuncDef::new(cost, [ParamType::Any]));
}

fn out_of_time() -> Result<(), String> {
    match STARTED.with(Cell::get) {
        Some(t) if t.elapsed() > TIME => Err(format!("evaluation budget: the stack's `for` expressions ran longer than {}s", TIME.as_secs())),
        _ => Ok(()),
    }
}

fn each(args: FuncArgs) -> Result<Value, String> {
    let v = args[0].clone();
    let n = match &v {
        Value::Array(a) => a.len() as u64,
        Value::Object(o) => o.len() as u64,
        _ => 1,
    };
    let total = ITERATED.with(|c| {
        c.set(c.get().saturating_add(n));
        c.get()
    });
    if total > ITERATIONS {
        return Err(format!("evaluation budget: the stack's `for` expressions iterate more than {ITERATIONS} elements"));
    }
    out_of_time()?;
    Ok(v)
}

fn cost(args: FuncArgs) -> Result<Value, String> {
    let v = args[0].clone();
    let total = PRODUCED.with(|c| {
        c.set(c.get().saturating_add(size(&v)));
        c.get()
    });
    if total > PRODUCED_BYTES {
        return Err(format!("evaluation budget: the stack's `for` expressions produce more than {} MB", PRODUCED_BYTES >> 20));
    }
    out_of_time()?;
    Ok(v)
}

/// About how many bytes a value holds.
pub(crate) fn size(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.len() as u64 + 8,
        Value::Array(a) => 8 + a.iter().map(size).sum::<u64>(),
        Value::Object(o) => 8 + o.iter().map(|(k, v)| k.len() as u64 + size(v)).sum::<u64>(),
        _ => 8,
    }
}

/// The error for a value over [`VALUE_BYTES`], if it is.
pub(crate) fn check_value(v: &Value) -> Result<(), String> {
    let n = size(v);
    if n > VALUE_BYTES {
        return Err(format!("evaluation budget: this value holds about {} MB; one value may hold at most {} MB", n >> 20, VALUE_BYTES >> 20));
    }
    Ok(())
}

fn wrap(name: &str, e: &mut Expression) {
    let inner = std::mem::replace(e, Expression::Null(hcl_edit::Decorated::new(hcl_edit::expr::Null)));
    let call = FuncCall::new(hcl_edit::Ident::new_unchecked(name), vec![inner].into());
    *e = Expression::FuncCall(Box::new(call));
}

struct Instrument;

impl VisitMut for Instrument {
    fn visit_expr_mut(&mut self, e: &mut Expression) {
        visit_expr_mut(self, e);
        if let Expression::ForExpr(f) = e {
            wrap(EACH, &mut f.intro.collection_expr);
            wrap(COST, &mut f.value_expr);
        }
    }

    fn visit_for_template_expr_mut(&mut self, node: &mut hcl_edit::template::ForTemplateExpr) {
        visit_for_template_expr_mut(self, node);
        wrap(EACH, &mut node.collection_expr);
    }
}

/// Whether an expression holds a `for` anywhere (the common case does not).
fn has_for(e: &Expression) -> bool {
    struct Find(bool);
    impl hcl_edit::visit::Visit for Find {
        fn visit_expr(&mut self, e: &Expression) {
            self.0 |= matches!(e, Expression::ForExpr(_));
            hcl_edit::visit::visit_expr(self, e);
        }
        fn visit_for_template_expr(&mut self, node: &hcl_edit::template::ForTemplateExpr) {
            self.0 = true;
            hcl_edit::visit::visit_for_template_expr(self, node);
        }
    }
    let mut f = Find(false);
    hcl_edit::visit::Visit::visit_expr(&mut f, e);
    f.0
}

/// `e` with every `for` counted (unchanged when it has none).
pub(crate) fn instrument(e: &Expression) -> Option<Expression> {
    if !has_for(e) {
        return None;
    }
    let mut out = e.clone();
    Instrument.visit_expr_mut(&mut out);
    Some(out)
}

/// A template (a policy file) with every `%{ for }` counted.
pub(crate) fn instrument_template(t: &Template) -> Template {
    let mut out = t.clone();
    Instrument.visit_template_mut(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> Result<Value, String> {
        let mut ctx = Context::new();
        crate::config::functions::declare_all(&mut ctx);
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        let e: hcl::Expression = instrument(&e).unwrap_or(e).into();
        e.evaluate(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn nested_fors_stop_at_the_iteration_budget() {
        reset();
        let err = eval("[for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]").unwrap_err();
        assert!(err.contains("iterate more than 1000000 elements"), "{err}");
        reset();
        assert_eq!(eval("[for a in range(3) : [for b in range(2) : a * b]]").unwrap(), hcl::value!([[0, 0], [0, 1], [0, 2]]));
        assert_eq!(eval("{ for k, v in { a = 1 } : k => v }").unwrap(), hcl::value!({ a = 1 }));
        assert_eq!(eval("\"%{ for x in [1, 2] }${x}%{ endfor }\"").unwrap(), Value::from("12"));
    }

    #[test]
    fn copying_a_large_value_stops_at_the_byte_budget() {
        reset();
        let big = format!("\"{}\"", "x".repeat(1 << 20));
        let err = eval(&format!("[for i in range(1000) : {big}]")).unwrap_err();
        assert!(err.contains("produce more than 256 MB"), "{err}");
        assert!(check_value(&Value::from("x".repeat(17 << 20))).unwrap_err().contains("at most 16 MB"));
        assert!(check_value(&Value::from("x".repeat(1 << 20))).is_ok());
    }
}
