//! Syntax errors without cascades: a file that does not parse is parsed
//! again with each broken top-level block blanked out (byte offsets kept,
//! so every other diagnostic still points at the right line), and the
//! blocks that were lost are remembered, so references to them and a lost
//! `stack` block are not reported as further problems.
//!
//! An unclosed `{` is found before parsing, by the layout `gantry fmt`
//! (and every HCL formatter) writes: a top-level block starts in column 0,
//! so a column-0 word while a brace is still open means that brace was
//! never closed. It is reported at the `{` itself, once.

use crate::config::diag::{Diagnostic, FileId, SrcSpan};
use hcl_edit::structure::Body;

/// A top-level block lost to a syntax error: its type and labels.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BrokenBlock {
    pub ident: String,
    pub labels: Vec<String>,
}

impl BrokenBlock {
    /// Whether a lost block may have declared `root.attr` (`attr2` for `data.SOURCE.NAME`).
    pub(super) fn may_declare(&self, root: &str, attr: Option<&str>, attr2: Option<&str>) -> bool {
        let label = |i: usize| self.labels.get(i).map(String::as_str);
        match (self.ident.as_str(), root) {
            ("variable", "var") => attr.is_none() || label(0) == attr,
            ("locals", "local") => true,
            ("data", "data") => label(0) == attr && (attr2.is_none() || label(1) == attr2),
            (kind, r) => kind == r && (attr.is_none() || label(0) == attr),
        }
    }
}

/// A file's body (what still parses) and what was lost.
pub(super) struct Parsed {
    pub body: Option<Body>,
    pub diags: Vec<Diagnostic>,
    pub broken: Vec<BrokenBlock>,
}

/// Parses a stack file; on syntax errors, reports each once and keeps the rest.
pub(super) fn parse(file: FileId, text: &str) -> Parsed {
    // A file that parses is never second-guessed (its layout may be anything).
    if let Ok(body) = hcl_edit::parser::parse_body(text) {
        return Parsed { body: Some(body), diags: Vec::new(), broken: Vec::new() };
    }
    let mut work = text.to_string();
    let mut diags = Vec::new();
    let mut broken = Vec::new();
    for (start, brace, end) in unclosed_blocks(text) {
        diags.push(
            Diagnostic::error("unclosed block: this `{` has no matching `}`", Some(SrcSpan { file, range: brace..brace + 1 }))
                .with_label("opened here")
                .with_note("close the block with `}` before the next top-level block"),
        );
        broken.push(header(&text[start..]));
        blank(&mut work, start..end);
    }
    // Each round reports one error and drops the block holding it.
    for _ in 0..50 {
        match hcl_edit::parser::parse_body(&work) {
            Ok(body) => return Parsed { body: Some(body), diags, broken },
            Err(e) => {
                let at = e.location().offset().min(work.len());
                let end = (at + 1).min(work.len()).max(at);
                let mut d =
                    Diagnostic::error(format!("syntax error: {}", e.message()), Some(SrcSpan { file, range: at..end })).with_label(e.message().to_string());
                if let Some(hint) = missing_equals(&work, at) {
                    d = d.with_note(hint);
                }
                diags.push(d);
                let starts = top_level_starts(&work);
                let Some(&from) = starts.iter().rev().find(|&&s| s <= at) else { break };
                let to = starts.iter().copied().find(|&s| s > at).unwrap_or(work.len());
                broken.push(header(&work[from..]));
                blank(&mut work, from..to);
            }
        }
    }
    Parsed { body: None, diags, broken }
}

/// `region "us-west-2"` (a block header to the parser) is almost always an
/// attribute without its `=`: say so.
fn missing_equals(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at.min(text.len())].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let (name, value) = line.split_once(char::is_whitespace)?;
    let value = value.trim();
    let looks = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && value.starts_with('"') && value.ends_with('"') && value.len() >= 2;
    looks.then(|| format!("to set an attribute, write {name} = {value}"))
}

/// Replaces a range with spaces, keeping line breaks (and so every offset).
fn blank(text: &mut String, range: std::ops::Range<usize>) {
    let blanked: String = text[range.clone()].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
    // Multi-byte characters become one space each: pad to keep the length.
    let pad = range.len() - blanked.len();
    text.replace_range(range, &format!("{blanked}{}", " ".repeat(pad)));
}

/// Offsets of lines that start a top-level block (a word in column 0).
fn top_level_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            out.push(offset);
        }
        offset += line.len();
    }
    out
}

/// The type and labels at the start of a block's text.
fn header(text: &str) -> BrokenBlock {
    let line = text.lines().next().unwrap_or("");
    let ident: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    let labels = line.split('"').skip(1).step_by(2).map(String::from).collect();
    BrokenBlock { ident, labels }
}

