//! Sensitive values: where they may flow, and that no diagnostic shows one.
//!
//! A `sensitive` variable may reach locals and outputs marked sensitive.
//! Everything else is printed, stored or sent: a resource's attributes and
//! its policy files (plan, plan file, IAM, templates), a data block's
//! arguments (sent to a cloud API, logged there), the stack block and
//! import ids (printed in every plan). A flow into any of these is an error
//! at the reference. Separately, every diagnostic is scrubbed of the
//! sensitive values before it is shown (a function's error may quote its
//! argument), and var files are masked where they hold one (a snippet
//! would print the line).

use super::collect::{Decls, ResourceDecl};
use super::{span_of, Loader};
use crate::config::diag::{Diagnostic, Diagnostics, FileId, SrcSpan};
use crate::config::refs::{self, Reference};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span;
use std::collections::BTreeSet;
use std::ops::Range;

/// Shortest sensitive string scrubbed from messages: shorter ones would
/// blank unrelated words (a one- or two-character secret protects nothing).
const MIN_SCRUBBED: usize = 3;

/// What diagnostics print instead of a sensitive value.
const HIDDEN: &str = "(sensitive)";

/// The first sensitive variable `refs` use, directly or through locals (by name).
pub(super) fn sensitive_in(refs: &[Reference], d: &Decls, seen: &mut BTreeSet<String>) -> Option<String> {
    for r in refs {
        let Some(name) = r.attr.as_deref() else { continue };
        match r.root.as_str() {
            "var" if d.vars.iter().any(|v| v.sensitive && v.name == name) => return Some(name.to_string()),
            "local" if seen.insert(name.to_string()) => {
                if let Some(l) = d.locals.iter().find(|l| l.name == name) {
                    if let Some(v) = sensitive_in(&refs::collect(l.expr), d, seen) {
                        return Some(v);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Every attribute of a body and its nested blocks that carries a
/// sensitive variable: (path, variable, value span).
fn sensitive_attrs(body: &Body, d: &Decls, prefix: &str, out: &mut Vec<(String, String, Option<Range<usize>>)>) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                if let Some(var) = sensitive_in(&refs::collect(&a.value), d, &mut BTreeSet::new()) {
                    out.push((format!("{prefix}{}", a.key.as_str()), var, a.value.span()));
                }
            }
            Structure::Block(b) => sensitive_attrs(&b.body, d, &format!("{prefix}{}.", b.ident.as_str()), out),
        }
    }
}

impl Loader<'_> {
    /// A sensitive variable may not flow into a resource: its attributes
    /// and policy files end up in plain text (tags, templates, user data,
    /// metadata, IAM, the plan). The error names the attribute and the way out.
    pub(super) fn check_no_secrets(&mut self, index: usize, r: &ResourceDecl, d: &Decls) -> bool {
        let mut found = Vec::new();
        sensitive_attrs(&r.block.body, d, "", &mut found);
        let mut ok = found.is_empty();
        for (path, var, span) in found {
            self.diags.push(
                Diagnostic::error(format!("{}: {path} would carry var.{var}, which is sensitive", r.block_address()), span_of(r.file, span))
                    .with_label("stored in plain text")
                    .with_note("a resource's attributes are stored in plain text (tags, templates, user data, metadata, plan files); keep the secret in SSM Parameter Store, Secrets Manager or Google Secret Manager and give its name (agent_secrets, token_secret, github { credentials })"),
            );
        }
        let templates: Vec<(String, FileId, Vec<Reference>)> =
            self.templates.get(&index).map(|ts| ts.iter().map(|t| (t.rel.clone(), t.file, refs::collect_template(&t.template))).collect()).unwrap_or_default();
        for (rel, file, template_refs) in templates {
            for r2 in &template_refs {
                if let Some(var) = sensitive_in(std::slice::from_ref(r2), d, &mut BTreeSet::new()) {
                    self.diags.push(
                        Diagnostic::error(
                            format!("{}: policy file {rel} would carry var.{var}, which is sensitive", r.block_address()),
                            Some(SrcSpan { file, range: r2.span.clone() }),
                        )
                        .with_label("sent to IAM and shown in the plan")
                        .with_note("a policy document is stored in IAM and printed in plans; grant access to the secret's name instead of embedding its value"),
                    );
                    ok = false;
                }
            }
        }
        ok
    }

    /// The blocks whose every value is printed or sent (the stack block,
    /// data block arguments, import ids) take no sensitive value.
    pub(super) fn check_sensitive_flows(&mut self, d: &Decls) {
        let mut flows: Vec<(String, FileId, &Body, &str)> = Vec::new();
        for (file, b) in &d.stack_blocks {
            flows.push(("the stack block".into(), *file, &b.body, "the stack block's values are shown in every plan and used as names"));
        }
        for x in &d.data {
            flows.push((x.address(), x.file, &x.block.body, "a data block's arguments are sent to the cloud API (and logged there) and shown in errors"));
        }
        for (file, b) in &d.imports {
            flows.push(("an import block".into(), *file, &b.body, "an import block's values are shown in the plan"));
        }
        for (what, file, body, why) in flows {
            let mut found = Vec::new();
            sensitive_attrs(body, d, "", &mut found);
            for (path, var, span) in found {
                self.diags.push(
                    Diagnostic::error(format!("{what}: {path} would carry var.{var}, which is sensitive"), span_of(file, span))
                        .with_label("printed or sent")
                        .with_note(why),
                );
            }
        }
    }

    /// Records the sensitive values (for [`scrub`]) and masks them where a
    /// var file holds them. Called once the given values are resolved (the
    /// var files' texts are no longer evaluated).
    pub(super) fn hide_secrets(&mut self, d: &Decls, values: &serde_json::Map<String, serde_json::Value>) {
        let sensitive: BTreeSet<&str> = d.vars.iter().filter(|v| v.sensitive).map(|v| v.name.as_str()).collect();
        for (_, v) in values.iter().filter(|(n, _)| sensitive.contains(n.as_str())) {
            collect_strings(v, &mut self.secrets);
        }
        // The env and -var values of a sensitive variable whose value was
        // refused (no resolved value): scrub what was given too.
        for (name, raw) in self.opts.env_vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).chain(self.opts.vars.iter().filter_map(|a| a.split_once('='))) {
            if sensitive.contains(name) {
                self.secrets.insert(raw.to_string());
            }
        }
        let var_files = std::mem::take(&mut self.var_file_values);
        if sensitive.is_empty() {
            return;
        }
        for (file, spans) in var_files {
            let ranges: Vec<Range<usize>> = match spans {
                // Unparsed: any line may be a secret's.
                None => values_of_lines(self.sources.text(file)),
                Some(spans) => spans.into_iter().filter(|(n, _)| sensitive.contains(n.as_str())).map(|(_, r)| r).collect(),
            };
            if !ranges.is_empty() {
                self.sources.mask(file, &ranges);
            }
        }
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::String(s) => {
            out.insert(s.clone());
        }
        serde_json::Value::Number(n) => {
            out.insert(n.to_string());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// The value part of every line (after its first `=` or `:`): what an
/// unparsed var file may hold a secret in.
fn values_of_lines(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if let Some(i) = line.find(['=', ':']) {
            out.push(at + i + 1..at + line.trim_end_matches(['\n', '\r']).len());
        } else if !line.trim().is_empty() {
            // A continuation (a multi-line string): all of it.
            out.push(at..at + line.trim_end_matches(['\n', '\r']).len());
        }
        at += line.len();
    }
    out
}

/// Replaces every sensitive value in every diagnostic's words.
pub(super) fn scrub(diags: &mut Diagnostics, secrets: &BTreeSet<String>) {
    let secrets: Vec<&String> = secrets.iter().filter(|s| s.chars().count() >= MIN_SCRUBBED).collect();
    if secrets.is_empty() {
        return;
    }
    // Longest first: a secret that contains another is hidden whole.
    let mut secrets = secrets;
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let clean = |text: &mut String| {
        for s in &secrets {
            for form in [s.to_string(), format!("{s:?}").trim_matches('"').to_string()] {
                if text.contains(&form) {
                    *text = text.replace(&form, HIDDEN);
                }
            }
        }
    };
    diags.rewrite(|d| {
        clean(&mut d.message);
        clean(&mut d.label);
        d.notes.iter_mut().for_each(&clean);
        d.related.iter_mut().for_each(|(_, l)| clean(l));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_of_unparsed_lines_are_masked_keys_kept() {
        let text = "name = \"ok\"\ntoken = \"s3cré\net\"\n\n{\"k\": 1}";
        let mut sources = crate::config::diag::Sources::default();
        let file = sources.add(std::path::Path::new("v.vars.hcl"), text.to_string());
        sources.mask(file, &values_of_lines(text));
        assert_eq!(sources.text(file), "name = ****\ntoken = *******\n***\n\n{\"k\": **");
        assert_eq!(sources.text(file).len(), text.len(), "offsets of other diagnostics stay right");
    }

    #[test]
    fn every_form_of_a_secret_is_scrubbed_from_diagnostics() {
        let mut diags = Diagnostics::default();
        diags.push(
            Diagnostic::error("no key \"p4ss\\\"word\" in map; regex did not match p4ss\"word", None).with_note("got p4ss\"word").with_label("p4ss\"word"),
        );
        diags.push(Diagnostic::error("ab is fine", None));
        scrub(&mut diags, &["p4ss\"word".to_string(), "ab".to_string()].into());
        let all: Vec<String> = diags.iter().map(|d| format!("{} | {} | {:?}", d.message, d.label, d.notes)).collect();
        assert_eq!(all, ["no key \"(sensitive)\" in map; regex did not match (sensitive) | (sensitive) | [\"got (sensitive)\"]", "ab is fine |  | []"]);
    }
}
