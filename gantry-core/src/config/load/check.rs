//! Stage 5: checks across the evaluated stack: security lint (waivers
//! become warnings), two blocks naming one cloud resource, import targets.

use super::collect::ResourceDecl;
use super::{span_of, Loader, ResourceConfig};
use crate::config::diag::{Diagnostic, FileId, SrcSpan};
use crate::core::{Env, ParsedBlock, State};
use hcl_edit::structure::Block;
use hcl_edit::Span;
use std::collections::{BTreeSet, HashMap};

impl Loader<'_> {
    /// Two blocks naming the same cloud resource, or two whose derived
    /// cloud names (a queue's CloudFormation stack, function, roles) collide
    /// once normalised (`a_b` and `a-b` both make stack `gantry-s-a-b`).
    pub(super) fn check_clashes(&mut self, out: &[ResourceConfig], env: &Env) {
        let mut derived: HashMap<String, &ResourceConfig> = HashMap::new();
        // One error per pair of blocks, naming the first name they share.
        let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
        for r in out {
            for name in r.block.cloud_names(env) {
                match derived.get(&name) {
                    Some(prev) if prev.address != r.address && reported.insert((prev.address.clone(), r.address.clone())) => {
                        let mut d = Diagnostic::error(format!("{} and {} would both create {name}", prev.address, r.address), r.span.clone());
                        if let Some(s) = prev.span.clone() {
                            d = d.with_related(s, "also creates it");
                        }
                        self.diags.push(d.with_note("names are normalised for the cloud (e.g. _ becomes -); rename one of them"));
                    }
                    Some(_) => {}
                    None => {
                        derived.insert(name, r);
                    }
                }
            }
        }
        let mut seen: HashMap<(String, String), &ResourceConfig> = HashMap::new();
        for r in out {
            let id = (r.kind.to_string(), r.block.identity());
            if let Some(prev) = seen.get(&id) {
                let mut d =
                    Diagnostic::error(format!("{} and {} would both manage the {} named \"{}\"", prev.address, r.address, r.kind, id.1), r.span.clone());
                if let Some(s) = prev.span.clone() {
                    d = d.with_related(s, "also declared here");
                }
                self.diags.push(d.with_note("names must be unique within a stack (check count/for_each name templates)"));
            } else {
                seen.insert(id, r);
            }
        }
    }

    /// Runs the kind's security lint; waived findings become warnings.
    pub(super) fn lint(&mut self, r: &ResourceDecl, address: &str, block: &ParsedBlock, attrs: &State, env: &Env) {
        let findings = block.lint(env);
        let waivers = crate::lint::waivers(attrs);
        for f in &findings {
            let span = self.finding_span(r, f);
            let waiver = waivers.iter().find(|(rule, _)| rule == f.rule);
            let d = match waiver {
                Some((_, reason)) => {
                    self.waivers.push(format!("{address}: {} waived: {reason}", f.rule));
                    Diagnostic::warning(format!("{} (waived: {reason})", f.message), span)
                }
                None => Diagnostic::error(f.message.clone(), span)
                    .with_note(format!("fix: {}", f.fix))
                    .with_note(format!("if this is intended, waive it in the block with a reason: waive \"{}\" {{ reason = \"...\" }}", f.rule)),
            };
            self.diags.push(d.with_code(f.rule).with_label(f.rule));
        }
        // Managed policies are judged by their documents at plan time too:
        // a waiver for that finding may match nothing here.
        let at_plan = |rule: &str| rule == crate::lint::POLICY_ADMIN_MANAGED && !block.managed_policy_arns().is_empty();
        for (rule, _) in &waivers {
            if !findings.iter().any(|f| f.rule == rule) && !at_plan(rule) {
                self.diags.push(Diagnostic::warning(format!("{address}: waiver for {rule} matches no finding; remove it"), Some(r.span.clone())));
            }
        }
    }

    /// Where a lint finding points: into the policy file when it can find
    /// the offending text, else at the attribute, else at the block.
    pub(super) fn finding_span(&self, r: &ResourceDecl, f: &crate::lint::Finding) -> Option<SrcSpan> {
        if let (Some(file_rel), Some(needle)) = (&f.file, &f.needle) {
            let index = self.templates.iter().find(|(_, ts)| ts.iter().any(|t| &t.rel == file_rel)).map(|(i, _)| *i);
            if let Some(t) = index.and_then(|i| self.templates[&i].iter().find(|t| &t.rel == file_rel)) {
                if let Some(at) = self.sources.text(t.file).find(needle.as_str()) {
                    return Some(SrcSpan { file: t.file, range: at..at + needle.len() });
                }
            }
        }
        r.block
            .body
            .get_attribute(&f.attr)
            .and_then(|a| span_of(r.file, a.value.span()))
            .or_else(|| r.block.body.get_blocks(&f.attr).next().and_then(|b| span_of(r.file, b.ident.span())))
            .or_else(|| Some(r.span.clone()))
    }

    pub(super) fn imports(&mut self, imports: &[(FileId, &Block)], resources: &[ResourceDecl]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for &(file, b) in imports {
            let span = span_of(file, b.ident.span());
            let Some(to) = b.body.get_attribute("to") else {
                self.diags.push(Diagnostic::error("import block needs `to = KIND.NAME`", span));
                continue;
            };
            let text = to.value.span().map(|r| self.sources.text(file)[r].trim().to_string()).unwrap_or_default();
            let block_addr = text.split('[').next().unwrap_or("");
            if resources.iter().any(|r| r.block_address() == block_addr) {
                out.insert(text);
            } else {
                self.diags.push(
                    Diagnostic::error(format!("import target {text} is not declared in this stack"), span_of(file, to.value.span()))
                        .with_note("declare the resource block, then adopt it with import { to = KIND.NAME }"),
                );
            }
        }
        out
    }
}
