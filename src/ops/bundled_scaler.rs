//! The bundled scaler: the zip a queue deploys when its `scaler` block
//! names none, built for exactly this gantry. Looked for, in order:
//!
//! 1. `GANTRY_SCALER_DIR` (when set, the only place looked: air-gapped
//!    installs and tests);
//! 2. next to the executable, as a release archive installs it:
//!    `scaler/` beside `gantry`, or `../share/gantry/scaler/`;
//! 3. the per-user cache (`$GANTRY_CACHE_DIR`, else `$XDG_CACHE_HOME/gantry`,
//!    else `~/.cache/gantry`), keyed by version and scaler-source hash;
//! 4. a source checkout: the workspace gantry was built from, if its
//!    scaler sources still match, is built once with the pinned
//!    cargo-lambda (`scripts/build-scaler.sh`) into that cache.
//!
//! Resolved once per architecture per process; the result names where
//! the zip came from, and the plan shows it.

include!("scaler_source.rs");

use crate::core::BundledZip;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The scaler sources this gantry was built from (see `build.rs`).
pub(crate) const SOURCE_HASH: &str = env!("GANTRY_SCALER_SOURCE");

/// File name of a released scaler zip.
pub(crate) fn zip_name(arch: &str) -> String {
    format!("gantry-scaler-{}-{arch}.zip", crate::VERSION)
}

/// Where to look, from the process environment (a struct so tests can
/// point every place at a temporary directory).
#[derive(Debug, Clone, Default)]
pub(crate) struct Places {
    pub override_dir: Option<PathBuf>,
    pub exe_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    /// The workspace gantry was built from, if it is still there.
    pub workspace: Option<PathBuf>,
}

impl Places {
    pub(crate) fn from_process() -> Places {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let cache_root = var("GANTRY_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("gantry")))
            .or_else(|| var("HOME").map(|h| h.join(".cache").join("gantry")));
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Places {
            override_dir: var("GANTRY_SCALER_DIR"),
            exe_dir: std::env::current_exe().ok().and_then(|e| e.canonicalize().ok()).and_then(|e| e.parent().map(Path::to_path_buf)),
            cache_dir: cache_root.map(|c| c.join("scaler").join(format!("{}-{SOURCE_HASH}", crate::VERSION))),
            workspace: workspace.join("lambda").join("Cargo.toml").is_file().then_some(workspace),
        }
    }
}

/// A zip found, and how to say where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub path: PathBuf,
    pub origin: String,
}

/// Finds the scaler zip for `arch`, building it from the workspace when
/// that is the only way (`build` runs the build and returns the zip).
pub(crate) fn locate(places: &Places, arch: &str, build: &dyn Fn(&Path, &str) -> Result<PathBuf, String>) -> Result<Located, String> {
    let name = zip_name(arch);
    if let Some(dir) = &places.override_dir {
        let path = dir.join(&name);
        return match path.is_file() {
            true => Ok(Located { origin: format!("bundled scaler {} from GANTRY_SCALER_DIR ({})", crate::VERSION, path.display()), path }),
            false => Err(format!("GANTRY_SCALER_DIR is set, but {} does not exist", path.display())),
        };
    }
    let mut looked = Vec::new();
    let beside = places.exe_dir.iter().flat_map(|d| [d.join("scaler"), d.join("..").join("share").join("gantry").join("scaler")]);
    for dir in beside {
        let path = dir.join(&name);
        if path.is_file() {
            let path = path.canonicalize().unwrap_or(path);
            return Ok(Located { origin: format!("bundled scaler {} installed with gantry ({})", crate::VERSION, path.display()), path });
        }
        looked.push(path.display().to_string());
    }
    if let Some(cache) = &places.cache_dir {
        let path = cache.join(&name);
        if path.is_file() {
            return Ok(Located { origin: format!("bundled scaler {} built from gantry's sources ({})", crate::VERSION, path.display()), path });
        }
        looked.push(path.display().to_string());
        if let Some(ws) = &places.workspace {
            return build_into_cache(ws, arch, &path, build)
                .map(|()| Located { origin: format!("bundled scaler {} built from gantry's sources ({})", crate::VERSION, path.display()), path });
        }
    }
    Err(format!(
        "no scaler zip for gantry {} ({arch}); looked in {}. Install gantry from a release archive (it carries scaler/{name}), \
         set GANTRY_SCALER_DIR to a folder holding {name}, or name a zip: scaler {{ zip = \"...\" }}",
        crate::VERSION,
        looked.join(", ")
    ))
}

/// Builds the scaler from the workspace and stores it in the cache (written
/// aside and renamed, so a cut-off build leaves nothing half-written).
fn build_into_cache(workspace: &Path, arch: &str, dest: &Path, build: &dyn Fn(&Path, &str) -> Result<PathBuf, String>) -> Result<(), String> {
    match scaler_source_hash(workspace) {
        Ok(h) if h == SOURCE_HASH => {}
        _ => {
            return Err(format!(
                "the scaler sources in {} changed since this gantry was built; rebuild gantry (cargo build) so it deploys the scaler it was built with",
                workspace.display()
            ))
        }
    }
    let built = build(workspace, arch)?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.partial", zip_name(arch)));
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::copy(&built, &tmp))
        .and_then(|_| std::fs::rename(&tmp, dest))
        .map_err(|e| format!("cannot store the built scaler in {}: {e}", dir.display()))
}

