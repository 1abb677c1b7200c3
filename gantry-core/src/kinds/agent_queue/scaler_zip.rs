//! The queue's `scaler.zip`: the zip the block names, or the one bundled
//! with this gantry, handed in by plan and apply ([`Bundled`]: the kind
//! neither looks on disk nor builds). Either way it records where the zip
//! came from, for the plan's review line.

use crate::core::{Bundled, Diagnostic, State};
use serde_json::{json, Value};

/// Fills `scaler.zip` when the block names none, and its `source` either way.
pub fn fill(attrs: &mut State, bundled: &dyn Bundled) -> Vec<Diagnostic> {
    let Some(Value::Object(scaler)) = attrs.get_mut("scaler") else { return Vec::new() };
    if let Some(Value::Object(zip)) = scaler.get_mut("zip") {
        let path = zip.get("path").and_then(Value::as_str).unwrap_or_default().to_string();
        zip.insert("source".into(), json!(format!("the zip named in scaler {{ zip }} ({path})")));
        return Vec::new();
    }
    let arch = scaler.get("architecture").and_then(Value::as_str).unwrap_or("arm64").to_string();
    match bundled.scaler_zip(&arch) {
        Ok(zip) => {
            scaler.insert("zip".into(), zip);
            Vec::new()
        }
        Err(e) => vec![Diagnostic::attr("scaler", e)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bundles one zip, for arm64 only.
    #[derive(Debug)]
    struct OneZip;

    impl Bundled for OneZip {
        fn scaler_zip(&self, arch: &str) -> Result<Value, String> {
            match arch {
                "arm64" => Ok(json!({"path": "/b/gantry-scaler-arm64.zip", "sha256": "c2hh", "size": 3, "source": "bundled scaler (test)"})),
                _ => Err(format!("no scaler zip for {arch}")),
            }
        }
    }

    fn scaler(block: Value) -> State {
        State::from_iter([("scaler".to_string(), block)])
    }

    #[test]
    fn a_named_zip_keeps_its_path_and_says_so() {
        let mut attrs = scaler(json!({"architecture": "arm64", "zip": {"path": "/x/s.zip", "sha256": "abc", "size": 3}}));
        assert!(fill(&mut attrs, &OneZip).is_empty());
        assert_eq!(attrs["scaler"]["zip"]["path"], json!("/x/s.zip"), "the named zip, not the bundled one");
        assert_eq!(attrs["scaler"]["zip"]["source"], json!("the zip named in scaler { zip } (/x/s.zip)"));
    }

    #[test]
    fn without_one_the_bundled_zip_of_its_architecture_is_filled_in_or_refused_at_scaler() {
        let mut attrs = scaler(json!({"architecture": "arm64"}));
        assert!(fill(&mut attrs, &OneZip).is_empty());
        assert_eq!(attrs["scaler"]["zip"]["source"], json!("bundled scaler (test)"));
        let mut x86 = scaler(json!({"architecture": "x86_64"}));
        let problems = fill(&mut x86, &OneZip);
        assert_eq!(problems, vec![Diagnostic::attr("scaler", "no scaler zip for x86_64")]);
    }
}
