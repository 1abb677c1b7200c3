//! Finds the references (`var.x`, `local.y`, `ecr_repository.cache.arn`) an
//! expression makes, with their source spans, so the loader can check them
//! and order evaluation before anything is evaluated.

use hcl_edit::expr::{Expression, ForExpr, TraversalOperator};
use hcl_edit::visit::{visit_expr, Visit};
use hcl_edit::Span;
use std::ops::Range;

/// One reference found in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// The root name (`var`, `local`, `count`, a kind name, ...).
    pub root: String,
    /// The first attribute after the root, if any (`x` in `var.x`).
    pub attr: Option<String>,
    /// The second attribute (`NAME` in `data.KIND.NAME`), if any.
    pub attr2: Option<String>,
    /// Byte range of the whole traversal in its file.
    pub span: Range<usize>,
}

/// Collects every reference in `expr` (ignoring names bound by `for` expressions).
pub(crate) fn collect(expr: &Expression) -> Vec<Reference> {
    let mut c = Collector::default();
    c.visit_expr(expr);
    c.refs
}

/// Collects every reference in a template (e.g. a policy file).
pub(crate) fn collect_template(t: &hcl_edit::template::Template) -> Vec<Reference> {
    let mut c = Collector::default();
    c.visit_template(t);
    c.refs
}

#[derive(Default)]
struct Collector {
    refs: Vec<Reference>,
    bound: Vec<String>,
}

impl Visit for Collector {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(v) => {
                let name = v.as_str().to_string();
                if !self.bound.contains(&name) {
                    self.refs.push(Reference { root: name, attr: None, attr2: None, span: v.span().unwrap_or(0..0) });
                }
            }
            Expression::Traversal(t) => {
                if let Expression::Variable(v) = &t.expr {
                    let name = v.as_str().to_string();
                    if !self.bound.contains(&name) {
                        let get_attr = |i: usize| {
                            t.operators.get(i).and_then(|op| match op.value() {
                                TraversalOperator::GetAttr(a) => Some(a.as_str().to_string()),
                                _ => None,
                            })
                        };
                        let attr = get_attr(0);
                        let attr2 = attr.as_ref().and_then(|_| get_attr(1));
                        self.refs.push(Reference { root: name, attr, attr2, span: t.span().unwrap_or(0..0) });
                    }
                } else {
                    self.visit_expr(&t.expr);
                }
                for op in &t.operators {
                    if let TraversalOperator::Index(e) = op.value() {
                        self.visit_expr(e);
                    }
                }
            }
            _ => visit_expr(self, expr),
        }
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        self.visit_expr(&node.intro.collection_expr);
        let before = self.bound.len();
        if let Some(k) = &node.intro.key_var {
            self.bound.push(k.as_str().to_string());
        }
        self.bound.push(node.intro.value_var.as_str().to_string());
        if let Some(k) = &node.key_expr {
            self.visit_expr(k);
        }
        self.visit_expr(&node.value_expr);
        if let Some(c) = &node.cond {
            self.visit_expr(&c.expr);
        }
        self.bound.truncate(before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(src: &str) -> Vec<(String, Option<String>)> {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        collect(&e).into_iter().map(|r| (r.root, r.attr)).collect()
    }

    #[test]
    fn finds_traversals_in_templates_and_calls() {
        let r = roots(r#""${var.prefix}-${ecr_repository.cache.name}""#);
        assert_eq!(r, vec![("var".into(), Some("prefix".into())), ("ecr_repository".into(), Some("cache".into()))]);
        let r = roots("join(\",\", [local.a, count.index])");
        assert_eq!(r, vec![("local".into(), Some("a".into())), ("count".into(), Some("index".into()))]);
    }

    #[test]
    fn for_bound_names_are_not_references() {
        let r = roots("[for x in var.names : upper(x)]");
        assert_eq!(r, vec![("var".into(), Some("names".into()))]);
    }

    #[test]
    fn index_expressions_are_scanned() {
        let r = roots("ecr_repository.cache[local.i].arn");
        assert_eq!(r.len(), 2);
    }
}
