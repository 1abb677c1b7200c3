//! Diagnostics: problems found in stack files, collected (never thrown one at a
//! time) and rendered with file:line:col and a source snippet.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::Buffer, Config};
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use crate::core::diagnostic::{Diagnostic, FileId, Severity, SrcSpan};

/// The most diagnostics printed for a human (all of them go to `--json`).
pub const RENDER_LIMIT: usize = 50;

/// All source texts read for one stack, so diagnostics can show snippets.
#[derive(Default)]
pub struct Sources {
    files: SimpleFiles<String, String>,
    paths: Vec<PathBuf>,
}

impl Sources {
    /// Registers a file's text; `path` is shown in diagnostics.
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        self.paths.push(path.to_path_buf());
        self.files.add(path.display().to_string(), text)
    }

    /// Every registered file.
    pub fn ids(&self) -> std::ops::Range<FileId> {
        0..self.paths.len()
    }

    /// The text of a registered file.
    pub fn text(&self, file: FileId) -> &str {
        self.files.get(file).map(|f| f.source().as_str()).unwrap_or("")
    }

    /// Replaces every non-blank character in `ranges` of a file's text with
    /// `*` (as many as its UTF-8 bytes, so every offset stays right): what
    /// a snippet of it may show once its values were read.
    pub fn mask(&mut self, file: FileId, ranges: &[Range<usize>]) {
        let masked: String = self
            .text(file)
            .char_indices()
            .map(|(i, c)| if !c.is_whitespace() && ranges.iter().any(|r| r.contains(&i)) { "*".repeat(c.len_utf8()) } else { c.to_string() })
            .collect();
        let mut files = SimpleFiles::new();
        for id in self.ids() {
            let text = if id == file { masked.clone() } else { self.text(id).to_string() };
            files.add(self.paths[id].display().to_string(), text);
        }
        self.files = files;
    }

    /// The path of a registered file.
    pub fn path(&self, file: FileId) -> &Path {
        &self.paths[file]
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = self.text(file);
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        (line, col)
    }

    /// Byte offset of a 1-based line/column (used to place JSON parse errors).
    pub fn offset_of(&self, file: FileId, line: usize, col: usize) -> usize {
        let text = self.text(file);
        let mut offset = 0;
        for (i, l) in text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let col_bytes: usize = l.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
                return offset + col_bytes;
            }
            offset += l.len();
        }
        text.len()
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A collection of diagnostics, in the order found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Adds one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Adds all of `other`'s.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Orders diagnostics by file and position (those without a location first).
    pub fn sort_by_location(&mut self) {
        self.items.sort_by_key(|d| d.span.as_ref().map(|s| (s.file, s.range.start)));
    }

    /// Drops repeats of the same message at the same place (kept in order).
    pub fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.items.retain(|d| seen.insert((d.message.clone(), d.span.as_ref().map(|s| (s.file, s.range.clone())))));
    }

    /// Rewrites every diagnostic in place (e.g. to hide a value).
    pub fn rewrite(&mut self, f: impl FnMut(&mut Diagnostic)) {
        self.items.iter_mut().for_each(f);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// How many are errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every diagnostic, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Renders every diagnostic with snippets; ANSI colours only when `color`.
    /// Renders at most [`RENDER_LIMIT`] diagnostics, then how many more there are.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let config = Config::default();
        let mut out = String::new();
        for d in self.items.iter().take(RENDER_LIMIT) {
            let cs = to_codespan(d);
            if color {
                let mut buf = Buffer::ansi();
                if term::emit_to_write_style(&mut buf, &config, &sources.files, &cs).is_ok() {
                    out.push_str(&String::from_utf8_lossy(buf.as_slice()));
                    continue;
                }
            } else if let Ok(s) = term::emit_into_string(&config, &sources.files, &cs) {
                out.push_str(&s);
                continue;
            }
            // A span outside the file (should not happen) still gets a readable line.
            out.push_str(&format!("{:?}: {}\n", d.severity, d.message));
        }
        if self.items.len() > RENDER_LIMIT {
            // Past this many, more text helps nobody: the first ones are what to fix.
            out.push_str(&format!("… and {} more (fix the ones above first; --json lists every one)\n\n", self.items.len() - RENDER_LIMIT));
        }
        out
    }

    /// Machine-readable form: one object per diagnostic with file/line/col.
    pub fn to_json(&self, sources: &Sources) -> serde_json::Value {
        let items: Vec<_> = self
            .items
            .iter()
            .map(|d| {
                let loc = d.span.as_ref().map(|s| {
                    let (line, col) = sources.line_col(s.file, s.range.start);
                    serde_json::json!({"file": sources.path(s.file).display().to_string(), "line": line, "column": col})
                });
                serde_json::json!({
                    "severity": d.severity,
                    "code": d.code,
                    "message": d.message,
                    "location": loc,
                    "notes": d.notes,
                })
            })
            .collect();
        serde_json::Value::Array(items)
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

fn to_codespan(d: &Diagnostic) -> CsDiagnostic<FileId> {
    let base = match d.severity {
        Severity::Error => CsDiagnostic::error(),
        Severity::Warning => CsDiagnostic::warning(),
    };
    let mut labels = Vec::new();
    if let Some(s) = &d.span {
        labels.push(Label::primary(s.file, s.range.clone()).with_message(d.label.clone()));
    }
    for (s, msg) in &d.related {
        labels.push(Label::secondary(s.file, s.range.clone()).with_message(msg.clone()));
    }
    let mut cs = base.with_message(d.message.clone()).with_labels(labels).with_notes(d.notes.clone());
    if let Some(code) = &d.code {
        cs = cs.with_code(code.clone());
    }
    cs
}

/// "did you mean" helper: the closest candidate within a small edit distance.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let mut s = Sources::default();
        let f = s.add(Path::new("a.hcl"), "ab\ncd\n".into());
        assert_eq!(s.line_col(f, 0), (1, 1));
        assert_eq!(s.line_col(f, 4), (2, 2));
        assert_eq!(s.offset_of(f, 2, 2), 4);
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("scan_on_psh", ["scan_on_push", "tags"]), Some("scan_on_push"));
        assert_eq!(did_you_mean("zzz", ["scan_on_push", "tags"]), None);
    }

    #[test]
    fn render_shows_file_line_and_snippet() {
        let mut s = Sources::default();
        let f = s.add(Path::new("main.gantry.hcl"), "x = 1\nbad = 2\n".into());
        let mut d = Diagnostics::default();
        d.push(Diagnostic::error("unknown attribute", Some(SrcSpan { file: f, range: 6..9 })).with_label("here"));
        let out = d.render(&s, false);
        assert!(out.contains("main.gantry.hcl:2:1"), "{out}");
        assert!(out.contains("bad = 2"), "{out}");
    }
}
