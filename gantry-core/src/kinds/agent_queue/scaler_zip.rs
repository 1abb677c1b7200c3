//! The queue's `scaler.zip`: the zip the block names, or the one bundled
//! with this gantry, handed in by plan and apply ([`Bundled`]: the kind
//! neither looks on disk nor builds). Either way it records where the zip
//! came from, for the plan's review line.

use super::block::ScalerBlock;
use crate::core::{Bundled, Diagnostic, State};
use serde_json::{json, Value};

/// Fills `scaler.zip` when the block names none, and its `source` either way.
pub fn fill(attrs: &mut State, bundled: &dyn Bundled) -> Vec<Diagnostic> {
    let Some(Value::Object(scaler)) = attrs.get_mut("scaler") else { return Vec::new() };
    // Read through the block's type; what is filled in stays the block's value.
    let block: ScalerBlock = serde_json::from_value(Value::Object(scaler.clone())).unwrap_or_default();
    if let Some(Value::Object(zip)) = scaler.get_mut("zip") {
        let path = block.zip.and_then(|z| z.path).unwrap_or_default();
        zip.insert("source".into(), json!(format!("the zip named in scaler {{ zip }} ({path})")));
        return Vec::new();
    }
    match bundled.scaler_zip(block.architecture.as_deref().unwrap_or("arm64")) {
        Ok(zip) => {
            scaler.insert("zip".into(), json!(zip));
            Vec::new()
        }
        Err(e) => vec![Diagnostic::attr("scaler", e)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::BundledZip;

    /// Bundles one zip, for arm64 only.
    #[derive(Debug)]
    struct OneZip;

    impl Bundled for OneZip {
        fn scaler_zip(&self, arch: &str) -> Result<BundledZip, String> {
            match arch {
                "arm64" => Ok(BundledZip { path: "/b/gantry-scaler-arm64.zip".into(), sha256: "c2hh".into(), size: 3, source: "bundled scaler (test)".into() }),
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
        let want = json!({"path": "/b/gantry-scaler-arm64.zip", "sha256": "c2hh", "size": 3, "source": "bundled scaler (test)"});
        assert_eq!(attrs["scaler"]["zip"], want, "the shape the loader gives a named zip, and its source");
        let mut x86 = scaler(json!({"architecture": "x86_64"}));
        let problems = fill(&mut x86, &OneZip);
        assert_eq!(problems, vec![Diagnostic::attr("scaler", "no scaler zip for x86_64")]);
    }
}