/// Runs `scripts/build-scaler.sh` (pinned cargo-lambda, zig for the cross
/// link) and returns the zip it reports.
pub(crate) fn build_with_script(workspace: &Path, arch: &str) -> Result<PathBuf, String> {
    crate::errln!("gantry: building the bundled scaler ({arch}) from {} with cargo-lambda; once per gantry build, a few minutes", workspace.display());
    let out = std::process::Command::new(workspace.join("scripts").join("build-scaler.sh"))
        .arg(arch)
        .current_dir(workspace)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run scripts/build-scaler.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the scaler failed ({}); see the output above", out.status));
    }
    let rel = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(workspace.join(rel))
}

static RESOLVED: Mutex<BTreeMap<String, Result<BundledZip, String>>> = Mutex::new(BTreeMap::new());

/// The bundled scaler for `arch`: where it is, its hash and size, and
/// where it came from.
pub(crate) fn bundled_zip(arch: &str) -> Result<BundledZip, String> {
    let mut resolved = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = resolved.get(arch) {
        return r.clone();
    }
    let result = locate(&Places::from_process(), arch, &build_with_script).and_then(|found| {
        let bytes = crate::core::bounded::read_limited(&found.path, crate::core::bounded::ARTIFACT_LIMIT)
            .map_err(|e| format!("cannot read {}: {e}", found.path.display()))?;
        Ok(BundledZip { path: found.path.display().to_string(), sha256: crate::core::sha256_base64(&bytes), size: bytes.len() as u64, source: found.origin })
    });
    resolved.insert(arch.to_string(), result.clone());
    result
}

/// The scaler zips bundled with this gantry, found (or built) as this
/// module says; what plan and apply hand the loader.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BundledScaler;

impl crate::core::Bundled for BundledScaler {
    fn scaler_zip(&self, arch: &str) -> Result<BundledZip, String> {
        bundled_zip(arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn no_build(_: &Path, _: &str) -> Result<PathBuf, String> {
        Err("must not build".into())
    }

    #[test]
    fn the_override_folder_is_the_only_place_looked() {
        let dir = tempfile::tempdir().unwrap();
        let installed = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(installed.path().join("scaler")).unwrap();
        std::fs::write(installed.path().join("scaler").join(zip_name("arm64")), b"zip").unwrap();
        let places = Places { override_dir: Some(dir.path().into()), exe_dir: Some(installed.path().into()), ..Places::default() };
        let e = locate(&places, "arm64", &no_build).unwrap_err();
        assert!(e.contains("GANTRY_SCALER_DIR is set") && e.contains(&zip_name("arm64")), "{e}");
        std::fs::write(dir.path().join(zip_name("arm64")), b"zip").unwrap();
        let found = locate(&places, "arm64", &no_build).unwrap();
        assert_eq!(found.path, dir.path().join(zip_name("arm64")));
        assert!(found.origin.contains("GANTRY_SCALER_DIR"));
    }

    #[test]
    fn a_release_install_is_found_next_to_the_binary_before_the_cache() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        let share = root.path().join("share").join("gantry").join("scaler");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&share).unwrap();
        std::fs::write(share.join(zip_name("x86_64")), b"zip").unwrap();
        let cache = root.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(cache.join(zip_name("x86_64")), b"cached").unwrap();
        let places = Places { exe_dir: Some(bin), cache_dir: Some(cache.clone()), ..Places::default() };
        let found = locate(&places, "x86_64", &no_build).unwrap();
        assert!(found.origin.contains("installed with gantry"), "{}", found.origin);
        // Another architecture is not installed: the cache has none either.
        let e = locate(&places, "arm64", &no_build).unwrap_err();
        assert!(e.contains("no scaler zip") && e.contains("scaler { zip"), "{e}");
    }

    #[test]
    fn a_source_checkout_builds_once_into_the_cache() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cache = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let builds = Cell::new(0);
        let build = |ws: &Path, arch: &str| {
            assert_eq!((ws, arch), (root, "arm64"));
            builds.set(builds.get() + 1);
            let zip = out.path().join("bootstrap.zip");
            std::fs::write(&zip, b"built").unwrap();
            Ok(zip)
        };
        let places = Places { cache_dir: Some(cache.path().join("0.1.0-abc")), workspace: Some(root.into()), ..Places::default() };
        let first = locate(&places, "arm64", &build).unwrap();
        assert_eq!(std::fs::read(&first.path).unwrap(), b"built");
        assert!(first.origin.contains("built from gantry's sources"));
        let again = locate(&places, "arm64", &build).unwrap();
        assert_eq!((again, builds.get()), (first, 1), "the second lookup finds the cached build");
        // No partial file is left beside it.
        let names: Vec<_> = std::fs::read_dir(cache.path().join("0.1.0-abc")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(zip_name("arm64"))]);
    }

    #[test]
    fn a_checkout_whose_scaler_sources_changed_is_not_built_from() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(ws.path().join("lambda/src")).unwrap();
        for f in SCALER_SOURCES.iter().filter(|f| f.contains('.')) {
            std::fs::create_dir_all(ws.path().join(f).parent().unwrap()).unwrap();
            std::fs::write(ws.path().join(f), b"other").unwrap();
        }
        std::fs::create_dir_all(ws.path().join("scaler-env/src")).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let places = Places { cache_dir: Some(cache.path().into()), workspace: Some(ws.path().into()), ..Places::default() };
        let e = locate(&places, "arm64", &no_build).unwrap_err();
        assert!(e.contains("changed since this gantry was built"), "{e}");
    }

    #[test]
    fn the_source_hash_is_the_one_compiled_in() {
        assert_eq!(scaler_source_hash(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap(), SOURCE_HASH);
    }
}
