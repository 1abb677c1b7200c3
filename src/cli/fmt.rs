//! `gantry fmt [--check]`: canonical formatting of stack files.

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::config::diag::{Diagnostic, Diagnostics, Sources, SrcSpan};
use crate::config::{fmt, list_stack_files};
use std::path::{Path, PathBuf};

/// Stack files in `dir`, and with `recursive` in every folder below it
/// (hidden folders and `target` skipped).
fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    out.extend(list_stack_files(dir)?);
    if recursive {
        let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        subdirs.sort();
        for sub in subdirs {
            let name = sub.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !name.starts_with('.') && name != "target" {
                collect(&sub, true, out)?;
            }
        }
    }
    Ok(())
}

pub(super) fn run(out: &Output, target: &Path, check: bool, recursive: bool) -> i32 {
    let mut files: Vec<PathBuf> = Vec::new();
    if target.is_file() {
        files.push(target.to_path_buf());
    } else if let Err(e) = collect(target, recursive, &mut files) {
        crate::errln!("{} cannot read {}: {e}", out.err_style.red("Error:"), target.display());
        return EXIT_ERROR;
    }
    if files.is_empty() {
        // A check that checks nothing must not pass silently in CI.
        let hint = if recursive { "" } else { " (add --recursive to include subdirectories)" };
        crate::errln!("{} no *.gantry.hcl files in {}{hint}", out.err_style.red("Error:"), target.display());
        return EXIT_ERROR;
    }
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut unformatted = Vec::new();
    for path in &files {
        let read = crate::core::bounded::read_limited(path, crate::core::bounded::TEXT_LIMIT)
            .and_then(|b| String::from_utf8(b).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text ({e})"))));
        let text = match read {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(format!("cannot read {}: {e}", path.display()), None));
                continue;
            }
        };
        let id = sources.add(path, text.clone());
        if let Err(e) = hcl_edit::parser::parse_body(&text) {
            let at = e.location().offset().min(text.len());
            diags.push(Diagnostic::error(
                format!("syntax error: {} (not formatted)", e.message()),
                Some(SrcSpan { file: id, range: at..(at + 1).min(text.len()) }),
            ));
            continue;
        }
        let formatted = fmt::format(&text);
        if formatted != text {
            unformatted.push(path.clone());
            if !check {
                if let Err(e) = std::fs::write(path, &formatted) {
                    diags.push(Diagnostic::error(format!("cannot write {}: {e}", path.display()), None));
                }
            }
        }
    }
    if !diags.is_empty() {
        crate::err!("{}", diags.render(&sources, out.err_style.color));
    }
    for p in &unformatted {
        crate::outln!("{}", p.display());
    }
    if diags.has_errors() || (check && !unformatted.is_empty()) {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}
