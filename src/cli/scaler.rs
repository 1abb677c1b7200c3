//! `gantry scaler`: where the scaler bundled with this gantry is, building
//! it once from a source checkout (so CI can warm the cache before a plan).

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::ops::bundled_scaler as bundled;
use serde_json::Value;

pub(super) fn run(out: &Output, arches: &[String]) -> i32 {
    let mut code = EXIT_OK;
    for arch in arches {
        match bundled::bundled_zip(arch) {
            Ok(zip) => {
                let field = |k: &str| zip.get(k).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).unwrap_or_default();
                crate::outln!("{arch}: {}", field("path"));
                crate::outln!("  sha256 (base64): {}", field("sha256"));
                crate::outln!("  size: {} bytes", zip.get("size").and_then(Value::as_u64).unwrap_or(0));
                crate::outln!("  source: {}", field("source"));
            }
            Err(e) => {
                crate::errln!("{} {arch}: {e}", out.err_style.red("Error:"));
                code = EXIT_ERROR;
            }
        }
    }
    code
}
