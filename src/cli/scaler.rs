//! `gantry scaler`: where the scaler bundled with this gantry is, building
//! it once from a source checkout (so CI can warm the cache before a plan).

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::ops::bundled_scaler as bundled;

pub(super) fn run(out: &Output, arches: &[String]) -> i32 {
    let mut code = EXIT_OK;
    for arch in arches {
        match bundled::bundled_zip(arch) {
            Ok(zip) => {
                crate::outln!("{arch}: {}", zip.path);
                crate::outln!("  sha256 (base64): {}", zip.sha256);
                crate::outln!("  size: {} bytes", zip.size);
                crate::outln!("  source: {}", zip.source);
            }
            Err(e) => {
                crate::errln!("{} {arch}: {e}", out.err_style.red("Error:"));
                code = EXIT_ERROR;
            }
        }
    }
    code
}
