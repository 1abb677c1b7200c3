//! The release packaging (`scripts/package.sh`, which the release workflow
//! runs per platform) produces archives a user can install: checksums that
//! match, the gantry binary with the bundled scaler beside it, and a gantry
//! that finds that scaler once unpacked anywhere.
//!
//! In the suite, the script packages the gantry this test build made (no
//! second build) with stand-in scaler zips (building release artifacts
//! belongs to the release workflow, not to every CI run).
//! `GANTRY_DIST_DIR=dist cargo test --test it dist::` verifies a real
//! release folder instead: then the scaler zips must be Lambda
//! `bootstrap` executables for their architecture and the binary < 40 MB.

use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A folder the packaging script wrote: (folder, is a real release).
fn dist() -> (PathBuf, Option<tempfile::TempDir>, bool) {
    if let Some(dir) = std::env::var_os("GANTRY_DIST_DIR") {
        return (PathBuf::from(dir), None, true);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    // package.sh copies the binary it is given: the copy can go after.
    let work = tempfile::tempdir().unwrap();
    let binary = stripped_gantry(work.path());
    let r = Command::new("bash")
        .arg(root.join("scripts/package.sh"))
        .arg("--binary")
        .arg(&binary)
        .arg("--out")
        .arg(out.path())
        .arg("--scaler-dir")
        .arg(crate::support::bundled_scaler_dir())
        .current_dir(root)
        .output()
        .unwrap();
    assert!(r.status.success(), "package.sh failed:\n{}", String::from_utf8_lossy(&r.stderr));
    let archive = PathBuf::from(String::from_utf8_lossy(&r.stdout).trim());
    assert!(archive.starts_with(out.path()) && archive.exists(), "{}", archive.display());
    (out.path().to_path_buf(), Some(out), false)
}

/// This test build's gantry without its symbols, as the release profile
/// ships it (`strip = "symbols"`): half the size, so packing and unpacking
/// it takes half the time. The binary as built when `strip` is missing.
fn stripped_gantry(dir: &Path) -> PathBuf {
    let copy = dir.join("gantry");
    std::fs::copy(env!("CARGO_BIN_EXE_gantry"), &copy).unwrap();
    match Command::new("strip").arg(&copy).status() {
        Ok(s) if s.success() => copy,
        _ => PathBuf::from(env!("CARGO_BIN_EXE_gantry")),
    }
}

fn sha256_hex(path: &Path) -> String {
    sha2::Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

/// (ELF machine of the zip's single `bootstrap` entry, executable bit).
fn bootstrap_of(zip: &Path) -> (u16, bool) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); i = z.infolist(); assert [e.filename for e in i] == ['bootstrap'], i; \
             h = z.open('bootstrap').read(20); assert h[:4] == b'\\x7fELF', h; \
             print(int.from_bytes(h[18:20], 'little'), 1 if (i[0].external_attr >> 16) & 0o111 else 0)",
            zip.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", zip.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    (parts.next().unwrap().parse().unwrap(), parts.next() == Some("1"))
}

