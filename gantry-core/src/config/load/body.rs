//! One block body evaluated against its schema: unknown names (with
//! suggestions), types, required attributes and defaults, nested blocks,
//! and `waive` blocks.

use super::{span_of, Loader, META_ATTRS};
use crate::config::diag::{did_you_mean, Diagnostic, FileId, SrcSpan};
use crate::core::schema::{check_attr, Schema};
use crate::core::State;
use hcl::eval::Context;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use serde_json::Value;
use std::collections::BTreeSet;

impl Loader<'_> {
    /// Evaluates a block body against a schema: unknown names, types,
    /// required attributes and defaults.
    pub(super) fn eval_body(&mut self, file: FileId, body: &Body, schema: &Schema, ctx: &Context, skip: &[&'static str], block_span: Option<SrcSpan>) -> State {
        let mut out = State::new();
        let mut seen_blocks: BTreeSet<String> = BTreeSet::new();
        // Written in the file, even if invalid: never also "missing".
        let mut written: BTreeSet<String> = BTreeSet::new();
        let top = skip == META_ATTRS;
        if top {
            self.failed_keys.clear();
        }
        // (key, errors before it): a key whose evaluation added errors is "failed".
        let mut pending: Option<(String, usize)> = None;
        for s in body.iter() {
            if let Some((k, n)) = pending.take() {
                if top && self.diags.error_count() > n {
                    self.failed_keys.insert(k);
                }
            }
            let key = match s {
                Structure::Attribute(a) => a.key.as_str().to_string(),
                Structure::Block(b) => b.ident.as_str().to_string(),
            };
            pending = Some((key, self.diags.error_count()));
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if skip.contains(&key) {
                        continue;
                    }
                    let kspan = span_of(file, a.key.span());
                    let Some(spec) = schema.attr(key) else {
                        let mut d = Diagnostic::error(format!("unknown attribute \"{key}\""), kspan).with_label("not accepted here");
                        if schema.block(key).is_some() {
                            d = d.with_note(format!("\"{key}\" is a block: write {key} {{ ... }}"));
                        } else if let Some(sug) = did_you_mean(key, schema.names().chain(skip.iter().copied())) {
                            d = d.with_note(format!("did you mean \"{sug}\"?"));
                        }
                        self.diags.push(d);
                        continue;
                    };
                    if !written.insert(key.to_string()) {
                        self.diags.push(Diagnostic::error(format!("attribute \"{key}\" is set twice"), kspan));
                        continue;
                    }
                    if let Some(v) = self.eval(file, &a.value, ctx) {
                        if v.is_null() {
                            // null means "not set", as in Terraform.
                            continue;
                        }
                        match check_attr(spec, &v) {
                            Ok(Value::String(path)) if spec.ty == crate::core::schema::Ty::BinaryFile => {
                                if let Some(v) = self.hash_file(&path, span_of(file, a.value.span()), spec) {
                                    out.insert(key.to_string(), v);
                                }
                            }
                            Ok(Value::String(path)) if spec.ty == crate::core::schema::Ty::JsonFile => {
                                if let Some(doc) = self.read_json_file(file, &path, span_of(file, a.value.span())) {
                                    out.insert(key.to_string(), doc);
                                }
                            }
                            Ok(v) => {
                                out.insert(key.to_string(), v);
                            }
                            Err(e) => {
                                self.diags.push(Diagnostic::error(format!("invalid value for \"{key}\": {e}"), span_of(file, a.value.span())).with_label(e))
                            }
                        }
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "waive" && skip == META_ATTRS => self.waive_block(file, b, ctx, &mut out),
                Structure::Block(b) => {
                    let ident = b.ident.as_str();
                    let ispan = span_of(file, b.ident.span());
                    let Some(nb) = schema.block(ident) else {
                        let mut d = Diagnostic::error(format!("unknown block \"{ident}\""), ispan).with_label("not accepted here");
                        if schema.attr(ident).is_some() {
                            d = d.with_note(format!("\"{ident}\" is an attribute: write {ident} = ..."));
                        } else if let Some(sug) = did_you_mean(ident, schema.names()) {
                            d = d.with_note(format!("did you mean \"{sug}\"?"));
                        }
                        self.diags.push(d);
                        continue;
                    };
                    let backend_s3 = ident == "backend" && b.labels.len() == 1 && b.labels[0].as_str() == "s3";
                    if ident == "backend" && !backend_s3 {
                        self.diags.push(Diagnostic::error("the only backend is \"s3\": backend \"s3\" { bucket = \"...\" }", ispan.clone()));
                    } else if !b.labels.is_empty() && !backend_s3 {
                        self.diags.push(Diagnostic::error(format!("block \"{ident}\" takes no labels"), ispan.clone()));
                    }
                    let inner = self.eval_body(file, &b.body, nb.schema, ctx, &[], ispan.clone());
                    if nb.repeated {
                        let entry = out.entry(ident.to_string()).or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(a) = entry {
                            a.push(Value::Object(inner));
                        }
                    } else if !seen_blocks.insert(ident.to_string()) {
                        self.diags.push(Diagnostic::error(format!("block \"{ident}\" may appear only once"), ispan));
                    } else {
                        out.insert(ident.to_string(), Value::Object(inner));
                    }
                }
            }
        }
        if let Some((k, n)) = pending.take() {
            if top && self.diags.error_count() > n {
                self.failed_keys.insert(k);
            }
        }
        for spec in schema.attrs {
            if out.contains_key(spec.name) || written.contains(spec.name) {
                continue;
            }
            if spec.required {
                self.diags.push(
                    Diagnostic::error(format!("missing required attribute \"{}\"", spec.name), block_span.clone())
                        .with_label(format!("needs {} = <{}>", spec.name, spec.ty.name()))
                        .with_note(spec.doc.to_string()),
                );
            } else if let Some(d) = spec.default {
                out.insert(spec.name.to_string(), d.to_value());
            }
        }
        for nb in schema.blocks {
            if nb.repeated && !out.contains_key(nb.name) {
                out.insert(nb.name.to_string(), Value::Array(Vec::new()));
            } else if nb.implied && !out.contains_key(nb.name) && !seen_blocks.contains(nb.name) {
                let defaults = nb.schema.attrs.iter().filter_map(|a| Some((a.name.to_string(), a.default?.to_value()))).collect();
                out.insert(nb.name.to_string(), Value::Object(defaults));
            }
        }
        out
    }

    /// `waive "RULE" { reason = "..." }` inside a resource block.
    pub(super) fn waive_block(&mut self, file: FileId, b: &Block, ctx: &Context, out: &mut State) {
        let span = span_of(file, b.ident.span());
        let rule = match b.labels.as_slice() {
            [l] => l.as_str().to_string(),
            _ => {
                self.diags.push(Diagnostic::error("waive takes the rule id as its label: waive \"GANTRY-...\" { reason = \"...\" }", span));
                return;
            }
        };
        if !crate::lint::RULES.iter().any(|r| r.id == rule) {
            let mut d = Diagnostic::error(format!("unknown lint rule \"{rule}\""), span_of(file, b.labels[0].span()));
            if let Some(s) = did_you_mean(&rule, crate::lint::RULES.iter().map(|r| r.id)) {
                d = d.with_note(format!("did you mean \"{s}\"?"));
            }
            self.diags.push(d);
            return;
        }
        let reason = b.body.get_attribute("reason").and_then(|a| self.eval(file, &a.value, ctx));
        match reason.as_ref().and_then(Value::as_str).map(str::trim) {
            Some(r) if !r.is_empty() => {
                let entry = out.entry("waive".to_string()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = entry {
                    a.push(serde_json::json!({"rule": rule, "reason": r}));
                }
            }
            _ => self
                .diags
                .push(Diagnostic::error(format!("waiver for {rule} needs a reason"), span).with_note("write why this is acceptable: reason = \"...\"")),
        }
    }
}
