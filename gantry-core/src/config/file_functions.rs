//! `file(path)` and `templatefile(path, vars)`: read a file next to the
//! stack files (paths are relative to the stack directory, as Terraform's
//! are relative to the module). Functions are plain `fn` pointers in
//! hcl-rs, so the directory is set per load on the loading thread.

use crate::core::bounded::ReadRoot;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::Value;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    static BASE_DIR: RefCell<Option<(PathBuf, ReadRoot)>> = const { RefCell::new(None) };
    /// templatefile() calls in progress: a template may call templatefile
    /// (functions are in its scope), and one that renders itself would
    /// recurse until the stack overflows.
    static TEMPLATE_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// How deep templatefile() calls may nest.
pub(super) const TEMPLATE_DEPTH_LIMIT: u32 = 8;

/// Runs `f` with `dir` as the directory `file()` and `templatefile()` read
/// from, and `root` as where they may read.
pub(super) fn with_base_dir<T>(dir: &Path, root: &ReadRoot, f: impl FnOnce() -> T) -> T {
    let before = BASE_DIR.with(|b| b.replace(Some((dir.to_path_buf(), root.clone()))));
    let out = f();
    BASE_DIR.with(|b| *b.borrow_mut() = before);
    out
}

/// What a template sees: every function of the language, handed over by
/// whoever declares `templatefile` (this file does not name that module,
/// which names this one).
static TEMPLATE_FUNCTIONS: std::sync::OnceLock<fn(&mut Context)> = std::sync::OnceLock::new();

/// Declares `file` and `templatefile`; `all` declares every function into
/// a template's scope.
pub(crate) fn declare(ctx: &mut Context, all: fn(&mut Context)) {
    let _ = TEMPLATE_FUNCTIONS.set(all);
    ctx.declare_func("file", FuncDef::new(file, [ParamType::String]));
    ctx.declare_func("templatefile", FuncDef::new(templatefile, [ParamType::String, ParamType::object_of(ParamType::Any)]));
}

fn read(func: &str, rel: &str) -> Result<String, String> {
    // Without a base (a function evaluated outside a stack load) the
    // current directory is the stack and the repository both.
    let (base, root) = BASE_DIR.with(|b| b.borrow().clone()).unwrap_or_else(|| (PathBuf::from("."), ReadRoot::for_stack(Path::new("."), false)));
    let path = base.join(rel);
    let bytes = crate::core::bounded::read_inside(&path, crate::core::bounded::TEXT_LIMIT, &root)
        .map_err(|e| format!("cannot read {rel} (relative to {}): {e}", base.display()))?;
    String::from_utf8(bytes).map_err(|e| format!("{rel} is not UTF-8 text (byte {} of the file; {func} reads text)", e.utf8_error().valid_up_to()))
}

/// `file("scripts/boot.sh")`: the file's text.
fn file(a: FuncArgs) -> Result<Value, String> {
    read("file", a[0].as_str().unwrap_or_default()).map(Value::from)
}

/// `templatefile("agent.cfg.tpl", { queue = "gpu" })`: the file as a
/// template, with only the given variables (and the functions) in scope.
fn templatefile(a: FuncArgs) -> Result<Value, String> {
    let rel = a[0].as_str().unwrap_or_default();
    let depth = TEMPLATE_DEPTH.with(|d| d.get());
    if depth >= TEMPLATE_DEPTH_LIMIT {
        return Err(format!("{rel}: templatefile calls nest deeper than {TEMPLATE_DEPTH_LIMIT} (does a template render itself?)"));
    }
    TEMPLATE_DEPTH.with(|d| d.set(depth + 1));
    let out = render_template(rel, &a);
    TEMPLATE_DEPTH.with(|d| d.set(depth));
    out
}

fn render_template(rel: &str, a: &FuncArgs) -> Result<Value, String> {
    let text = read("templatefile", rel)?;
    let template: hcl::Template = text.parse().map_err(|e| format!("{rel}: {e}"))?;
    let mut ctx = Context::new();
    if let Some(all) = TEMPLATE_FUNCTIONS.get() {
        all(&mut ctx);
    }
    for (k, v) in a[1].as_object().into_iter().flatten() {
        ctx.declare_var(k.as_str(), v.clone());
    }
    crate::config::no_panic::guarded(|| template.evaluate(&ctx)).map_err(|msg| format!("{rel}: {msg}"))?.map(Value::from).map_err(|e| format!("{rel}: {e}"))
}
