//! Values written the way a stack file would write them (strings quoted,
//! `[ ]` lists, `{ key = value }` maps), and flat map/list changes with a
//! `+`/`~`/`-` marker per key or element, as Terraform shows them.

use serde_json::Value;
use std::collections::BTreeSet;

/// True for strings, numbers, bools and null.
fn is_scalar(v: &Value) -> bool {
    !v.is_array() && !v.is_object()
}

/// A map whose values are scalars, or a list of scalars: shown key by key.
pub fn is_flat(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().all(is_scalar),
        Value::Array(a) => a.iter().all(is_scalar),
        _ => false,
    }
}

fn key_text(k: &str) -> String {
    let ident = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

/// A value as HCL; continuation lines are indented by `indent` spaces.
pub fn value(v: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match v {
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.iter().all(is_scalar) => {
            let one_line = format!("[{}]", a.iter().map(|x| value(x, 0)).collect::<Vec<_>>().join(", "));
            if one_line.len() <= 80 {
                return one_line;
            }
            let items: String = a.iter().map(|x| format!("{pad}  {},\n", value(x, 0))).collect();
            format!("[\n{items}{pad}]")
        }
        Value::Array(a) => {
            let items: String = a.iter().map(|x| format!("{pad}  {},\n", value(x, indent + 2))).collect();
            format!("[\n{items}{pad}]")
        }
        Value::Object(m) => {
            let width = m.keys().map(|k| key_text(k).len()).max().unwrap_or(0);
            let items: String = m.iter().map(|(k, x)| format!("{pad}  {:<width$} = {}\n", key_text(k), value(x, indent + 2))).collect();
            format!("{{\n{items}{pad}}}")
        }
        other => other.to_string(),
    }
}

/// One line of a flat change: marker (`+`, `-`, `~` or blank), key or
/// element, and the text after it.
pub struct Line {
    /// `+`, `-`, `~` or a blank.
    pub marker: char,
    /// The line after the marker.
    pub text: String,
}

/// A flat map or list change, key by key (maps) or element by element
/// (lists, in the new order, with removed elements first). Unchanged
/// entries are kept so the reader sees the whole value.
pub fn flat_change(before: &Value, after: &Value) -> Vec<Line> {
    let empty = serde_json::Map::new();
    match (before, after) {
        (Value::Object(_) | Value::Null, Value::Object(_) | Value::Null) => {
            let b = before.as_object().unwrap_or(&empty);
            let a = after.as_object().unwrap_or(&empty);
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let width = keys.iter().map(|k| key_text(k).len()).max().unwrap_or(0);
            keys.into_iter()
                .map(|k| {
                    let key = format!("{:<width$}", key_text(k));
                    match (b.get(k), a.get(k)) {
                        (Some(x), Some(y)) if x == y => Line { marker: ' ', text: format!("{key} = {}", value(y, 0)) },
                        (Some(x), Some(y)) => Line { marker: '~', text: format!("{key} = {} -> {}", value(x, 0), value(y, 0)) },
                        (None, Some(y)) => Line { marker: '+', text: format!("{key} = {}", value(y, 0)) },
                        (Some(x), _) => Line { marker: '-', text: format!("{key} = {}", value(x, 0)) },
                        (None, None) => Line { marker: ' ', text: key },
                    }
                })
                .collect()
        }
        _ => {
            let none = Vec::new();
            let b = before.as_array().unwrap_or(&none);
            let a = after.as_array().unwrap_or(&none);
            let removed = b.iter().filter(|x| !a.contains(x)).map(|x| Line { marker: '-', text: format!("{},", value(x, 0)) });
            let kept = a.iter().map(|y| Line { marker: if b.contains(y) { ' ' } else { '+' }, text: format!("{},", value(y, 0)) });
            removed.chain(kept).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_like_hcl() {
        assert_eq!(value(&json!("a"), 0), "\"a\"");
        assert_eq!(value(&json!(["a", "b"]), 0), "[\"a\", \"b\"]");
        assert_eq!(value(&json!({"team": "ml", "cost center": "42"}), 2), "{\n    \"cost center\" = \"42\"\n    team          = \"ml\"\n  }");
        assert_eq!(value(&json!({}), 0), "{}");
        assert_eq!(value(&json!({"a": {"b": [1, 2]}}), 0), "{\n  a = {\n    b = [1, 2]\n  }\n}");
    }

    #[test]
    fn map_changes_are_marked_per_key() {
        let lines = flat_change(&json!({"team": "ml", "old": "x", "same": "s"}), &json!({"team": "infra", "new": "y", "same": "s"}));
        let shown: Vec<String> = lines.iter().map(|l| format!("{} {}", l.marker, l.text)).collect();
        assert_eq!(shown, ["+ new  = \"y\"", "- old  = \"x\"", "  same = \"s\"", "~ team = \"ml\" -> \"infra\""]);
    }

    #[test]
    fn list_changes_are_marked_per_element() {
        let lines = flat_change(&json!(["a", "b"]), &json!(["b", "c"]));
        let shown: Vec<String> = lines.iter().map(|l| format!("{} {}", l.marker, l.text)).collect();
        assert_eq!(shown, ["- \"a\",", "  \"b\",", "+ \"c\","]);
    }
}
