//! `count` and `for_each`: one block becomes instances, each with its
//! address suffix and the `count.index` / `each.key`, `each.value` it sees.

use super::collect::ResourceDecl;
use super::{span_of, Loader};
use crate::config::diag::Diagnostic;
use hcl::eval::Context;
use hcl_edit::Span;
use serde_json::Value;
use std::collections::BTreeSet;

/// One instance of a block.
pub(super) enum Inst {
    Single,
    Count(usize),
    Each(String, Value),
}

impl Inst {
    /// The address suffix: `""`, `[3]` or `["key"]`.
    pub(super) fn suffix(&self) -> String {
        match self {
            Inst::Single => String::new(),
            Inst::Count(i) => format!("[{i}]"),
            Inst::Each(k, _) => format!("[{}]", serde_json::to_string(k).unwrap_or_default()),
        }
    }

    /// `count` / `each` declared for this instance.
    pub(super) fn declare(&self, ctx: &mut Context) {
        match self {
            Inst::Single => {}
            Inst::Count(i) => {
                let mut m = hcl::Map::new();
                m.insert("index".to_string(), hcl::Value::from(*i as u64));
                ctx.declare_var("count", hcl::Value::Object(m));
            }
            Inst::Each(k, v) => {
                let mut m = hcl::Map::new();
                m.insert("key".to_string(), hcl::Value::from(k.clone()));
                m.insert("value".to_string(), super::expr::to_hcl(v));
                ctx.declare_var("each", hcl::Value::Object(m));
            }
        }
    }
}

impl Loader<'_> {
    /// The instances of a block; `None` after a reported error.
    pub(super) fn instances(&mut self, r: &ResourceDecl, base: &Context) -> Option<Vec<Inst>> {
        let instances = if let Some(e) = r.meta("count") {
            match self.eval(r.file, e, base) {
                Some(v) => match v.as_u64() {
                    Some(n) if n <= 10_000 => (0..n as usize).map(Inst::Count).collect(),
                    _ => {
                        self.diags.push(Diagnostic::error(format!("count must be a whole number from 0 to 10000, got {v}"), span_of(r.file, e.span())));
                        return None;
                    }
                },
                None => return None,
            }
        } else if let Some(e) = r.meta("for_each") {
            match self.eval(r.file, e, base) {
                Some(Value::Object(m)) => m.into_iter().map(|(k, v)| Inst::Each(k, v)).collect(),
                Some(Value::Array(items)) => {
                    let mut keys = BTreeSet::new();
                    let mut insts = Vec::new();
                    for i in items {
                        let Value::String(s) = i else {
                            self.diags.push(Diagnostic::error("for_each over a list needs strings (or use a map)", span_of(r.file, e.span())));
                            return None;
                        };
                        if !keys.insert(s.clone()) {
                            self.diags.push(Diagnostic::error(format!("for_each list contains \"{s}\" twice"), span_of(r.file, e.span())));
                            return None;
                        }
                        insts.push(Inst::Each(s.clone(), Value::String(s)));
                    }
                    insts
                }
                Some(other) => {
                    self.diags.push(Diagnostic::error(
                        format!("for_each must be a map or a list of strings, got {}", crate::core::schema::json_type_name(&other)),
                        span_of(r.file, e.span()),
                    ));
                    return None;
                }
                None => return None,
            }
        } else {
            vec![Inst::Single]
        };
        Some(instances)
    }
}
