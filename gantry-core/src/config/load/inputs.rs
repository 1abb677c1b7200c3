//! Stage 2: values given outside the files, in increasing precedence:
//! `GANTRY_VAR_*`, var files, `-var`.

use super::expr::base_context;
use super::{span_of, syntax_error, Loader};
use crate::config::diag::{did_you_mean, Diagnostic, SrcSpan};
use crate::config::variables::{self, ValueSource, VarDecl};
use hcl_edit::structure::Structure;
use hcl_edit::Span;
use serde_json::Value;

impl Loader<'_> {
    /// Values given outside the files: env < var files < -var.
    pub(super) fn given_values(&mut self, decls: &[VarDecl]) -> Vec<(String, Value, ValueSource)> {
        let mut out = Vec::new();
        let find = |n: &str| decls.iter().find(|d| d.name == n);
        for (name, raw) in &self.opts.env_vars {
            if let Some(d) = find(name) {
                match variables::parse_given(d, raw) {
                    Ok(v) => out.push((name.clone(), v, ValueSource::Env(format!("GANTRY_VAR_{name}")))),
                    Err(e) => self.diags.push(Diagnostic::error(format!("GANTRY_VAR_{name}: {e}"), Some(d.span.clone()))),
                }
            }
        }
        // Auto-loaded files first (as Terraform's *.auto.tfvars), then -var-file.
        let mut files = auto_var_files(&self.dir);
        files.extend(self.opts.var_files.iter().cloned());
        for path in &files {
            let Some(file) = self.read_source(path, "var file ", None, "") else { continue };
            if path.extension().is_some_and(|e| e == "json") {
                let values = self.json_var_file(file, decls);
                // No spans from serde_json: all its values are masked when one
                // is sensitive (or when it did not parse).
                let sensitive = values.iter().any(|(n, _, _)| decls.iter().any(|d| d.sensitive && &d.name == n));
                self.var_file_values.push((file, (!sensitive && !values.is_empty()).then(Vec::new)));
                out.extend(values);
                continue;
            }
            let body = match hcl_edit::parser::parse_body(self.sources.text(file)) {
                Ok(b) => b,
                Err(e) => {
                    self.diags.push(syntax_error(self.sources, file, &e));
                    self.var_file_values.push((file, None));
                    continue;
                }
            };
            let spans = body.iter().filter_map(|s| s.as_attribute()).filter_map(|a| Some((a.key.as_str().to_string(), a.value.span()?))).collect();
            self.var_file_values.push((file, Some(spans)));
            for s in body.iter() {
                let Structure::Attribute(a) = s else {
                    self.diags.push(Diagnostic::error("var files contain only `name = value` lines", span_of(file, s.span())));
                    continue;
                };
                let name = a.key.as_str().to_string();
                let kspan = span_of(file, a.key.span());
                if find(&name).is_none() {
                    self.diags.push(self.undeclared_var(&name, kspan, decls));
                    continue;
                }
                if let Some(v) = self.eval(file, &a.value, &base_context()) {
                    out.push((name, v, ValueSource::File(kspan.unwrap_or(SrcSpan { file, range: 0..0 }))));
                }
            }
        }
        for arg in &self.opts.vars {
            let Some((name, raw)) = arg.split_once('=') else {
                self.diags.push(Diagnostic::error(format!("-var \"{arg}\" must look like NAME=VALUE"), None));
                continue;
            };
            match find(name) {
                Some(d) => match variables::parse_given(d, raw) {
                    Ok(v) => out.push((name.to_string(), v, ValueSource::CommandLine)),
                    Err(e) => self.diags.push(Diagnostic::error(format!("-var {name}: {e}"), Some(d.span.clone()))),
                },
                None => self.diags.push(self.undeclared_var(name, None, decls)),
            }
        }
        out
    }

    /// A JSON var file: one object, a key per variable (values as JSON).
    fn json_var_file(&mut self, file: crate::config::diag::FileId, decls: &[VarDecl]) -> Vec<(String, Value, ValueSource)> {
        let text = self.sources.text(file).to_string();
        let whole = SrcSpan { file, range: 0..text.len().min(1) };
        let doc = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                self.diags.push(Diagnostic::error("a JSON var file holds one object: {\"name\": value, ...}", Some(whole)));
                return Vec::new();
            }
            Err(e) => {
                let at = self.sources.offset_of(file, e.line(), e.column());
                let end = (at + 1).min(text.len());
                self.diags.push(Diagnostic::error(format!("invalid JSON: {e}"), Some(SrcSpan { file, range: at..end })));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (name, v) in doc {
            // Point at the key, so a type error lands on its line.
            let key = format!("\"{name}\"");
            let at = text.find(&key).unwrap_or(0);
            let span = SrcSpan { file, range: at..(at + key.len()).min(text.len()) };
            if decls.iter().any(|d| d.name == name) {
                out.push((name, v, ValueSource::File(span)));
            } else {
                self.diags.push(self.undeclared_var(&name, Some(span), decls));
            }
        }
        out
    }

    pub(super) fn undeclared_var(&self, name: &str, span: Option<SrcSpan>, decls: &[VarDecl]) -> Diagnostic {
        let mut d = Diagnostic::error(format!("a value was given for undeclared variable \"{name}\""), span)
            .with_note(format!("declare it: variable \"{name}\" {{ type = string }}"));
        if let Some(s) = did_you_mean(name, decls.iter().map(|d| d.name.as_str())) {
            d = d.with_note(format!("did you mean \"{s}\"?"));
        }
        d
    }
}

/// `*.auto.vars.hcl` and `*.auto.vars.json` in the stack directory, in
/// name order: values a directory always plans with, without -var-file.
pub(super) fn auto_var_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".auto.vars.hcl") || n.ends_with(".auto.vars.json")))
        .collect();
    files.sort();
    files
}
