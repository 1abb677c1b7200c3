//! Stage 1: the top-level blocks of every file, as declarations (nothing
//! evaluated yet). Duplicates and unknown block types are reported here.

use super::expr::base_context;
use super::{span_of, Loader, TOP_BLOCKS};
use crate::config::diag::{did_you_mean, Diagnostic, FileId, SrcSpan};
use crate::config::variables::{Validation, VarDecl, VarType};
use crate::core::{DataSchema, Kind};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use serde_json::Value;

/// A local value declaration.
pub(super) struct LocalDecl<'a> {
    pub name: String,
    pub expr: &'a Expression,
    pub file: FileId,
    pub span: SrcSpan,
}

/// A resource block declaration.
pub(super) struct ResourceDecl<'a> {
    pub kind: &'static dyn Kind,
    pub name: String,
    pub block: &'a Block,
    pub file: FileId,
    pub span: SrcSpan,
}

impl ResourceDecl<'_> {
    pub(super) fn block_address(&self) -> String {
        format!("{}.{}", self.kind.name(), self.name)
    }
    pub(super) fn meta(&self, name: &str) -> Option<&Expression> {
        self.block.body.get_attribute(name).map(|a| &a.value)
    }
}

/// A `data "SOURCE" "NAME" { ... }` block: something read, never changed.
pub(super) struct DataDecl<'a> {
    pub source: &'static dyn DataSchema,
    pub name: String,
    pub block: &'a Block,
    pub file: FileId,
    pub span: SrcSpan,
}

impl DataDecl<'_> {
    pub(super) fn address(&self) -> String {
        format!("data.{}.{}", self.source.name(), self.name)
    }
}

/// An `output "NAME" { value = ... }` block.
pub(super) struct OutputDecl<'a> {
    pub name: String,
    pub block: &'a Block,
    pub file: FileId,
    pub span: SrcSpan,
}

