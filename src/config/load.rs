//! Reads a stack directory into a typed [`Stack`], collecting diagnostics.
//!
//! Order of work: parse every file (syntax errors do not stop the others),
//! collect top-level blocks, resolve variable values, find references in
//! every local and resource, order them (reporting cycles), then evaluate each
//! node once with only what it references in scope.

use crate::config::diag::{did_you_mean, Diagnostic, Diagnostics, FileId, Sources, SrcSpan};
use crate::config::functions;
use crate::config::refs::{self, Reference};
use crate::config::variables::{self, ValueSource, VarDecl, VarType};
use crate::core::schema::{check_attr, Schema};
use crate::core::{BackendConfig, Env, Kind, State};
use hcl::eval::{Context, Evaluate};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Placeholder account id used when evaluating offline (`validate`).
pub const OFFLINE_ACCOUNT_ID: &str = "000000000000";

/// Inputs besides the files themselves.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-var name=value` arguments, in order.
    pub vars: Vec<String>,
    /// `-var-file` paths, in order.
    pub var_files: Vec<PathBuf>,
    /// `GANTRY_VAR_<name>` environment values.
    pub env_vars: Vec<(String, String)>,
    /// AWS account id, when known (plan/apply); a placeholder otherwise.
    pub account_id: Option<String>,
}

impl LoadOptions {
    /// Picks up `GANTRY_VAR_*` from the process environment.
    pub fn with_process_env(mut self) -> Self {
        self.env_vars = std::env::vars().filter_map(|(k, v)| k.strip_prefix("GANTRY_VAR_").map(|n| (n.to_string(), v))).collect();
        self
    }
}

/// One resource instance after evaluation.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// Full address, e.g. `ecr_repository.cache["a"]`.
    pub address: String,
    /// Block address without instance key, e.g. `ecr_repository.cache`.
    pub block_address: String,
    pub kind: &'static str,
    /// Evaluated, schema-checked attributes with defaults applied.
    pub attrs: State,
    /// Block addresses this resource depends on (directly or through locals).
    pub depends_on: BTreeSet<String>,
    /// Plan refuses to delete or replace it.
    pub protect: bool,
    pub span: Option<SrcSpan>,
}

/// A loaded stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub dir: PathBuf,
    pub env: Env,
    pub aws_region: Option<String>,
    pub gcp_project: Option<String>,
    /// Zones from `gcp { zones }`.
    pub gcp_zones: Vec<String>,
    pub resources: Vec<ResourceConfig>,
    /// Addresses the files explicitly adopt (`import { to = ... }`).
    pub adopt: BTreeSet<String>,
    /// Names of variables marked sensitive.
    pub sensitive_vars: BTreeSet<String>,
    /// Lint findings waived in the files ("address: RULE waived: reason").
    pub waivers: Vec<String>,
    /// Shared lock for CI, from `backend "s3" { }`.
    pub backend: Option<BackendConfig>,
}

/// The result of loading: sources (for rendering), diagnostics, and the
/// stack when there were no errors.
pub struct Loaded {
    pub sources: Sources,
    pub diags: Diagnostics,
    pub stack: Option<Stack>,
}

/// Lists `*.gantry.hcl` files in `dir`, sorted.
pub fn list_stack_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && p.to_string_lossy().ends_with(".gantry.hcl")).collect();
    files.sort();
    Ok(files)
}

/// Loads and evaluates the stack in `dir`.
pub fn load_dir(dir: &Path, opts: &LoadOptions, kinds: &[&'static dyn Kind]) -> Loaded {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let files = match list_stack_files(dir) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error(format!("cannot read stack directory {}: {e}", dir.display()), None));
            return Loaded { sources, diags, stack: None };
        }
    };
    if files.is_empty() {
        diags.push(
            Diagnostic::error(format!("no *.gantry.hcl files in {}", dir.display()), None)
                .with_note("a stack directory holds one or more NAME.gantry.hcl files; see README.md"),
        );
        return Loaded { sources, diags, stack: None };
    }
    let mut bodies = Vec::new();
    for path in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let id = sources.add(&path, text);
                match hcl_edit::parser::parse_body(sources.text(id)) {
                    Ok(body) => bodies.push((id, body)),
                    Err(e) => diags.push(syntax_error(&sources, id, &e)),
                }
            }
            Err(e) => diags.push(Diagnostic::error(format!("cannot read {}: {e}", path.display()), None)),
        }
    }
    let mut loader = Loader {
        kinds,
        bad_refs: Vec::new(),
        templates: HashMap::new(),
        waivers: Vec::new(),
        failed_keys: BTreeSet::new(),
        backend: None,
        dir: dir.to_path_buf(),
        diags,
        sources: &mut sources,
        opts,
    };
    let stack = loader.run(dir, &bodies);
    let mut diags = loader.diags;
    diags.sort_by_location();
    // count/for_each instances of one block repeat the same problem: say it once.
    diags.dedup();
    let stack = if diags.has_errors() { None } else { stack };
    Loaded { sources, diags, stack }
}

