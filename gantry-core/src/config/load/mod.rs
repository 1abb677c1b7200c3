//! Reads a stack directory into a typed [`Stack`], collecting diagnostics.
//!
//! A pipeline of stages, one module each:
//! 1. [`files`]: read and parse every file (syntax errors do not stop the others);
//! 2. [`collect`]: the top-level blocks as declarations;
//! 3. [`inputs`] and [`settings`]: variable values, then the `stack` block;
//! 4. [`templates`] and [`graph`]: policy templates read, references checked
//!    and ordered (cycles reported);
//! 5. [`evaluate`] (with [`expand`] for `count`/`for_each` and [`body`] for
//!    one block against its schema): each node once, with only what it
//!    references in scope;
//! 6. [`check`]: lint, clashes between blocks, import targets.
//!
//! All disk reads are in [`files`]; what a kind fills in or checks is
//! behind its `Kind` hooks.

mod body;
mod check;
mod collect;
mod evaluate;
mod expand;
mod expr;
mod files;
mod graph;
mod inputs;
mod recover;
mod secrets;
mod settings;
mod templates;

pub use files::list_stack_files;
pub use settings::{StackSettings, OFFLINE_ACCOUNT_ID};

use crate::config::diag::{Diagnostic, Diagnostics, FileId, Sources, SrcSpan};
use crate::config::{file_functions, variables, Language};
use crate::core::bounded::ReadRoot;
use crate::core::{BackendConfig, Env, OutputValue, State};
use hcl_edit::structure::Body;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use templates::PolicyTemplate;

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
    /// Google Cloud project number, when plan read it; a placeholder otherwise.
    pub gcp_project_number: Option<String>,
    /// What this gantry bundles (the scaler zips), found on this machine:
    /// plan and apply hand it in (`ops::bundled_scaler`); `None`
    /// (validate) fills nothing.
    pub bundled: Option<std::sync::Arc<dyn crate::core::Bundled>>,
    /// `--workspace` / GANTRY_WORKSPACE: the same files as another
    /// environment, owned as stack `<label>-<workspace>`.
    pub workspace: Option<String>,
    /// What `data` blocks read, by address (`data.vpc.main`): a value, or
    /// why there is none. `None` when nothing is read (`validate`): data
    /// blocks then stand for "known at plan time".
    pub data: Option<BTreeMap<String, Result<State, String>>>,
    /// `--allow-outside-files`: files named by the stack (and var files)
    /// may lie outside the repository (see [`ReadRoot`]).
    pub allow_outside_files: bool,
}

/// A `data` block to read before the stack can be evaluated for a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRequest {
    /// `data.SOURCE.NAME`.
    pub address: String,
    /// The data source's name (`vpc`).
    pub source: &'static str,
    /// Its evaluated, schema-checked arguments.
    pub args: State,
}

impl LoadOptions {
    /// Picks up `GANTRY_VAR_*` from the process environment.
    pub fn with_process_env(mut self) -> Self {
        self.env_vars = std::env::vars().filter_map(|(k, v)| k.strip_prefix("GANTRY_VAR_").map(|n| (n.to_string(), v))).collect();
        if self.workspace.is_none() {
            self.workspace = std::env::var("GANTRY_WORKSPACE").ok().filter(|w| !w.is_empty());
        }
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
    /// The kind's name.
    pub kind: &'static str,
    /// Evaluated, schema-checked attributes with defaults applied.
    pub attrs: State,
    /// The same block read once into its kind's typed block: its identity,
    /// desired state, names and lint come from this.
    pub block: crate::core::ParsedBlock,
    /// Block addresses this resource depends on (directly or through locals).
    pub depends_on: BTreeSet<String>,
    /// Plan refuses to delete or replace it.
    pub protect: bool,
    /// The block in the files.
    pub span: Option<SrcSpan>,
}

/// A loaded stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack's name (`NAME-WORKSPACE` in a workspace).
    pub name: String,
    /// The stack's directory.
    pub dir: PathBuf,
    /// What evaluation knew of where the stack is deployed.
    pub env: Env,
    /// `aws { region }` (None: the stack uses no AWS).
    pub aws_region: Option<String>,
    /// `gcp { project }` (None: the stack uses no Google Cloud).
    pub gcp_project: Option<String>,
    /// Zones from `gcp { zones }`.
    pub gcp_zones: Vec<String>,
    /// `max_hourly_cost` of the stack block.
    pub max_hourly_cost: Option<f64>,
    /// Every resource instance, evaluated.
    pub resources: Vec<ResourceConfig>,
    /// Addresses the files explicitly adopt (`import { to = ... }`).
    pub adopt: BTreeSet<String>,
    /// Names of variables marked sensitive.
    pub sensitive_vars: BTreeSet<String>,
    /// Lint findings waived in the files ("address: RULE waived: reason").
    pub waivers: Vec<String>,
    /// Shared lock for CI, from `backend "s3" { }`.
    pub backend: Option<BackendConfig>,
    /// `output` blocks, evaluated (sensitive values included).
    pub outputs: Vec<OutputValue>,
}

