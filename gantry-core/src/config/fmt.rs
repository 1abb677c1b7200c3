//! Canonical formatting of stack files: two-space indentation by nesting,
//! `=` aligned across consecutive single-line attributes, no trailing
//! whitespace, one final newline. Comments and heredocs are kept as written.
//! Only syntactically valid files are formatted.

/// Formats HCL source text. The caller checks syntax first.
pub fn format(src: &str) -> String {
    let mut lines: Vec<Line> = Vec::new();
    let mut depth: i32 = 0;
    let mut heredoc: Option<String> = None;
    let mut in_block_comment = false;
    for raw in src.lines() {
        if let Some(end) = &heredoc {
            let done = raw.trim() == end;
            lines.push(Line { text: raw.to_string(), depth: 0, verbatim: true, eq: None });
            if done {
                heredoc = None;
            }
            continue;
        }
        let trimmed = raw.trim();
        if in_block_comment {
            lines.push(Line { text: raw.trim_end().to_string(), depth: 0, verbatim: true, eq: None });
            if trimmed.contains("*/") {
                in_block_comment = false;
            }
            continue;
        }
        let scan = scan_line(trimmed);
        let leading_closers = scan.leading_closers as i32;
        let this_depth = (depth - leading_closers).max(0);
        depth = (depth + scan.opens as i32 - scan.closes as i32).max(0);
        if let Some(tag) = scan.heredoc {
            heredoc = Some(tag);
        }
        if scan.opens_block_comment {
            in_block_comment = true;
        }
        lines.push(Line { text: trimmed.to_string(), depth: this_depth, verbatim: false, eq: scan.eq });
    }

    // Align `=` in runs of attribute lines at the same depth.
    let mut i = 0;
    while i < lines.len() {
        if lines[i].eq.is_none() || lines[i].verbatim {
            i += 1;
            continue;
        }
        let d = lines[i].depth;
        let mut j = i;
        while j < lines.len() && lines[j].eq.is_some() && !lines[j].verbatim && lines[j].depth == d {
            j += 1;
        }
        let width = lines[i..j].iter().map(|l| l.text[..l.eq.unwrap()].trim_end().len()).max().unwrap_or(0);
        for l in &mut lines[i..j] {
            let at = l.eq.unwrap();
            let key = l.text[..at].trim_end().to_string();
            let value = l.text[at + 1..].trim_start().to_string();
            l.text = if value.is_empty() { format!("{key:width$} =") } else { format!("{key:width$} = {value}") };
        }
        i = j.max(i + 1);
    }

    let mut out = String::new();
    let mut blank_run = 0;
    for l in &lines {
        if l.verbatim {
            out.push_str(&l.text);
            out.push('\n');
            blank_run = 0;
            continue;
        }
        if l.text.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
            out.push('\n');
            continue;
        }
        blank_run = 0;
        out.push_str(&"  ".repeat(l.depth as usize));
        out.push_str(&l.text);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

struct Line {
    text: String,
    depth: i32,
    verbatim: bool,
    /// Byte index of the attribute `=` in `text`, for a single-line attribute.
    eq: Option<usize>,
}

#[derive(Default)]
struct Scan {
    opens: usize,
    closes: usize,
    leading_closers: usize,
    eq: Option<usize>,
    heredoc: Option<String>,
    opens_block_comment: bool,
}

/// Counts brackets outside strings and comments; finds an attribute's `=`.
fn scan_line(line: &str) -> Scan {
    let mut s = Scan::default();
    let bytes = line.as_bytes();
    let mut in_str = false;
    let mut interp = 0; // depth of ${ ... } inside a string
    let mut leading = true;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str && interp == 0 {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    interp = 1;
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                if interp > 0 {
                    // nested string inside interpolation: skip to its end
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        if bytes[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                } else {
                    in_str = true;
                }
                leading = false;
            }
            b'#' => break,
            b'/' if bytes.get(i + 1) == Some(&b'/') => break,
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                if !line[i..].contains("*/") {
                    s.opens_block_comment = true;
                }
                break;
            }
            b'{' | b'[' | b'(' => {
                if interp > 0 {
                    interp += 1;
                } else {
                    s.opens += 1;
                }
                leading = false;
            }
            b'}' | b']' | b')' => {
                if interp > 0 {
                    interp -= 1;
                    if interp == 0 {
                        in_str = true;
                    }
                } else {
                    s.closes += 1;
                    if leading {
                        s.leading_closers += 1;
                    }
                }
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') && interp == 0 => {
                let rest = line[i + 2..].trim_start_matches('-');
                let tag: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !tag.is_empty() {
                    s.heredoc = Some(tag);
                }
                break;
            }
            b'=' if s.eq.is_none() && s.opens == s.closes && interp == 0 => {
                let next = bytes.get(i + 1).copied();
                let prev = if i > 0 { bytes[i - 1] } else { b' ' };
                let key = line[..i].trim();
                let is_ident = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if next != Some(b'=') && next != Some(b'>') && !matches!(prev, b'!' | b'<' | b'>' | b'=') && is_ident {
                    s.eq = Some(i);
                }
                leading = false;
            }
            b' ' | b'\t' => {}
            _ => leading = false,
        }
        i += 1;
    }
    // A value that opens a bracket and does not close it on the line is not aligned.
    if s.opens > s.closes {
        s.eq = None;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_and_aligns() {
        let src = "stack \"x\" {\naws {\nregion = \"us-west-2\"\n}\n}\n\necr_repository \"a\" {\n  scan_on_push = true\n image_tag_mutability=\"MUTABLE\" # keep\n    tags = { team = \"ci\" }\n}\n";
        let want = "stack \"x\" {\n  aws {\n    region = \"us-west-2\"\n  }\n}\n\necr_repository \"a\" {\n  scan_on_push         = true\n  image_tag_mutability = \"MUTABLE\" # keep\n  tags                 = { team = \"ci\" }\n}\n";
        assert_eq!(format(src), want);
    }

    #[test]
    fn idempotent_and_keeps_heredocs_and_strings() {
        let src = "locals {\n  script = <<EOT\n  keep   = this\nEOT\n  s = \"a = { b\"\n}\n";
        let once = format(src);
        assert!(once.contains("  keep   = this\nEOT\n"));
        assert!(once.contains("s = \"a = { b\""));
        assert_eq!(format(&once), once);
    }

    #[test]
    fn multiline_values_are_indented() {
        let src = "x \"y\" {\nlist = [\n\"a\",\n]\n}\n";
        assert_eq!(format(src), "x \"y\" {\n  list = [\n    \"a\",\n  ]\n}\n");
    }
}