fn syntax_error(sources: &Sources, file: FileId, e: &hcl_edit::parser::Error) -> Diagnostic {
    let loc = e.location();
    let text_len = sources.text(file).len();
    let start = loc.offset().min(text_len);
    let end = (start + 1).min(text_len).max(start);
    Diagnostic::error(format!("syntax error: {}", e.message()), Some(SrcSpan { file, range: start..end })).with_label(e.message().to_string())
}

fn span_of(file: FileId, r: Option<Range<usize>>) -> Option<SrcSpan> {
    r.map(|range| SrcSpan { file, range })
}

const META_ATTRS: &[&str] = &["count", "for_each", "depends_on", "protect"];
const TOP_BLOCKS: &[&str] = &["stack", "variable", "locals", "import"];
const STACK_REFS: &[&str] = &["name", "region", "account_id", "gcp_project"];

/// A policy file parsed as a template (its `${...}` are evaluated with the block).
struct PolicyTemplate {
    attr: String,
    rel: String,
    file: FileId,
    template: hcl_edit::template::Template,
}

/// A local value declaration.
struct LocalDecl<'a> {
    name: String,
    expr: &'a Expression,
    file: FileId,
    span: SrcSpan,
}

/// A resource block declaration.
struct ResourceDecl<'a> {
    kind: &'static dyn Kind,
    name: String,
    block: &'a Block,
    file: FileId,
    span: SrcSpan,
}

impl ResourceDecl<'_> {
    fn block_address(&self) -> String {
        format!("{}.{}", self.kind.name(), self.name)
    }
    fn meta(&self, name: &str) -> Option<&Expression> {
        self.block.body.get_attribute(name).map(|a| &a.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Node {
    Local(usize),
    Resource(usize),
}

struct Loader<'s> {
    kinds: &'s [&'static dyn Kind],
    /// References already reported as unknown; evaluation errors they cause are not repeated.
    bad_refs: Vec<SrcSpan>,
    /// Policy templates per resource index: (attribute, relative path, file, template).
    templates: HashMap<usize, Vec<PolicyTemplate>>,
    /// Waived lint findings, for the plan.
    waivers: Vec<String>,
    /// Top-level attributes/blocks of the last resource body that had errors.
    failed_keys: BTreeSet<String>,
    /// The stack's `backend "s3"`, if any.
    backend: Option<BackendConfig>,
    dir: PathBuf,
    diags: Diagnostics,
    sources: &'s mut Sources,
    opts: &'s LoadOptions,
}

/// What one node may see while it is evaluated.
struct Scope {
    vars: hcl::Map<String, hcl::Value>,
    locals: HashMap<String, hcl::Value>,
    resources: HashMap<(String, String), hcl::Value>,
    stack: hcl::Value,
}