/// The result of loading: sources (for rendering), diagnostics, and the
/// stack when there were no errors.
pub struct Loaded {
    /// The files read, for rendering diagnostics.
    pub sources: Sources,
    /// Every problem found, warnings included.
    pub diags: Diagnostics,
    /// The stack, when there were no errors.
    pub stack: Option<Stack>,
    /// Data blocks whose values were not given in [`LoadOptions::data`].
    pub data_requests: Vec<DataRequest>,
}

/// Reads and parses every stack file of `dir` (what both entry points start with).
fn read_files(dir: &Path, root: &ReadRoot) -> (Sources, Diagnostics, Vec<recover::BrokenBlock>, Vec<(FileId, Body)>) {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut broken = Vec::new();
    let bodies = files::read_stack_files(dir, root, &mut sources, &mut diags, &mut broken);
    (sources, diags, broken, bodies)
}

/// Loads and evaluates the stack in `dir`.
pub fn load_dir(dir: &Path, opts: &LoadOptions, lang: &Language) -> Loaded {
    let root = ReadRoot::for_stack(dir, opts.allow_outside_files);
    let (mut sources, diags, broken, bodies) = read_files(dir, &root);
    if bodies.is_empty() && diags.has_errors() {
        return Loaded { sources, diags, stack: None, data_requests: Vec::new() };
    }
    let mut loader = Loader::new(lang, dir, diags, &mut sources, opts, broken);
    // file()/templatefile() read relative to the stack directory while it is evaluated.
    let stack = file_functions::with_base_dir(dir, &root, || loader.run(dir, &bodies));
    let data_requests = std::mem::take(&mut loader.data_requests);
    let diags = loader.finish();
    let stack = if diags.has_errors() { None } else { stack };
    Loaded { sources, diags, stack, data_requests }
}

