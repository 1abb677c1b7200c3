//! `gantry fmt [--check]`: canonical formatting of stack files.

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::config::diag::{Diagnostic, Diagnostics, Sources, SrcSpan};
use crate::config::{fmt, list_stack_files};
use std::path::{Path, PathBuf};

pub fn run(out: &Output, target: &Path, check: bool) -> i32 {
    let files: Vec<PathBuf> = if target.is_file() {
        vec![target.to_path_buf()]
    } else {
        match list_stack_files(target) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{} cannot read {}: {e}", out.err_style.red("Error:"), target.display());
                return EXIT_ERROR;
            }
        }
    };
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut unformatted = Vec::new();
    for path in &files {
        let text = match std::fs::read_to_string(path) {
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
        eprint!("{}", diags.render(&sources, out.err_style.color));
    }
    for p in &unformatted {
        println!("{}", p.display());
    }
    if diags.has_errors() || (check && !unformatted.is_empty()) {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}