/// Blocks whose `{` is never closed: (block start, brace, where the next
/// top-level block starts or the end). Strings, comments and heredocs are
/// skipped so their braces do not count.
fn unclosed_blocks(text: &str) -> Vec<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    // The top-level block being read: (start, its first brace).
    let mut current: Option<(usize, Option<usize>)> = None;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        if line_start && (c.is_ascii_alphabetic() || c == b'_') {
            if depth > 0 {
                if let Some((start, Some(brace))) = current {
                    out.push((start, brace, i));
                }
                depth = 0;
            }
            current = Some((i, None));
        }
        line_start = false;
        match c {
            b'\n' => line_start = true,
            b'"' => i = skip_string(bytes, i + 1),
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = text[i + 2..].find("*/").map(|p| i + 2 + p + 1).unwrap_or(bytes.len()),
            b'<' if bytes.get(i + 1) == Some(&b'<') => i = skip_heredoc(text, i),
            b'{' => {
                if depth == 0 {
                    if let Some((start, None)) = current {
                        current = Some((start, Some(i)));
                    }
                }
                depth += 1;
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        if let Some((start, Some(brace))) = current {
            out.push((start, brace, bytes.len()));
        }
    }
    out
}

/// Index of the closing quote of a string starting after `i` (templates
/// `${ ... }` may hold quotes of their own).
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    let mut interp = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                interp += 1;
                i += 1;
            }
            b'}' if interp > 0 => interp -= 1,
            b'"' if interp == 0 => return i,
            b'\n' if interp == 0 => return i - 1, // unterminated: the parser reports it
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Index of the newline ending the line at `i` (kept, so lines still count).
fn skip_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..].iter().position(|&b| b == b'\n').map(|p| i + p - 1).unwrap_or(bytes.len())
}

/// Index of the last byte of a heredoc starting at `i` (`<<EOF` or `<<-EOF`).
fn skip_heredoc(text: &str, i: usize) -> usize {
    let rest = &text[i + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if marker.is_empty() {
        return i + 1;
    }
    let Some(body_start) = text[i..].find('\n').map(|p| i + p + 1) else { return text.len() };
    let mut offset = body_start;
    for line in text[body_start..].split_inclusive('\n') {
        offset += line.len();
        if line.trim() == marker {
            // Stop before the line break, so the next line is seen as a line start.
            return if line.ends_with('\n') { offset - 2 } else { offset - 1 };
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unclosed_brace_is_found_where_it_opens() {
        let text = "stack \"m\" {\n  aws { region = \"x\" }\n}\n\necr_repository \"a\" {\n  name = \"x\"\n  tags = { a = \"${var.b}}\" } # }\n\necr_repository \"b\" {}\n";
        let found = unclosed_blocks(text);
        assert_eq!(found.len(), 1);
        let (start, brace, end) = found[0];
        assert_eq!(&text[start..start + 18], "ecr_repository \"a\"");
        assert_eq!(&text[brace..brace + 1], "{");
        assert_eq!(&text[end..end + 18], "ecr_repository \"b\"");
        let p = parse(0, text);
        assert_eq!(p.diags.len(), 1, "one problem, one diagnostic");
        assert_eq!(p.broken, [BrokenBlock { ident: "ecr_repository".into(), labels: vec!["a".into()] }]);
        assert_eq!(p.body.unwrap().blocks().count(), 2, "the stack block and b are kept");
    }

    #[test]
    fn a_file_that_parses_is_taken_as_it_is_whatever_its_layout() {
        // A column-0 line inside a block looks like an unclosed brace by layout alone.
        let text = "locals {\n  x = {\na = 1\n  }\n}\n";
        assert!(!unclosed_blocks(text).is_empty(), "the layout heuristic alone would flag it");
        let p = parse(0, text);
        assert!(p.diags.is_empty() && p.broken.is_empty(), "{:?}", p.diags);
        assert!(p.body.is_some());
    }

    #[test]
    fn a_missing_equals_sign_is_named() {
        let p = parse(0, "stack \"m\" {\n  aws {\n    region \"us-west-2\"\n  }\n}\n");
        assert_eq!(p.diags.len(), 1);
        assert!(p.diags[0].notes.iter().any(|n| n == "to set an attribute, write region = \"us-west-2\""), "{:?}", p.diags[0]);
    }

    #[test]
    fn heredocs_and_comments_do_not_count() {
        let text = "locals {\n  script = <<EOF\n{ not a block\nEOF\n  /* { */\n}\n";
        assert!(unclosed_blocks(text).is_empty());
        assert!(parse(0, text).diags.is_empty());
    }

    #[test]
    fn each_broken_block_is_one_error_and_the_others_stay() {
        let text = "ecr_repository \"a\" {\n  name = \n}\n\necr_repository \"b\" {}\n\necr_repository \"c\" {\n  tags = {a = }\n}\n";
        let p = parse(0, text);
        assert_eq!(p.diags.len(), 2, "{:?}", p.diags);
        assert_eq!(p.broken.iter().map(|b| b.labels[0].as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(p.body.unwrap().blocks().count(), 1);
    }
}
