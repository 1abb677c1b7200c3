//! Compiles the identity of the scaler's sources into gantry
//! (`GANTRY_SCALER_SOURCE`), so the bundled scaler it deploys is the one
//! built from the same sources (see src/ops/bundled_scaler.rs).

include!("src/ops/scaler_source.rs");

fn main() {
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for source in SCALER_SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
    // A packaged crate without the scaler's sources still builds; it then
    // only finds a scaler installed next to it or named in the stack.
    let hash = scaler_source_hash(&root).unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=GANTRY_SCALER_SOURCE={hash}");
}
