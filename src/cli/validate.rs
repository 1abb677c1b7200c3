//! `gantry validate`: all problems at once, no network.

use super::output::Output;
use super::{VarArgs, EXIT_ERROR, EXIT_OK};
use crate::config::{load_dir, LoadOptions};
use std::path::Path;

pub(super) fn load_options(vars: &VarArgs) -> LoadOptions {
    LoadOptions {
        vars: vars.vars.clone(),
        var_files: vars.var_files.clone(),
        workspace: vars.workspace.clone(),
        allow_outside_files: vars.allow_outside_files,
        ..LoadOptions::default()
    }
    .with_process_env()
}

pub(super) fn run(out: &Output, dir: &Path, json: bool, vars: &VarArgs) -> i32 {
    let loaded = load_dir(dir, &load_options(vars), &crate::ops::language());
    if json {
        let doc = serde_json::json!({
            "valid": !loaded.diags.has_errors(),
            "error_count": loaded.diags.error_count(),
            "diagnostics": loaded.diags.to_json(&loaded.sources),
        });
        crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        out.diagnostics(&loaded);
        match &loaded.stack {
            Some(s) => crate::outln!("{} stack \"{}\" is valid: {} resource(s).", out.style.green("Success!"), s.name, s.resources.len()),
            None => crate::errln!("{} {} error(s) found.", out.err_style.red("Error:"), loaded.diags.error_count()),
        }
    }
    match crate::ops::OpsError::config(&loaded) {
        _ if !loaded.diags.has_errors() => EXIT_OK,
        crate::ops::OpsError::Config { security_only: true, .. } => super::EXIT_SECURITY,
        _ => EXIT_ERROR,
    }
}