/// Reads only what the `stack` block says (variables evaluated, no
/// resource): where a command connects before it evaluates the stack once.
/// Also names the kinds the files use.
pub fn read_settings(dir: &Path, opts: &LoadOptions, lang: &Language) -> (Loaded, Option<(StackSettings, BTreeSet<&'static str>)>) {
    let root = ReadRoot::for_stack(dir, opts.allow_outside_files);
    let (mut sources, diags, broken, bodies) = read_files(dir, &root);
    let mut loader = Loader::new(lang, dir, diags, &mut sources, opts, broken);
    let found = if bodies.is_empty() {
        None
    } else {
        file_functions::with_base_dir(dir, &root, || {
            crate::config::budget::reset();
            let decls = loader.collect(&bodies);
            let given = loader.given_values(&decls.vars);
            let var_values = variables::resolve(&decls.vars, &given, &mut loader.diags);
            loader.hide_secrets(&decls, &var_values);
            loader.check_sensitive_flows(&decls);
            let used: BTreeSet<&'static str> = decls.resources.iter().map(|r| r.kind.name()).collect();
            loader.stack_block(&decls.stack_blocks, &var_values).map(|s| (s, used))
        })
    };
    let diags = loader.finish();
    let found = if diags.has_errors() { None } else { found };
    (Loaded { sources, diags, stack: None, data_requests: Vec::new() }, found)
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
const TOP_BLOCKS: &[&str] = &["stack", "variable", "locals", "import", "data", "output"];
const STACK_REFS: &[&str] = &["name", "region", "account_id", "gcp_project", "workspace"];

/// The state the stages share while loading one directory.
/// A variable's name and the span of its value in a var file.
type VarSpan = (String, Range<usize>);

struct Loader<'s> {
    lang: &'s Language,
    /// References already reported as unknown; evaluation errors they cause are not repeated.
    bad_refs: Vec<SrcSpan>,
    /// Policy templates per resource index.
    templates: HashMap<usize, Vec<PolicyTemplate>>,
    /// Waived lint findings, for the plan.
    waivers: Vec<String>,
    /// Top-level blocks lost to syntax errors: what they might have
    /// declared is not reported again as missing.
    broken: Vec<recover::BrokenBlock>,
    /// Data blocks evaluated but not read (see [`LoadOptions::data`]).
    data_requests: Vec<DataRequest>,
    /// Top-level attributes/blocks of the last resource body that had errors.
    failed_keys: BTreeSet<String>,
    /// Sensitive values: scrubbed from every diagnostic.
    secrets: BTreeSet<String>,
    /// Each var file read, with its values' spans by variable name (None:
    /// it did not parse, any line may hold a secret).
    var_file_values: Vec<(FileId, Option<Vec<VarSpan>>)>,
    dir: PathBuf,
    /// Where files named by the stack may be read from.
    read_root: ReadRoot,
    diags: Diagnostics,
    sources: &'s mut Sources,
    opts: &'s LoadOptions,
}

impl<'s> Loader<'s> {
    fn new(
        lang: &'s Language,
        dir: &Path,
        diags: Diagnostics,
        sources: &'s mut Sources,
        opts: &'s LoadOptions,
        broken: Vec<recover::BrokenBlock>,
    ) -> Loader<'s> {
        Loader {
            lang,
            bad_refs: Vec::new(),
            templates: HashMap::new(),
            waivers: Vec::new(),
            data_requests: Vec::new(),
            broken,
            failed_keys: BTreeSet::new(),
            secrets: BTreeSet::new(),
            var_file_values: Vec::new(),
            dir: dir.to_path_buf(),
            read_root: ReadRoot::for_stack(dir, opts.allow_outside_files),
            diags,
            sources,
            opts,
        }
    }

    /// The diagnostics, sorted, each said once (count/for_each instances of
    /// one block repeat the same problem).
    fn finish(self) -> Diagnostics {
        let mut diags = self.diags;
        secrets::scrub(&mut diags, &self.secrets);
        diags.sort_by_location();
        diags.dedup();
        diags
    }

    /// The pipeline, stage by stage.
    fn run(&mut self, dir: &Path, bodies: &[(FileId, Body)]) -> Option<Stack> {
        crate::config::budget::reset();
        let decls = self.collect(bodies);
        let given = self.given_values(&decls.vars);
        let var_values = variables::resolve(&decls.vars, &given, &mut self.diags);
        self.hide_secrets(&decls, &var_values);
        self.check_sensitive_flows(&decls);
        let settings = self.stack_block(&decls.stack_blocks, &var_values)?;
        let env = settings.env(dir, self.opts.account_id.as_deref(), self.opts.gcp_project_number.as_deref());
        for (i, r) in decls.resources.iter().enumerate() {
            self.load_templates(i, r, &var_values, &env);
        }
        let graph = self.graph(&decls);
        let (resources, outputs) = self.evaluate(&decls, &graph, &var_values, &env);
        self.check_clashes(&resources, &env);
        let adopt = self.imports(&decls.imports, &decls.resources);
        Some(Stack {
            waivers: std::mem::take(&mut self.waivers),
            backend: settings.backend.clone(),
            name: settings.name.clone(),
            dir: dir.to_path_buf(),
            env,
            aws_region: settings.aws_region.clone(),
            gcp_project: settings.gcp_project.clone(),
            gcp_zones: settings.gcp_zones.clone(),
            max_hourly_cost: settings.max_hourly_cost,
            resources,
            adopt,
            sensitive_vars: decls.vars.iter().filter(|d| d.sensitive).map(|d| d.name.clone()).collect(),
            outputs,
        })
    }
}
