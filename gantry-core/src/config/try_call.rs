//! `try(a, b, ...)`: the first argument that evaluates without an error.
//! hcl-rs evaluates every argument of a call before calling the function,
//! so an error in `a` would end the whole expression; here each `try` call
//! is evaluated argument by argument first and replaced by its value.
//! A `try` whose arguments all fail here (e.g. inside a `for` expression,
//! whose names only exist per element) is left to the plain `try`
//! function, which returns its first argument.

use hcl::eval::{Context, Evaluate};
use hcl_edit::expr::Expression;
use hcl_edit::visit::{visit_expr, Visit};
use hcl_edit::visit_mut::{visit_expr_mut, VisitMut};

/// Whether an expression calls `try` anywhere.
pub(super) fn mentions_try(e: &Expression) -> bool {
    struct Find(bool);
    impl Visit for Find {
        fn visit_expr(&mut self, e: &Expression) {
            if let Expression::FuncCall(f) = e {
                self.0 |= f.name.name.as_str() == "try";
            }
            visit_expr(self, e);
        }
    }
    let mut f = Find(false);
    f.visit_expr(e);
    f.0
}

/// `e` with each `try(...)` call whose value can be found replaced by it.
pub(super) fn resolve(e: &Expression, ctx: &Context) -> Expression {
    struct Resolve<'c, 'a>(&'c Context<'a>);
    impl VisitMut for Resolve<'_, '_> {
        fn visit_expr_mut(&mut self, e: &mut Expression) {
            visit_expr_mut(self, e); // inner calls first
            let Expression::FuncCall(f) = e else { return };
            if f.name.name.as_str() != "try" {
                return;
            }
            let found = f.args.iter().find_map(|arg| {
                let plain: hcl::Expression = arg.clone().into();
                // An argument that cannot evaluate (even by panicking) falls through, as try() does.
                crate::config::no_panic::guarded(|| plain.evaluate(self.0)).ok().and_then(Result::ok)
            });
            if let Some(v) = found {
                *e = hcl::Expression::from(v).into();
            }
        }
    }
    let mut out = e.clone();
    Resolve(ctx).visit_expr_mut(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str, ctx: &Context) -> Result<hcl::Value, String> {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        let e: hcl::Expression = resolve(&e, ctx).into();
        e.evaluate(ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn the_first_argument_that_evaluates_wins() {
        let mut ctx = Context::new();
        crate::config::functions::declare_all(&mut ctx);
        ctx.declare_var(
            "var",
            hcl::Value::Object([("m".to_string(), hcl::Value::Object([("a".to_string(), 1.into())].into_iter().collect()))].into_iter().collect()),
        );
        assert_eq!(eval("try(var.m.b, var.m.a, 3)", &ctx).unwrap(), hcl::Value::from(1));
        assert_eq!(eval("try(var.nope, \"x\")", &ctx).unwrap(), hcl::Value::from("x"));
        assert_eq!(eval("upper(try(var.m.c, \"ok\"))", &ctx).unwrap(), hcl::Value::from("OK"));
    }
}
