//! One shape for every problem gantry reports, from loading the stack
//! files to planning and applying: what is wrong (`message`), where (a
//! span in a file, a resource's address, an attribute of its block), how
//! bad (`severity`), which rule (`code`), and what to do (`notes`).
//!
//! A kind's rules report a problem with an attribute
//! ([`Diagnostic::attr`]); the loader places it in the file. A stage of
//! the plan reports a problem with a resource ([`Diagnostic::at`]). The
//! renderers live with the sources (`config::diag`) and the CLI.

use serde::Serialize;
use std::ops::Range;

/// Index of a source file among those read for one stack.
pub type FileId = usize;

/// A location in a source file: file plus byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrcSpan {
    /// Which loaded source file.
    pub file: FileId,
    /// Byte range in that file.
    pub range: Range<usize>,
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Refuses the command (exit code 1).
    Error,
    /// Reported; the command goes on.
    Warning,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Rule id for lint findings (e.g. `GANTRY-OIDC-001`); None for plain errors.
    pub code: Option<String>,
    /// The resource it is about (`ecr_repository.cache`); empty when none.
    pub address: String,
    /// The attribute of the block it is about (`lifecycle_policy`,
    /// `data_disk.type`); empty when none.
    pub attr: String,
    /// One sentence: what is wrong.
    pub message: String,
    /// Where in the files (None: not about a place in them).
    pub span: Option<SrcSpan>,
    /// Short text shown under the highlighted source.
    pub label: String,
    /// Extra lines: hints, "did you mean", how to fix.
    pub notes: Vec<String>,
    /// Secondary locations (e.g. the first declaration of a duplicate).
    pub related: Vec<(SrcSpan, String)>,
}

impl Diagnostic {
    /// An error with a message and optional location.
    pub fn error(message: impl Into<String>, span: Option<SrcSpan>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            address: String::new(),
            attr: String::new(),
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
            related: Vec::new(),
        }
    }

    /// A warning with a message and optional location.
    pub fn warning(message: impl Into<String>, span: Option<SrcSpan>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message, span) }
    }

    /// An error a kind's rules find in one attribute of a block (`attr`
    /// may name a nested one, `data_disk.type`); the loader places it.
    pub fn attr(attr: &str, message: impl Into<String>) -> Self {
        Diagnostic { attr: attr.to_string(), ..Diagnostic::error(message, None) }
    }

    /// An error about one resource, found while planning (by the planner,
    /// a driver's lookups and checks, the lint of managed policies, a budget).
    pub fn at(address: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { address: address.into(), ..Diagnostic::error(message, None) }
    }

    /// Sets the label under the source snippet.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Adds a note (hint) line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a secondary location.
    pub fn with_related(mut self, span: SrcSpan, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Adds a rule id.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_says_where_in_its_own_terms() {
        let from_kind = Diagnostic::attr("data_disk.type", "v6e takes hyperdisk");
        assert_eq!((from_kind.attr.as_str(), from_kind.address.as_str(), from_kind.span.clone()), ("data_disk.type", "", None));
        let from_plan = Diagnostic::at("tpu_node.a", "zone full").with_note("try another zone");
        assert_eq!((from_plan.address.as_str(), from_plan.notes.as_slice()), ("tpu_node.a", &["try another zone".to_string()][..]));
        assert_eq!(from_plan.severity, Severity::Error);
    }
}