#[test]
fn packaged_release_is_complete_verified_and_finds_its_scaler() {
    let (dir, _keep, real) = dist();
    // Every artifact is listed in SHA256SUMS, with the right digest.
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (digest, name) = line.split_once("  ").unwrap_or_else(|| panic!("not a sha256sum line: {line}"));
        assert_eq!(sha256_hex(&dir.join(name)), digest, "{name}: checksum does not match");
        listed.push(name.to_string());
    }
    let scalers: Vec<String> = ["arm64", "x86_64"].iter().map(|a| format!("gantry-scaler-{VERSION}-{a}.zip")).collect();
    for s in &scalers {
        assert!(listed.contains(s), "{s} missing from SHA256SUMS: {listed:?}");
    }
    let archives: Vec<&String> = listed.iter().filter(|n| n.starts_with(&format!("gantry-{VERSION}-")) && n.ends_with(".tar.gz")).collect();
    assert!(!archives.is_empty(), "no gantry archive: {listed:?}");
    if real {
        for (zip, machine) in scalers.iter().zip([183u16, 62]) {
            assert_eq!(bootstrap_of(&dir.join(zip)), (machine, true), "{zip}: an executable bootstrap for its architecture");
        }
    }

    let host = archives.iter().find(|a| a.contains(std::env::consts::ARCH)).unwrap_or(&archives[0]);
    let unpacked = tempfile::tempdir().unwrap();
    let status = Command::new("tar").arg("-xzf").arg(dir.join(host)).arg("-C").arg(unpacked.path()).status().unwrap();
    assert!(status.success());
    let top = unpacked.path().join(host.trim_end_matches(".tar.gz"));
    for f in ["gantry", "LICENSE", "README.md"] {
        assert!(top.join(f).is_file(), "{f} missing from {host}");
    }
    for s in &scalers {
        assert_eq!(sha256_hex(&top.join("scaler").join(s)), sha256_hex(&dir.join(s)), "{host} carries the same {s}");
    }
    let binary = top.join("gantry");
    let size = std::fs::metadata(&binary).unwrap().len();
    eprintln!("{host}: gantry binary {size} bytes ({:.1} MiB)", size as f64 / 1048576.0);
    if real {
        assert!(size < 40_000_000, "release binary is {size} bytes; the target is < 40 MB");
    }

    // Unpacked anywhere, gantry finds the scaler it shipped with.
    let version = Command::new(&binary).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("gantry {VERSION}"));
    let home = tempfile::tempdir().unwrap();
    let r = Command::new(&binary)
        .args(["scaler", "--arch", "arm64", "--arch", "x86_64"])
        .env_remove("GANTRY_SCALER_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env("GANTRY_CACHE_DIR", home.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{stdout}{}", String::from_utf8_lossy(&r.stderr));
    for s in &scalers {
        let installed = top.join("scaler").join(s).canonicalize().unwrap();
        assert!(stdout.contains(&format!("installed with gantry ({})", installed.display())), "{stdout}");
    }

    // scripts/install.sh puts it in PREFIX/bin with the scaler in PREFIX/share.
    if host.contains(std::env::consts::ARCH) && cfg!(any(target_os = "linux", target_os = "macos")) {
        let prefix = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let r = Command::new("bash")
            .arg(root.join("scripts/install.sh"))
            .args(["--version", VERSION, "--from"])
            .arg(&dir)
            .arg("--prefix")
            .arg(prefix.path())
            .output()
            .unwrap();
        assert!(r.status.success(), "install.sh: {}", String::from_utf8_lossy(&r.stderr));
        let r = Command::new(prefix.path().join("bin/gantry"))
            .args(["scaler", "--arch", "x86_64"])
            .env_remove("GANTRY_SCALER_DIR")
            .env("GANTRY_CACHE_DIR", home.path())
            .output()
            .unwrap();
        let shared = prefix.path().join("share/gantry/scaler").join(&scalers[1]).canonicalize().unwrap();
        assert!(String::from_utf8_lossy(&r.stdout).contains(&shared.display().to_string()), "{}", String::from_utf8_lossy(&r.stdout));
        // A tampered archive is refused before anything is installed.
        let bad = tempfile::tempdir().unwrap();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, bad.path().join(f.file_name().unwrap())).unwrap();
        }
        let archive = bad.path().join(host);
        let mut bytes = std::fs::read(&archive).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&archive, bytes).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let r = Command::new("bash")
            .arg(root.join("scripts/install.sh"))
            .args(["--version", VERSION, "--from"])
            .arg(bad.path())
            .arg("--prefix")
            .arg(elsewhere.path())
            .output()
            .unwrap();
        assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("does not match SHA256SUMS"), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(!elsewhere.path().join("bin").exists(), "nothing installed from a bad archive");
    }
}
