//! Every read from disk while loading: the stack's files, var files,
//! policy templates, JSON documents and hashed artifacts. Paths in the
//! files are relative to the stack directory.

use super::{syntax_error, Loader};
use crate::config::diag::{Diagnostic, Diagnostics, FileId, Sources, SrcSpan};
use hcl_edit::structure::Body;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Lists `*.gantry.hcl` files in `dir`, sorted.
pub fn list_stack_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && p.to_string_lossy().ends_with(".gantry.hcl")).collect();
    files.sort();
    Ok(files)
}

/// Reads and parses every stack file; syntax errors do not stop the others.
pub(super) fn read_stack_files(dir: &Path, sources: &mut Sources, diags: &mut Diagnostics) -> Vec<(FileId, Body)> {
    let files = match list_stack_files(dir) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error(format!("cannot read stack directory {}: {e}", dir.display()), None));
            return Vec::new();
        }
    };
    if files.is_empty() {
        diags.push(
            Diagnostic::error(format!("no *.gantry.hcl files in {}", dir.display()), None)
                .with_note("a stack directory holds one or more NAME.gantry.hcl files; see README.md"),
        );
        return Vec::new();
    }
    let mut bodies = Vec::new();
    for path in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let id = sources.add(&path, text);
                match hcl_edit::parser::parse_body(sources.text(id)) {
                    Ok(body) => bodies.push((id, body)),
                    Err(e) => diags.push(syntax_error(sources, id, &e)),
                }
            }
            Err(e) => diags.push(Diagnostic::error(format!("cannot read {}: {e}", path.display()), None)),
        }
    }
    bodies
}

impl Loader<'_> {
    /// Reads a text file into the sources (so diagnostics can point into it).
    pub(super) fn read_source(&mut self, path: &Path, what: &str, span: Option<SrcSpan>, note: &str) -> Option<FileId> {
        match std::fs::read_to_string(path) {
            Ok(text) => Some(self.sources.add(path, text)),
            Err(e) => {
                let mut d = Diagnostic::error(format!("cannot read {what}{}: {e}", path.display()), span);
                if !note.is_empty() {
                    d = d.with_note(note.to_string());
                }
                self.diags.push(d);
                None
            }
        }
    }

    /// Hashes a file named by an attribute (a deployable artifact).
    pub(super) fn hash_file(&mut self, rel: &str, span: Option<SrcSpan>, attr: &crate::core::schema::Attr) -> Option<Value> {
        let path = self.dir.join(rel);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let sha = crate::core::sha256_base64(&bytes);
                let abs = std::fs::canonicalize(&path).unwrap_or(path);
                Some(serde_json::json!({"path": abs.display().to_string(), "sha256": sha, "size": bytes.len()}))
            }
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(format!("cannot read {}: {e}", path.display()), span)
                        .with_note(format!("paths are relative to the stack directory; {}: {}", attr.name, attr.doc)),
                );
                None
            }
        }
    }

    /// Reads a JSON document named by an attribute, relative to the stack
    /// directory; parse errors point into the JSON file itself.
    pub(super) fn read_json_file(&mut self, file: FileId, rel: &str, span: Option<SrcSpan>) -> Option<Value> {
        let path = self.dir.join(rel);
        let id = self.read_source(&path, "", span.clone(), "paths are relative to the stack directory")?;
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
}