/// Everything the files declare.
pub(super) struct Decls<'a> {
    pub stack_blocks: Vec<(FileId, &'a Block)>,
    pub vars: Vec<VarDecl>,
    pub locals: Vec<LocalDecl<'a>>,
    pub resources: Vec<ResourceDecl<'a>>,
    pub data: Vec<DataDecl<'a>>,
    pub outputs: Vec<OutputDecl<'a>>,
    pub imports: Vec<(FileId, &'a Block)>,
}

impl Loader<'_> {
    pub(super) fn collect<'b>(&mut self, bodies: &'b [(FileId, Body)]) -> Decls<'b> {
        let mut stack_blocks: Vec<(FileId, &Block)> = Vec::new();
        let mut vars: Vec<VarDecl> = Vec::new();
        let mut locals: Vec<LocalDecl> = Vec::new();
        let mut resources: Vec<ResourceDecl> = Vec::new();
        let mut imports: Vec<(FileId, &Block)> = Vec::new();
        let mut data: Vec<DataDecl> = Vec::new();
        let mut outputs: Vec<OutputDecl> = Vec::new();
        for (file, body) in bodies {
            let file = *file;
            for s in body.iter() {
                match s {
                    Structure::Attribute(a) => self.diags.push(
                        Diagnostic::error(format!("attribute \"{}\" is not allowed at the top level", a.key.as_str()), span_of(file, a.span()))
                            .with_note("put shared values in a `locals { ... }` block"),
                    ),
                    Structure::Block(b) => {
                        let ident = b.ident.as_str();
                        let ident_span = span_of(file, b.ident.span());
                        match ident {
                            "stack" => stack_blocks.push((file, b)),
                            "variable" => {
                                if let Some(d) = self.variable_decl(file, b) {
                                    if let Some(prev) = vars.iter().find(|v| v.name == d.name) {
                                        let prev = prev.span.clone();
                                        self.diags.push(
                                            Diagnostic::error(format!("variable \"{}\" is declared twice", d.name), Some(d.span.clone()))
                                                .with_related(prev, "first declared here"),
                                        );
                                    } else {
                                        vars.push(d);
                                    }
                                }
                            }
                            "locals" => {
                                for s in b.body.iter() {
                                    match s {
                                        Structure::Attribute(a) => {
                                            let name = a.key.as_str().to_string();
                                            let span = span_of(file, a.key.span()).unwrap_or(SrcSpan { file, range: 0..0 });
                                            if let Some(prev) = locals.iter().find(|l| l.name == name) {
                                                let prev = prev.span.clone();
                                                self.diags.push(
                                                    Diagnostic::error(format!("local \"{name}\" is defined twice"), Some(span))
                                                        .with_related(prev, "first defined here"),
                                                );
                                            } else {
                                                locals.push(LocalDecl { name, expr: &a.value, file, span });
                                            }
                                        }
                                        Structure::Block(inner) => {
                                            self.diags.push(Diagnostic::error("blocks are not allowed inside `locals`", span_of(file, inner.ident.span())))
                                        }
                                    }
                                }
                            }
                            "import" => imports.push((file, b)),
                            "output" => {
                                if let Some(o) = self.output_decl(file, b) {
                                    if let Some(prev) = outputs.iter().find(|p| p.name == o.name) {
                                        let prev = prev.span.clone();
                                        self.diags.push(
                                            Diagnostic::error(format!("output \"{}\" is declared twice", o.name), Some(o.span.clone()))
                                                .with_related(prev, "first declared here"),
                                        );
                                    } else {
                                        outputs.push(o);
                                    }
                                }
                            }
                            "data" => {
                                if let Some(d) = self.data_decl(file, b) {
                                    if let Some(prev) = data.iter().find(|p| p.address() == d.address()) {
                                        let prev = prev.span.clone();
                                        self.diags.push(
                                            Diagnostic::error(format!("duplicate data block {}", d.address()), Some(d.span.clone()))
                                                .with_related(prev, "first declared here"),
                                        );
                                    } else {
                                        data.push(d);
                                    }
                                }
                            }
                            _ => match self.lang.kind(ident) {
                                Some(kind) => {
                                    if let Some(r) = self.resource_decl(kind, file, b) {
                                        if let Some(prev) = resources.iter().find(|p| p.kind.name() == r.kind.name() && p.name == r.name) {
                                            let prev = prev.span.clone();
                                            self.diags.push(
                                                Diagnostic::error(format!("duplicate resource address {}", r.block_address()), Some(r.span.clone()))
                                                    .with_related(prev, "first declared here")
                                                    .with_note("every block needs its own name; rename one of them"),
                                            );
                                        } else {
                                            resources.push(r);
                                        }
                                    }
                                }
                                None => {
                                    let names: Vec<&str> = TOP_BLOCKS.iter().copied().chain(self.lang.kind_names()).collect();
                                    let mut d = Diagnostic::error(format!("unknown block type \"{ident}\""), ident_span).with_label("not a known block");
                                    d = match did_you_mean(ident, names.iter().copied()) {
                                        Some(s) => d.with_note(format!("did you mean \"{s}\"?")),
                                        None => d.with_note(format!("known block types: {}", names.join(", "))),
                                    };
                                    self.diags.push(d);
                                }
                            },
                        }
                    }
                }
            }
        }
        Decls { stack_blocks, vars, locals, resources, data, outputs, imports }
    }

    pub(super) fn variable_decl(&mut self, file: FileId, b: &Block) -> Option<VarDecl> {
        let span = span_of(file, b.span()).unwrap_or(SrcSpan { file, range: 0..0 });
        if b.labels.len() != 1 {
            self.diags.push(Diagnostic::error("a variable block takes exactly one label: variable \"NAME\" { ... }", Some(span)));
            return None;
        }
        let name = b.labels[0].as_str().to_string();
        let label_span = span_of(file, b.labels[0].span()).unwrap_or(span);
        let mut ty = VarType::Any;
        let mut default = None;
        let mut sensitive = false;
        let mut validations = Vec::new();
        for s in b.body.iter() {
            let a = match s {
                Structure::Attribute(a) => a,
                Structure::Block(v) if v.ident.as_str() == "validation" => {
                    validations.extend(self.validation_block(file, v));
                    continue;
                }
                Structure::Block(other) => {
                    self.diags.push(
                        Diagnostic::error(format!("unexpected block \"{}\" in variable block", other.ident.as_str()), span_of(file, other.ident.span()))
                            .with_note("a variable block holds type, default, description, sensitive and validation { condition, error_message }"),
                    );
                    continue;
                }
            };
            let vspan = span_of(file, a.value.span());
            match a.key.as_str() {
                "type" => match VarType::parse(&a.value) {
                    Ok(t) => ty = t,
                    Err(e) => self.diags.push(Diagnostic::error(e, vspan)),
                },
                "default" => default = self.eval(file, &a.value, &base_context()),
                "description" => {}
                "sensitive" => sensitive = a.value.as_bool().unwrap_or(false),
                other => {
                    let mut d = Diagnostic::error(format!("unknown attribute \"{other}\" in variable block"), span_of(file, a.key.span()));
                    if let Some(s) = did_you_mean(other, ["type", "default", "description", "sensitive"]) {
                        d = d.with_note(format!("did you mean \"{s}\"?"));
                    }
                    self.diags.push(d);
                }
            }
        }
        if let Some(v) = &default {
            match ty.check(v) {
                // The default converted (e.g. optional attributes filled), as a given value would be.
                Ok(converted) => default = Some(converted),
                Err(e) => self.diags.push(Diagnostic::error(format!("default of variable \"{name}\" does not match its type: {e}"), Some(label_span.clone()))),
            }
        }
        Some(VarDecl { name, ty, default, sensitive, span: label_span, validations })
    }

    /// `validation { condition = ..., error_message = "..." }`.
    fn validation_block(&mut self, file: FileId, b: &Block) -> Option<Validation> {
        let mut condition = None;
        let mut message = None;
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "condition" => condition = Some(a),
                Structure::Attribute(a) if a.key.as_str() == "error_message" => match self.eval(file, &a.value, &base_context()) {
                    Some(Value::String(m)) if !m.trim().is_empty() => message = Some(m),
                    Some(_) => self.diags.push(Diagnostic::error("error_message must be a non-empty string", span_of(file, a.value.span()))),
                    None => {}
                },
                other => {
                    let key = match other {
                        Structure::Attribute(a) => a.key.as_str(),
                        Structure::Block(x) => x.ident.as_str(),
                    };
                    let mut d = Diagnostic::error(format!("unknown attribute \"{key}\" in validation block"), span_of(file, other.span()));
                    if let Some(s) = did_you_mean(key, ["condition", "error_message"]) {
                        d = d.with_note(format!("did you mean \"{s}\"?"));
                    }
                    self.diags.push(d);
                }
            }
        }
        let at = span_of(file, b.ident.span());
        match (condition, message) {
            (Some(c), Some(message)) => {
                let span = span_of(file, c.value.span()).or(at).unwrap_or(SrcSpan { file, range: 0..0 });
                Some(Validation { condition: c.value.clone(), message, span })
            }
            (None, _) => {
                self.diags.push(Diagnostic::error("a validation block needs condition = <a true/false expression>", at));
                None
            }
            (Some(_), None) => {
                self.diags.push(Diagnostic::error("a validation block needs error_message = \"...\" (what is wrong, shown when the condition is false)", at));
                None
            }
        }
    }

    pub(super) fn output_decl<'b>(&mut self, file: FileId, b: &'b Block) -> Option<OutputDecl<'b>> {
        let span = span_of(file, b.ident.span()).unwrap_or(SrcSpan { file, range: 0..0 });
        if b.labels.len() != 1 {
            self.diags.push(Diagnostic::error("an output block takes exactly one label: output \"NAME\" { value = ... }", Some(span)));
            return None;
        }
        let name = b.labels[0].as_str().to_string();
        if !valid_name(&name) {
            self.diags.push(
                Diagnostic::error(format!("invalid output name \"{name}\""), span_of(file, b.labels[0].span()))
                    .with_note("names start with a letter or _ and contain letters, digits, _ and -"),
            );
            return None;
        }
        let mut ok = true;
        for s in b.body.iter() {
            let key = match s {
                Structure::Attribute(a) => a.key.as_str(),
                Structure::Block(inner) => inner.ident.as_str(),
            };
            if !OUTPUT_ATTRS.contains(&key) || matches!(s, Structure::Block(_)) {
                let mut d = Diagnostic::error(format!("unknown attribute \"{key}\" in output block"), span_of(file, s.span()));
                if let Some(sug) = did_you_mean(key, OUTPUT_ATTRS.iter().copied()) {
                    d = d.with_note(format!("did you mean \"{sug}\"?"));
                }
                self.diags.push(d);
                ok = false;
            }
        }
        if !b.body.has_attribute("value") {
            self.diags.push(Diagnostic::error(format!("output \"{name}\" needs a value: value = ..."), Some(span.clone())));
            ok = false;
        }
        ok.then_some(OutputDecl { name, block: b, file, span })
    }

    pub(super) fn data_decl<'b>(&mut self, file: FileId, b: &'b Block) -> Option<DataDecl<'b>> {
        let span = span_of(file, b.ident.span()).unwrap_or(SrcSpan { file, range: 0..0 });
        let names: Vec<&str> = self.lang.source_names().collect();
        if b.labels.len() != 2 {
            self.diags.push(
                Diagnostic::error("a data block takes two labels: data \"SOURCE\" \"NAME\" { ... }", Some(span))
                    .with_note(format!("sources: {}", names.join(", "))),
            );
            return None;
        }
        let source_name = b.labels[0].as_str();
        let Some(source) = self.lang.source(source_name) else {
            let mut d = Diagnostic::error(format!("unknown data source \"{source_name}\""), span_of(file, b.labels[0].span())).with_label("not a data source");
            d = match did_you_mean(source_name, names.iter().copied()) {
                Some(s) => d.with_note(format!("did you mean \"{s}\"?")),
                None => d.with_note(format!("data sources: {}", names.join(", "))),
            };
            self.diags.push(d);
            return None;
        };
        let name = b.labels[1].as_str().to_string();
        if !valid_name(&name) {
            self.diags.push(
                Diagnostic::error(format!("invalid block name \"{name}\""), span_of(file, b.labels[1].span()))
                    .with_note("names start with a letter or _ and contain letters, digits, _ and -"),
            );
            return None;
        }
        for meta in ["count", "for_each"] {
            if let Some(a) = b.body.get_attribute(meta) {
                self.diags.push(
                    Diagnostic::error(format!("{meta} is not supported on data blocks"), span_of(file, a.key.span()))
                        .with_note("write one data block per thing to read"),
                );
            }
        }
        Some(DataDecl { source, name, block: b, file, span })
    }

    pub(super) fn resource_decl<'b>(&mut self, kind: &'static dyn Kind, file: FileId, b: &'b Block) -> Option<ResourceDecl<'b>> {
        let span = span_of(file, b.ident.span()).unwrap_or(SrcSpan { file, range: 0..0 });
        if b.labels.len() != 1 {
            self.diags.push(
                Diagnostic::error(format!("{} block takes exactly one label (its name)", kind.name()), Some(span))
                    .with_note(format!("write: {} \"NAME\" {{ ... }}", kind.name())),
            );
            return None;
        }
        let name = b.labels[0].as_str().to_string();
        if !valid_name(&name) {
            self.diags.push(
                Diagnostic::error(format!("invalid block name \"{name}\""), span_of(file, b.labels[0].span()))
                    .with_note("names start with a letter or _ and contain letters, digits, _ and -"),
            );
            return None;
        }
        if b.body.has_attribute("count") && b.body.has_attribute("for_each") {
            self.diags.push(Diagnostic::error("count and for_each cannot both be set", Some(span.clone())));
        }
        Some(ResourceDecl { kind, name, block: b, file, span })
    }
}

/// Block names: a letter or _ first, then letters, digits, _ and -.
fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What an `output` block may set.
const OUTPUT_ATTRS: &[&str] = &["value", "description", "sensitive"];
