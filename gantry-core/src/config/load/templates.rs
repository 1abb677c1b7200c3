//! Policy files as templates: read before evaluation (their paths may use
//! only `var` and `stack`), their `${...}` references ordered with the
//! block's, rendered with the block into JSON documents.

use super::collect::ResourceDecl;
use super::expr::{base_context, to_hcl};
use super::{span_of, syntax_error, Loader};
use crate::config::diag::{Diagnostic, FileId, SrcSpan};
use crate::core::{Env, State};
use hcl::eval::{Context, Evaluate};
use hcl_edit::Span;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A policy file parsed as a template (its `${...}` are evaluated with the block).
pub(super) struct PolicyTemplate {
    pub attr: String,
    pub rel: String,
    pub file: FileId,
    pub template: hcl_edit::template::Template,
}

impl Loader<'_> {
    /// Reads the policy files named by a resource's PolicyFiles attributes.
    /// Paths may use `var` and `stack` only, so they are known before evaluation.
    pub(super) fn load_templates(&mut self, index: usize, r: &ResourceDecl, vars: &serde_json::Map<String, Value>, env: &Env) {
        for spec in r.kind.schema().attrs.iter().filter(|a| a.ty == crate::core::schema::Ty::PolicyFiles) {
            let Some(attr) = r.block.body.get_attribute(spec.name) else { continue };
            let mut ctx = base_context();
            ctx.declare_var("var", hcl::Value::Object(vars.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect()));
            ctx.declare_var("stack", to_hcl(&serde_json::json!({"name": env.stack, "region": env.region, "account_id": env.account_id})));
            let vspan = span_of(r.file, attr.value.span());
            let paths = match self.eval(r.file, &attr.value, &ctx) {
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => a,
                Some(_) => {
                    self.diags.push(Diagnostic::error(format!("{} must be a list of file paths", spec.name), vspan));
                    continue;
                }
                None => continue,
            };
            for p in paths {
                let rel = p.as_str().unwrap_or_default().to_string();
                let path = self.dir.join(&rel);
                let note = "paths are relative to the stack directory, e.g. \"../../policies/ecr-push.json\"";
                let Some(file) = self.read_source(&path, "policy file ", vspan.clone(), note) else { continue };
                match hcl_edit::parser::parse_template(self.sources.text(file)) {
                    Ok(template) => self.templates.entry(index).or_default().push(PolicyTemplate { attr: spec.name.to_string(), rel, file, template }),
                    Err(e) => {
                        let mut d = syntax_error(self.sources, file, &e);
                        d.message = format!("{} (in a policy template; write $${{ for a literal ${{)", d.message);
                        self.diags.push(d);
                    }
                }
            }
        }
    }

    /// Evaluates a resource's policy templates into JSON documents.
    pub(super) fn render_templates(&mut self, index: usize, ctx: &Context, attrs: &mut State) {
        let Some(templates) = self.templates.get(&index) else { return };
        let mut ctx = ctx.clone();
        ctx.declare_var("policy", to_hcl(attrs.get("policy_vars").unwrap_or(&Value::Object(Default::default()))));
        let mut rendered: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let work: Vec<(String, String, FileId, hcl::Template)> = templates
            .iter()
            .map(|t| (t.attr.clone(), t.rel.clone(), t.file, hcl::Template::from(crate::config::budget::instrument_template(&t.template))))
            .collect();
        for (attr, rel, file, template) in work {
            let evaluated = crate::config::no_panic::guarded(|| template.evaluate(&ctx));
            let text = match evaluated {
                Err(msg) => {
                    self.diags.push(Diagnostic::error(format!("cannot evaluate policy template {rel}: {msg}"), Some(SrcSpan { file, range: 0..0 })));
                    continue;
                }
                Ok(r) => r,
            };
            let text = match text {
                Ok(t) => t,
                Err(_) if self.bad_refs.iter().any(|b| b.file == file) => continue, // already reported
                Err(e) => {
                    self.diags.push(Diagnostic::error(format!("cannot evaluate policy template {rel}: {}", e.kind()), Some(SrcSpan { file, range: 0..0 })));
                    continue;
                }
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(doc) if doc.is_object() => {
                    let name = Path::new(&rel).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| rel.clone());
                    rendered.entry(attr).or_default().push(serde_json::json!({"name": name, "file": rel, "document": doc}));
                }
                Ok(_) => self.diags.push(Diagnostic::error(format!("{rel} must hold a JSON object (a policy document)"), Some(SrcSpan { file, range: 0..0 }))),
                Err(e) => {
                    // Lines of the rendered text match the file's unless an interpolation spans lines.
                    let at = self.sources.offset_of(file, e.line(), e.column());
                    let end = (at + 1).min(self.sources.text(file).len());
                    self.diags.push(Diagnostic::error(format!("{rel} is not valid JSON: {e}"), Some(SrcSpan { file, range: at.min(end)..end })));
                }
            }
        }
        for (attr, docs) in rendered {
            attrs.insert(attr, Value::Array(docs));
        }
    }
}
