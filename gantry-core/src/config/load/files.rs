//! Every read from disk while loading: the stack's files, var files,
//! policy templates, JSON documents and hashed artifacts. Paths in the
//! files are relative to the stack directory.

use super::recover::BrokenBlock;
use super::Loader;
use crate::config::diag::{Diagnostic, Diagnostics, FileId, Sources, SrcSpan};
use crate::core::bounded::ReadRoot;
use hcl_edit::structure::Body;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Lists `*.gantry.hcl` entries in `dir`, sorted: every one, whatever it
/// is (a pipe, a device or a symlink out is reported when read, never
/// skipped: a stack that silently lost a file plans deletions).
pub fn list_stack_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(".gantry.hcl")).collect();
    files.sort();
    Ok(files)
}

/// Reads and parses every stack file; syntax errors do not stop the others,
/// and a broken block does not hide the rest of its file (see [`super::recover`]).
pub(super) fn read_stack_files(
    dir: &Path,
    root: &ReadRoot,
    sources: &mut Sources,
    diags: &mut Diagnostics,
    broken: &mut Vec<BrokenBlock>,
) -> Vec<(FileId, Body)> {
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
        match read_text(&path, "stack file ", None, sources, root) {
            Ok(id) => {
                if sources.text(id).trim().is_empty() {
                    diags.push(Diagnostic::warning("this stack file is empty", Some(SrcSpan { file: id, range: 0..0 })));
                }
                let parsed = super::recover::parse(id, sources.text(id));
                for d in parsed.diags {
                    diags.push(d);
                }
                broken.extend(parsed.broken);
                bodies.extend(parsed.body.map(|b| (id, b)));
            }
            Err(d) => diags.push(*d),
        }
    }
    bodies
}

/// Reads a text file into `sources`. A file that is not UTF-8 is reported
/// at its first bad byte (kept as far as it is readable, for line:col).
fn read_text(path: &Path, what: &str, span: Option<SrcSpan>, sources: &mut Sources, root: &ReadRoot) -> Result<FileId, Box<Diagnostic>> {
    match crate::core::bounded::read_inside(path, crate::core::bounded::TEXT_LIMIT, root).map(String::from_utf8) {
        Ok(Ok(text)) => Ok(sources.add(path, text)),
        Ok(Err(e)) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let id = sources.add(path, String::from_utf8_lossy(e.as_bytes()).into_owned());
            // The bad bytes became one U+FFFD at `at` in the kept text.
            let range = at..at + char::REPLACEMENT_CHARACTER.len_utf8();
            Err(Box::new(
                Diagnostic::error(format!("{what}{} is not UTF-8 text (byte 0x{byte:02x})", path.display()), Some(SrcSpan { file: id, range }))
                    .with_label("not UTF-8")
                    .with_note("stack, policy and var files are UTF-8 text; is this a binary file?"),
            ))
        }
        Err(e) => Err(Box::new(Diagnostic::error(format!("cannot read {what}{}: {e}", path.display()), span))),
    }
}

impl Loader<'_> {
    /// Reads a text file into the sources (so diagnostics can point into it).
    pub(super) fn read_source(&mut self, path: &Path, what: &str, span: Option<SrcSpan>, note: &str) -> Option<FileId> {
        match read_text(path, what, span, self.sources, &self.read_root) {
            Ok(id) => Some(id),
            Err(d) => {
                let d = if note.is_empty() { *d } else { d.with_note(note.to_string()) };
                self.diags.push(d);
                None
            }
        }
    }

    /// Hashes a file named by an attribute (a deployable artifact).
    pub(super) fn hash_file(&mut self, rel: &str, span: Option<SrcSpan>, attr: &crate::core::schema::Attr) -> Option<Value> {
        let path = self.dir.join(rel);
        match crate::core::bounded::read_inside(&path, crate::core::bounded::ARTIFACT_LIMIT, &self.read_root) {
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
