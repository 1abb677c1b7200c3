// The identity of the scaler's sources, so a gantry finds the scaler zip
// built from exactly the sources it was built with. Shared verbatim by
// `build.rs` (through `include!`), which compiles the hash into gantry,
// and by the bundled-scaler locator, which checks a source checkout still
// matches before building from it. Only std and sha2: build.rs has no
// access to the crate.

/// Files and folders (relative to the workspace root) the scaler zip is
/// built from. The root manifest is in: its profiles shape the build.
pub(crate) const SCALER_SOURCES: &[&str] = &["lambda/Cargo.toml", "lambda/src", "scaler-env/Cargo.toml", "scaler-env/src", "Cargo.lock", "Cargo.toml"];

/// First 12 hex digits of a SHA-256 over the sources' paths and contents,
/// in sorted order.
pub(crate) fn scaler_source_hash(root: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        if dir.is_file() {
            out.push(dir.to_path_buf());
            return Ok(());
        }
        for entry in std::fs::read_dir(dir)? {
            walk(&entry?.path(), out)?;
        }
        Ok(())
    }
    let mut files = Vec::new();
    for source in SCALER_SOURCES {
        walk(&root.join(source), &mut files)?;
    }
    files.sort();
    let mut hasher = sha2::Sha256::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file);
        hasher.update(relative.to_string_lossy().replace('\\', "/").as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&file)?);
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    Ok(digest.iter().take(6).map(|b| format!("{b:02x}")).collect())
}