impl<'s> Loader<'s> {
    fn kind(&self, name: &str) -> Option<&'static dyn Kind> {
        self.kinds.iter().copied().find(|k| k.name() == name)
    }

    fn run(&mut self, dir: &Path, bodies: &[(FileId, Body)]) -> Option<Stack> {
        // 1. Collect top-level declarations.
        let mut stack_blocks: Vec<(FileId, &Block)> = Vec::new();
        let mut var_decls: Vec<VarDecl> = Vec::new();
        let mut locals: Vec<LocalDecl> = Vec::new();
        let mut resources: Vec<ResourceDecl> = Vec::new();
        let mut imports: Vec<(FileId, &Block)> = Vec::new();
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
                                    if let Some(prev) = var_decls.iter().find(|v| v.name == d.name) {
                                        let prev = prev.span.clone();
                                        self.diags.push(
                                            Diagnostic::error(format!("variable \"{}\" is declared twice", d.name), Some(d.span.clone()))
                                                .with_related(prev, "first declared here"),
                                        );
                                    } else {
                                        var_decls.push(d);
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
                            _ => match self.kind(ident) {
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
                                    let names: Vec<&str> = TOP_BLOCKS.iter().copied().chain(self.kinds.iter().map(|k| k.name())).collect();
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

        // 2. Variables.
        let given = self.given_values(&var_decls);
        let var_values = variables::resolve(&var_decls, &given, &mut self.diags);

        // 3. The stack block.
        let (name, region, extra_regions, gcp_project, gcp_zones) = self.stack_block(&stack_blocks, &var_values)?;
        let env = Env {
            stack: name.clone(),
            region: region.clone().unwrap_or_default(),
            account_id: self.opts.account_id.clone().unwrap_or_else(|| OFFLINE_ACCOUNT_ID.to_string()),
            dir: dir.to_path_buf(),
            regions: region.iter().cloned().chain(extra_regions).collect(),
            gcp_project: gcp_project.clone().unwrap_or_default(),
        };

        // 4. Policy templates (their references order evaluation too).
        for (i, r) in resources.iter().enumerate() {
            self.load_templates(i, r, &var_values, &env);
        }

        // 5. References and ordering.
        let mut edges: BTreeMap<Node, BTreeSet<Node>> = BTreeMap::new();
        for (i, l) in locals.iter().enumerate() {
            let refs = refs::collect(l.expr);
            let deps = self.check_refs(l.file, &refs, &var_decls, &locals, &resources, None);
            edges.insert(Node::Local(i), deps);
        }
        for (i, r) in resources.iter().enumerate() {
            let mut all = Vec::new();
            collect_body_refs(&r.block.body, &mut all);
            let mut deps = self.check_refs(r.file, &all, &var_decls, &locals, &resources, Some(r));
            let template_refs: Vec<(FileId, Vec<Reference>)> =
                self.templates.get(&i).map(|ts| ts.iter().map(|t| (t.file, refs::collect_template(&t.template))).collect()).unwrap_or_default();
            for (file, trefs) in template_refs {
                deps.extend(self.check_refs(file, &trefs, &var_decls, &locals, &resources, Some(r)));
            }
            edges.insert(Node::Resource(i), deps);
        }
        let (order, in_cycles) = self.topo_order(&edges, &locals, &resources);

        // 5. Evaluate in order.
        let mut scope = Scope {
            vars: var_values.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect(),
            locals: HashMap::new(),
            resources: HashMap::new(),
            stack: to_hcl(&serde_json::json!({
                "name": env.stack, "region": env.region, "account_id": env.account_id,
                "gcp_project": gcp_project.clone().unwrap_or_default(),
            })),
        };
        // Nodes in a cycle already have a diagnostic; evaluating them would only add noise.
        let mut failed: BTreeSet<Node> = in_cycles;
        let mut out = Vec::new();
        for node in order {
            if edges[&node].iter().any(|d| failed.contains(d)) {
                failed.insert(node); // its dependency already has a diagnostic
                continue;
            }
            let ok = match node {
                Node::Local(i) => {
                    let l = &locals[i];
                    let refs = refs::collect(l.expr);
                    let ctx = build_context(&scope, &refs);
                    match self.eval(l.file, l.expr, &ctx) {
                        Some(v) => {
                            scope.locals.insert(l.name.clone(), to_hcl(&v));
                            true
                        }
                        None => false,
                    }
                }
                Node::Resource(i) => self.eval_resource(i, &resources, &mut scope, &env, &edges, &mut out),
            };
            if !ok {
                failed.insert(node);
            }
        }

        // 6. Cross-resource checks: two blocks naming the same cloud resource.
        let mut seen: HashMap<(String, String), &ResourceConfig> = HashMap::new();
        for r in &out {
            let kind = self.kind(r.kind).expect("registered kind");
            let id = (r.kind.to_string(), kind.identity(&r.attrs));
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

        let adopt = self.imports(&imports, &resources);
        let waivers = std::mem::take(&mut self.waivers);
        Some(Stack {
            waivers,
            backend: self.backend.clone(),
            name,
            dir: dir.to_path_buf(),
            env,
            aws_region: region,
            gcp_project,
            gcp_zones,
            resources: out,
            adopt,
            sensitive_vars: var_decls.iter().filter(|d| d.sensitive).map(|d| d.name.clone()).collect(),
        })
    }

    fn variable_decl(&mut self, file: FileId, b: &Block) -> Option<VarDecl> {
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
        for s in b.body.iter() {
            let Structure::Attribute(a) = s else {
                self.diags.push(Diagnostic::error("variable blocks contain only attributes", span_of(file, s.span())));
                continue;
            };
            let vspan = span_of(file, a.value.span());
            match a.key.as_str() {
                "type" => {
                    let text = vspan.as_ref().map(|s| self.sources.text(file)[s.range.clone()].to_string()).unwrap_or_default();
                    match VarType::parse(&text) {
                        Some(t) => ty = t,
                        None => self.diags.push(
                            Diagnostic::error(format!("unsupported variable type `{}`", text.trim()), vspan)
                                .with_note("use one of: string, number, bool, list(string), map(string), any"),
                        ),
                    }
                }
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
            if let Err(e) = ty.check(v) {
                self.diags.push(Diagnostic::error(format!("default of variable \"{name}\" does not match its type: {e}"), Some(label_span.clone())));
            }
        }
        Some(VarDecl { name, ty, default, sensitive, span: label_span })
    }

    fn resource_decl<'b>(&mut self, kind: &'static dyn Kind, file: FileId, b: &'b Block) -> Option<ResourceDecl<'b>> {
        let span = span_of(file, b.ident.span()).unwrap_or(SrcSpan { file, range: 0..0 });
        if b.labels.len() != 1 {
            self.diags.push(
                Diagnostic::error(format!("{} block takes exactly one label (its name)", kind.name()), Some(span))
                    .with_note(format!("write: {} \"NAME\" {{ ... }}", kind.name())),
            );
            return None;
        }
        let name = b.labels[0].as_str().to_string();
        let valid =
            name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
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

    /// Values given outside the files: env < var files < -var.
    fn given_values(&mut self, decls: &[VarDecl]) -> Vec<(String, Value, ValueSource)> {
        let mut out = Vec::new();
        let find = |n: &str| decls.iter().find(|d| d.name == n);
        for (name, raw) in &self.opts.env_vars {
            if let Some(d) = find(name) {
                match variables::parse_cli_value(d.ty, raw) {
                    Ok(v) => out.push((name.clone(), v, ValueSource::Env(format!("GANTRY_VAR_{name}")))),
                    Err(e) => self.diags.push(Diagnostic::error(format!("GANTRY_VAR_{name}: {e}"), Some(d.span.clone()))),
                }
            }
        }
        for path in &self.opts.var_files {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    self.diags.push(Diagnostic::error(format!("cannot read var file {}: {e}", path.display()), None));
                    continue;
                }
            };
            let file = self.sources.add(path, text);
            let body = match hcl_edit::parser::parse_body(self.sources.text(file)) {
                Ok(b) => b,
                Err(e) => {
                    self.diags.push(syntax_error(self.sources, file, &e));
                    continue;
                }
            };
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
                Some(d) => match variables::parse_cli_value(d.ty, raw) {
                    Ok(v) => out.push((name.to_string(), v, ValueSource::CommandLine)),
                    Err(e) => self.diags.push(Diagnostic::error(format!("-var {name}: {e}"), Some(d.span.clone()))),
                },
                None => self.diags.push(self.undeclared_var(name, None, decls)),
            }
        }
        out
    }

    fn undeclared_var(&self, name: &str, span: Option<SrcSpan>, decls: &[VarDecl]) -> Diagnostic {
        let mut d = Diagnostic::error(format!("a value was given for undeclared variable \"{name}\""), span)
            .with_note(format!("declare it: variable \"{name}\" {{ type = string }}"));
        if let Some(s) = did_you_mean(name, decls.iter().map(|d| d.name.as_str())) {
            d = d.with_note(format!("did you mean \"{s}\"?"));
        }
        d
    }

    /// Reads the single `stack` block: name, aws.region, gcp.project.
    #[allow(clippy::type_complexity)]
    fn stack_block(
        &mut self,
        blocks: &[(FileId, &Block)],
        vars: &serde_json::Map<String, Value>,
    ) -> Option<(String, Option<String>, Vec<String>, Option<String>, Vec<String>)> {
        let Some(&(file, b)) = blocks.first() else {
            self.diags.push(Diagnostic::error("no `stack` block found", None).with_note("add one: stack \"NAME\" { aws { region = \"us-west-2\" } }"));
            return None;
        };
        for &(f2, b2) in &blocks[1..] {
            self.diags.push(
                Diagnostic::error("only one `stack` block is allowed per directory", span_of(f2, b2.ident.span()))
                    .with_related(SrcSpan { file, range: b.ident.span().unwrap_or(0..0) }, "first stack block"),
            );
        }
        let span = span_of(file, b.ident.span());
        if b.labels.len() != 1 {
            self.diags.push(Diagnostic::error("the stack block takes exactly one label: stack \"NAME\" { ... }", span));
            return None;
        }
        let name = b.labels[0].as_str().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || name.len() > 64 {
            self.diags.push(
                Diagnostic::error(format!("invalid stack name \"{name}\""), span_of(file, b.labels[0].span()))
                    .with_note("use up to 64 letters, digits, - and _ (it becomes part of tags and IAM paths)"),
            );
        }
        let mut ctx = base_context();
        ctx.declare_var("var", hcl::Value::Object(vars.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect()));
        let attrs = self.eval_body(file, &b.body, &STACK_SCHEMA, &ctx, &[], span.clone());
        let region = attrs.get("aws").and_then(|a| a.get("region")).and_then(Value::as_str).map(String::from);
        let extra: Vec<String> = attrs
            .get("aws")
            .and_then(|a| a.get("extra_regions"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .filter(|r| Some(r) != region.as_ref())
            .collect();
        self.backend = attrs.get("backend").map(|b| BackendConfig {
            bucket: b.get("bucket").and_then(Value::as_str).unwrap_or_default().to_string(),
            key: b.get("key").and_then(Value::as_str).map(String::from).unwrap_or_else(|| format!("gantry/{name}/lock")),
            region: b.get("region").and_then(Value::as_str).map(String::from).or_else(|| region.clone()),
        });
        let project = attrs.get("gcp").and_then(|a| a.get("project")).and_then(Value::as_str).map(String::from);
        let zones: Vec<String> = attrs
            .get("gcp")
            .and_then(|a| a.get("zones"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        Some((name, region, extra, project, zones))
    }

    /// Checks each reference and returns the nodes it depends on.
    fn check_refs(
        &mut self,
        file: FileId,
        refs: &[Reference],
        vars: &[VarDecl],
        locals: &[LocalDecl],
        resources: &[ResourceDecl],
        within: Option<&ResourceDecl>,
    ) -> BTreeSet<Node> {
        let mut deps = BTreeSet::new();
        for r in refs {
            let span = Some(SrcSpan { file, range: r.span.clone() });
            let attr = r.attr.as_deref();
            let problem: Option<Diagnostic> = match r.root.as_str() {
                "var" => match attr {
                    Some(a) if vars.iter().any(|v| v.name == a) => None,
                    Some(a) => Some(unknown("variable", &format!("var.{a}"), a, vars.iter().map(|v| v.name.as_str()), span.clone())),
                    None => Some(Diagnostic::error("`var` must be followed by a variable name, e.g. var.region", span.clone())),
                },
                "local" => match attr.and_then(|a| locals.iter().position(|l| l.name == a)) {
                    Some(i) => {
                        deps.insert(Node::Local(i));
                        None
                    }
                    None => {
                        let a = attr.unwrap_or("");
                        Some(unknown("local value", &format!("local.{a}"), a, locals.iter().map(|l| l.name.as_str()), span.clone()))
                    }
                },
                "policy" if within.is_some_and(|w| w.kind.schema().attr("policy_vars").is_some()) => None,
                "stack" => match attr {
                    Some(a) if STACK_REFS.contains(&a) => None,
                    _ => {
                        Some(unknown("stack attribute", &format!("stack.{}", attr.unwrap_or("")), attr.unwrap_or(""), STACK_REFS.iter().copied(), span.clone()))
                    }
                },
                "count" => match within {
                    Some(w) if w.meta("count").is_some() && attr == Some("index") => None,
                    Some(w) if w.meta("count").is_some() => Some(Diagnostic::error("only count.index is available", span.clone())),
                    _ => Some(Diagnostic::error("count.index is only available in a block that sets `count`", span.clone())),
                },
                "each" => match within {
                    Some(w) if w.meta("for_each").is_some() && matches!(attr, Some("key") | Some("value")) => None,
                    Some(w) if w.meta("for_each").is_some() => Some(Diagnostic::error("only each.key and each.value are available", span.clone())),
                    _ => Some(Diagnostic::error("each.key/each.value are only available in a block that sets `for_each`", span.clone())),
                },
                root if self.kind(root).is_some() => match attr {
                    Some(a) => match resources.iter().position(|x| x.kind.name() == root && x.name == a) {
                        Some(i) => {
                            if within.is_some_and(|w| w.kind.name() == root && w.name == a) {
                                Some(Diagnostic::error(format!("{root}.{a} refers to itself"), span.clone()))
                            } else {
                                deps.insert(Node::Resource(i));
                                None
                            }
                        }
                        None => Some(unknown(
                            "resource",
                            &format!("{root}.{a}"),
                            a,
                            resources.iter().filter(|x| x.kind.name() == root).map(|x| x.name.as_str()),
                            span.clone(),
                        )),
                    },
                    None => Some(Diagnostic::error(format!("`{root}` must be followed by a resource name, e.g. {root}.NAME.ATTR"), span.clone())),
                },
                root => {
                    let names: Vec<&str> = ["var", "local", "stack", "count", "each"].into_iter().chain(self.kinds.iter().map(|k| k.name())).collect();
                    Some(unknown("name", root, root, names.iter().copied(), span.clone()))
                }
            };
            if let Some(d) = problem {
                self.bad_refs.extend(span.clone());
                self.diags.push(d);
            }
        }
        deps
    }

    /// Topological order of locals and resources; reports every cycle.
    fn topo_order(&mut self, edges: &BTreeMap<Node, BTreeSet<Node>>, locals: &[LocalDecl], resources: &[ResourceDecl]) -> (Vec<Node>, BTreeSet<Node>) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks: BTreeMap<Node, Mark> = edges.keys().map(|n| (*n, Mark::New)).collect();
        let mut order = Vec::new();
        let mut in_cycles = BTreeSet::new();
        let name = |n: Node| match n {
            Node::Local(i) => (format!("local.{}", locals[i].name), locals[i].span.clone()),
            Node::Resource(i) => (resources[i].block_address(), resources[i].span.clone()),
        };
        // Iterative DFS with an explicit path so cycles can be named.
        for &start in edges.keys() {
            if marks[&start] != Mark::New {
                continue;
            }
            let mut stack: Vec<(Node, Vec<Node>)> = vec![(start, edges[&start].iter().copied().collect())];
            marks.insert(start, Mark::Active);
            while let Some((node, pending)) = stack.last_mut() {
                if let Some(next) = pending.pop() {
                    match marks[&next] {
                        Mark::New => {
                            marks.insert(next, Mark::Active);
                            let nexts = edges[&next].iter().copied().collect();
                            stack.push((next, nexts));
                        }
                        Mark::Active => {
                            let pos = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let cycle: Vec<Node> = stack[pos..].iter().map(|(n, _)| *n).collect();
                            in_cycles.extend(cycle.iter().copied());
                            let names: Vec<String> = cycle.iter().map(|n| name(*n).0).collect();
                            let (_, span) = name(cycle[0]);
                            self.diags.push(
                                Diagnostic::error(format!("reference cycle: {} -> {}", names.join(" -> "), names[0]), Some(span))
                                    .with_note("break the cycle by removing one of these references"),
                            );
                        }
                        Mark::Done => {}
                    }
                } else {
                    let n = *node;
                    marks.insert(n, Mark::Done);
                    order.push(n);
                    stack.pop();
                }
            }
        }
        (order, in_cycles)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_resource(
        &mut self,
        index: usize,
        resources: &[ResourceDecl],
        scope: &mut Scope,
        env: &Env,
        edges: &BTreeMap<Node, BTreeSet<Node>>,
        out: &mut Vec<ResourceConfig>,
    ) -> bool {
        let r = &resources[index];
        let mut all_refs = Vec::new();
        collect_body_refs(&r.block.body, &mut all_refs);
        if let Some(ts) = self.templates.get(&index) {
            for t in ts {
                all_refs.extend(refs::collect_template(&t.template));
            }
        }
        let base = build_context(scope, &all_refs);
        let depends_on = resource_deps(edges, Node::Resource(index), resources);
        let protect = match r.meta("protect") {
            Some(e) => match self.eval(r.file, e, &base) {
                Some(Value::Bool(b)) => b,
                Some(_) => {
                    self.diags.push(Diagnostic::error("protect must be true or false", span_of(r.file, e.span())));
                    return false;
                }
                None => return false,
            },
            None => false,
        };

        // Expand count / for_each into instances: (key suffix, each/count value).
        enum Inst {
            Single,
            Count(usize),
            Each(String, Value),
        }
        let instances: Vec<Inst> = if let Some(e) = r.meta("count") {
            match self.eval(r.file, e, &base) {
                Some(v) => match v.as_u64() {
                    Some(n) if n <= 10_000 => (0..n as usize).map(Inst::Count).collect(),
                    _ => {
                        self.diags.push(Diagnostic::error(format!("count must be a whole number from 0 to 10000, got {v}"), span_of(r.file, e.span())));
                        return false;
                    }
                },
                None => return false,
            }
        } else if let Some(e) = r.meta("for_each") {
            match self.eval(r.file, e, &base) {
                Some(Value::Object(m)) => m.into_iter().map(|(k, v)| Inst::Each(k, v)).collect(),
                Some(Value::Array(items)) => {
                    let mut keys = BTreeSet::new();
                    let mut insts = Vec::new();
                    for i in items {
                        let Value::String(s) = i else {
                            self.diags.push(Diagnostic::error("for_each over a list needs strings (or use a map)", span_of(r.file, e.span())));
                            return false;
                        };
                        if !keys.insert(s.clone()) {
                            self.diags.push(Diagnostic::error(format!("for_each list contains \"{s}\" twice"), span_of(r.file, e.span())));
                            return false;
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
                    return false;
                }
                None => return false,
            }
        } else {
            vec![Inst::Single]
        };

        let block_span = Some(r.span.clone());
        let mut ok = true;
        let mut list_value = Vec::new();
        let mut map_value = hcl::Map::new();
        let mut single_value = hcl::Value::Null;
        for inst in &instances {
            let mut ctx = base.clone();
            let (suffix, count_val, each_val) = match inst {
                Inst::Single => (String::new(), None, None),
                Inst::Count(i) => (format!("[{i}]"), Some(*i), None),
                Inst::Each(k, v) => (format!("[{}]", serde_json::to_string(k).unwrap_or_default()), None, Some((k.clone(), v.clone()))),
            };
            if let Some(i) = count_val {
                let mut m = hcl::Map::new();
                m.insert("index".to_string(), hcl::Value::from(i as u64));
                ctx.declare_var("count", hcl::Value::Object(m));
            }
            if let Some((k, v)) = &each_val {
                let mut m = hcl::Map::new();
                m.insert("key".to_string(), hcl::Value::from(k.clone()));
                m.insert("value".to_string(), to_hcl(v));
                ctx.declare_var("each", hcl::Value::Object(m));
            }
            let before = self.diags.error_count();
            let mut attrs = self.eval_body(r.file, &r.block.body, r.kind.schema(), &ctx, META_ATTRS, block_span.clone());
            // A kind's `name` defaults to the block label, as in `ecr_repository "cache" {}`.
            if r.kind.schema().attr("name").is_some_and(|a| !a.required && a.default.is_none()) && !attrs.contains_key("name") {
                attrs.insert("name".to_string(), Value::String(r.name.clone()));
            }
            let body_failed = self.diags.error_count() > before;
            // A regional kind's `region` defaults to the stack's.
            if r.kind.schema().attr("region").is_some() && !attrs.contains_key("region") && !env.region.is_empty() {
                attrs.insert("region".to_string(), Value::String(env.region.clone()));
            }
            // Template errors do not hide the block's other problems.
            self.render_templates(index, &ctx, &mut attrs);
            for p in r.kind.check(&attrs).into_iter().chain(r.kind.check_env(&attrs, env)) {
                // After evaluation errors, only problems with values that did evaluate are real.
                if body_failed && (!attrs.contains_key(&p.attr) || self.failed_keys.contains(&p.attr)) {
                    continue;
                }
                let span = r.block.body.get_attribute(&p.attr).and_then(|a| span_of(r.file, a.value.span())).or_else(|| block_span.clone());
                self.diags.push(Diagnostic::error(format!("{}: {}", p.attr, p.message), span));
            }
            if self.diags.error_count() > before {
                ok = false;
                continue;
            }
            self.lint(r, &format!("{}{}", r.block_address(), suffix), &attrs, env);
            let outputs = to_hcl(&Value::Object(r.kind.outputs(&attrs, env)));
            match inst {
                Inst::Single => single_value = outputs,
                Inst::Count(_) => list_value.push(outputs),
                Inst::Each(k, _) => {
                    map_value.insert(k.clone(), outputs);
                }
            }
            out.push(ResourceConfig {
                address: format!("{}{}", r.block_address(), suffix),
                block_address: r.block_address(),
                kind: r.kind.name(),
                attrs,
                depends_on: depends_on.clone(),
                protect,
                span: block_span.clone(),
            });
        }
        let value = if r.meta("count").is_some() {
            hcl::Value::Array(list_value)
        } else if r.meta("for_each").is_some() {
            hcl::Value::Object(map_value)
        } else {
            single_value
        };
        scope.resources.insert((r.kind.name().to_string(), r.name.clone()), value);
        ok
    }

    /// Evaluates a block body against a schema: unknown names, types,
    /// required attributes and defaults.
    fn eval_body(&mut self, file: FileId, body: &Body, schema: &Schema, ctx: &Context, skip: &[&'static str], block_span: Option<SrcSpan>) -> State {
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
                                if let Some(v) = self.hash_file(&path, span_of(file, a.value.span())) {
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
            }
        }
        out
    }

    /// `waive "RULE" { reason = "..." }` inside a resource block.
    fn waive_block(&mut self, file: FileId, b: &Block, ctx: &Context, out: &mut State) {
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

    /// Reads the policy files named by a resource's PolicyFiles attributes.
    /// Paths may use `var` and `stack` only, so they are known before evaluation.
    fn load_templates(&mut self, index: usize, r: &ResourceDecl, vars: &serde_json::Map<String, Value>, env: &Env) {
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
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        self.diags.push(
                            Diagnostic::error(format!("cannot read policy file {}: {e}", path.display()), vspan.clone())
                                .with_note("paths are relative to the stack directory, e.g. \"../../policies/ecr-push.json\""),
                        );
                        continue;
                    }
                };
                let file = self.sources.add(&path, text);
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
    fn render_templates(&mut self, index: usize, ctx: &Context, attrs: &mut State) {
        let Some(templates) = self.templates.get(&index) else { return };
        let mut ctx = ctx.clone();
        ctx.declare_var("policy", to_hcl(attrs.get("policy_vars").unwrap_or(&Value::Object(Default::default()))));
        let mut rendered: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let work: Vec<(String, String, FileId, hcl::Template)> =
            templates.iter().map(|t| (t.attr.clone(), t.rel.clone(), t.file, hcl::Template::from(t.template.clone()))).collect();
        for (attr, rel, file, template) in work {
            let text = match template.evaluate(&ctx) {
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

    /// Runs the kind's security lint; waived findings become warnings.
    fn lint(&mut self, r: &ResourceDecl, address: &str, attrs: &State, env: &Env) {
        let findings = r.kind.lint(attrs, env);
        let waivers: Vec<(String, String)> = attrs
            .get("waive")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|w| (w["rule"].as_str().unwrap_or("").to_string(), w["reason"].as_str().unwrap_or("").to_string())).collect())
            .unwrap_or_default();
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
        for (rule, _) in &waivers {
            if !findings.iter().any(|f| f.rule == rule) {
                self.diags.push(Diagnostic::warning(format!("{address}: waiver for {rule} matches no finding; remove it"), Some(r.span.clone())));
            }
        }
    }

    /// Where a lint finding points: into the policy file when it can find
    /// the offending text, else at the attribute, else at the block.
    fn finding_span(&self, r: &ResourceDecl, f: &crate::lint::Finding) -> Option<SrcSpan> {
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

    /// Hashes a file named by an attribute (a deployable artifact).
    fn hash_file(&mut self, rel: &str, span: Option<SrcSpan>) -> Option<Value> {
        use sha2::Digest;
        let path = self.dir.join(rel);
        match std::fs::read(&path) {
            Ok(bytes) => {
                use base64::Engine;
                let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
                let abs = std::fs::canonicalize(&path).unwrap_or(path);
                Some(serde_json::json!({"path": abs.display().to_string(), "sha256": sha, "size": bytes.len()}))
            }
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(format!("cannot read {}: {e}", path.display()), span)
                        .with_note("paths are relative to the stack directory; build the scaler zip with scripts/build-scaler.sh"),
                );
                None
            }
        }
    }

    /// Reads a JSON document named by an attribute, relative to the stack
    /// directory; parse errors point into the JSON file itself.
    fn read_json_file(&mut self, file: FileId, rel: &str, span: Option<SrcSpan>) -> Option<Value> {
        let path = self.dir.join(rel);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.diags.push(Diagnostic::error(format!("cannot read {}: {e}", path.display()), span).with_note("paths are relative to the stack directory"));
                return None;
            }
        };
        let _ = file;
        let id = self.sources.add(&path, text);
        match serde_json::from_str::<Value>(self.sources.text(id)) {
            Ok(v) => Some(v),
            Err(e) => {
                let at = self.sources.offset_of(id, e.line(), e.column());
                let end = (at + 1).min(self.sources.text(id).len());
                self.diags.push(
                    Diagnostic::error(format!("{} is not valid JSON: {e}", path.display()), Some(SrcSpan { file: id, range: at.min(end)..end }))
                        .with_related(span.unwrap_or(SrcSpan { file, range: 0..0 }), "referenced here"),
                );
                None
            }
        }
    }

    fn eval(&mut self, file: FileId, expr: &Expression, ctx: &Context) -> Option<Value> {
        let e: hcl::Expression = expr.clone().into();
        match e.evaluate(ctx) {
            Ok(v) => match serde_json::to_value(&v) {
                Ok(j) => Some(j),
                Err(err) => {
                    self.diags.push(Diagnostic::error(format!("cannot use this value: {err}"), span_of(file, expr.span())));
                    None
                }
            },
            Err(errs) => {
                let range = expr.span().unwrap_or(0..0);
                if self.bad_refs.iter().any(|b| b.file == file && b.range.start >= range.start && b.range.end <= range.end) {
                    return None; // already reported as an unknown reference
                }
                let msg = errs.kind().to_string();
                self.diags.push(Diagnostic::error(format!("cannot evaluate expression: {msg}"), span_of(file, expr.span())).with_label(msg));
                None
            }
        }
    }

    fn imports(&mut self, imports: &[(FileId, &Block)], resources: &[ResourceDecl]) -> BTreeSet<String> {
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

fn unknown<'a>(what: &str, shown: &str, name: &str, candidates: impl IntoIterator<Item = &'a str>, span: Option<SrcSpan>) -> Diagnostic {
    let mut d = Diagnostic::error(format!("unknown {what} {shown}"), span).with_label("not declared");
    if let Some(s) = did_you_mean(name, candidates) {
        d = d.with_note(format!("did you mean \"{s}\"?"));
    }
    d
}

fn collect_body_refs(body: &Body, out: &mut Vec<Reference>) {
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.extend(refs::collect(&a.value)),
            Structure::Block(b) => collect_body_refs(&b.body, out),
        }
    }
}

/// Block addresses a resource depends on, following locals transitively.
fn resource_deps(edges: &BTreeMap<Node, BTreeSet<Node>>, start: Node, resources: &[ResourceDecl]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<Node> = edges.get(&start).map(|s| s.iter().copied().collect()).unwrap_or_default();
    while let Some(n) = todo.pop() {
        if !seen.insert(n) {
            continue;
        }
        match n {
            Node::Resource(i) => {
                out.insert(resources[i].block_address());
            }
            Node::Local(_) => todo.extend(edges.get(&n).into_iter().flatten().copied()),
        }
    }
    out
}

fn base_context() -> Context<'static> {
    let mut ctx = Context::new();
    functions::declare_all(&mut ctx);
    ctx
}

/// A context holding only what `refs` mention (keeps evaluation linear in
/// the number of references rather than the size of the stack).
fn build_context(scope: &Scope, refs: &[Reference]) -> Context<'static> {
    let mut ctx = base_context();
    ctx.declare_var("var", hcl::Value::Object(scope.vars.clone()));
    ctx.declare_var("stack", scope.stack.clone());
    let mut locals = hcl::Map::new();
    let mut kinds: HashMap<&str, hcl::Map<String, hcl::Value>> = HashMap::new();
    for r in refs {
        let Some(attr) = &r.attr else { continue };
        if r.root == "local" {
            if let Some(v) = scope.locals.get(attr) {
                locals.insert(attr.clone(), v.clone());
            }
        } else if let Some(v) = scope.resources.get(&(r.root.clone(), attr.clone())) {
            kinds.entry(r.root.as_str()).or_default().insert(attr.clone(), v.clone());
        }
    }
    ctx.declare_var("local", hcl::Value::Object(locals));
    for (k, m) in kinds {
        ctx.declare_var(k.to_string(), hcl::Value::Object(m));
    }
    ctx
}

fn to_hcl(v: &Value) -> hcl::Value {
    hcl::to_value(v).unwrap_or(hcl::Value::Null)
}

static STACK_SCHEMA: Schema = Schema {
    attrs: &[],
    blocks: &[
        crate::core::schema::NestedBlock {
            name: "backend",
            schema: &BACKEND_SCHEMA,
            repeated: false,
            doc: "Shared lock for CI: backend \"s3\" { bucket, key, region }.",
        },
        crate::core::schema::NestedBlock { name: "aws", schema: &AWS_SCHEMA, repeated: false, doc: "AWS settings for this stack." },
        crate::core::schema::NestedBlock { name: "gcp", schema: &GCP_SCHEMA, repeated: false, doc: "Google Cloud settings for this stack." },
    ],
};
static BACKEND_SCHEMA: Schema = Schema {
    attrs: &[
        crate::core::schema::Attr::new("bucket", crate::core::schema::Ty::String, "S3 bucket holding the lock object.").required(),
        crate::core::schema::Attr::new("key", crate::core::schema::Ty::String, "Object key (default gantry/<stack>/lock)."),
        crate::core::schema::Attr::new("region", crate::core::schema::Ty::String, "Bucket region (default: the stack's)."),
    ],
    blocks: &[],
};

static AWS_SCHEMA: Schema = Schema {
    attrs: &[
        crate::core::schema::Attr::new("region", crate::core::schema::Ty::String, "AWS region, e.g. us-west-2.").required(),
        crate::core::schema::Attr::new("extra_regions", crate::core::schema::Ty::ListOfString, "Other regions the stack manages (agent queues).")
            .default(crate::core::schema::DefaultValue::EmptyList),
    ],
    blocks: &[],
};
static GCP_SCHEMA: Schema = Schema {
    attrs: &[
        crate::core::schema::Attr::new("project", crate::core::schema::Ty::String, "Google Cloud project id.").required(),
        crate::core::schema::Attr::new(
            "zones",
            crate::core::schema::Ty::ListOfString,
            "Zones to read besides those in the files (to find nodes whose blocks were removed).",
        )
        .default(crate::core::schema::DefaultValue::EmptyList),
    ],
    blocks: &[],
};
