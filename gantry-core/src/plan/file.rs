//! Saved plan files (`plan -out FILE`, `apply FILE`, `show FILE`).
//!
//! A plan file is never trusted for what it claims: apply makes the plan
//! again and refuses it unless both agree (see `ops::saved`). With
//! `GANTRY_PLAN_KEY` set, the file also carries an HMAC-SHA256 of its plan,
//! so a file that was not written by a holder of the key is refused before
//! anything is read (docs/security.md has the threat model).

use crate::plan::{Plan, FORMAT_VERSION};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Marker so a random JSON file is not mistaken for a plan.
const MAGIC: &str = "gantry-plan";

/// The environment variable holding the signing key.
pub const KEY_VAR: &str = "GANTRY_PLAN_KEY";

/// Shortest key accepted: 32 bytes, SHA-256's block-size half (RFC 2104
/// asks for at least the output length, 32 bytes, for full strength).
const MIN_KEY_LEN: usize = 32;

/// The key plans are signed and checked with.
pub struct PlanKey(Vec<u8>);

impl PlanKey {
    /// The key from `GANTRY_PLAN_KEY`, when set and not empty.
    pub fn from_env() -> Result<Option<PlanKey>, PlanFileError> {
        match std::env::var_os(KEY_VAR) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => {
                let bytes = v.as_encoded_bytes().to_vec();
                if bytes.len() < MIN_KEY_LEN {
                    return Err(PlanFileError::ShortKey(bytes.len()));
                }
                Ok(Some(PlanKey(bytes)))
            }
        }
    }

    fn mac(&self, plan_json: &[u8]) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(plan_json);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Constant-time check of a hex MAC.
    fn verify(&self, plan_json: &[u8], mac_hex: &str) -> bool {
        use hmac::{KeyInit, Mac};
        let Some(given) = hex_bytes(mac_hex) else { return false };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(plan_json);
        mac.verify_slice(&given).is_ok()
    }
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// The file as read: the plan's own bytes are kept for the MAC.
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    magic: String,
    #[serde(default)]
    mac: Option<String>,
    #[serde(borrow)]
    plan: &'a serde_json::value::RawValue,
}

/// Errors reading or writing plan files.
#[derive(Debug, Error)]
pub enum PlanFileError {
    /// The file could not be read.
    #[error("cannot read plan file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file could not be written.
    #[error("cannot write plan file {0}: {1}")]
    Write(PathBuf, std::io::Error),
    /// Not a gantry plan file.
    #[error("{0} is not a gantry plan file")]
    NotAPlan(PathBuf),
    /// A plan file whose plan does not read (edited, or cut short).
    #[error("{0} does not read as a plan ({1}): was it edited? nothing was changed")]
    Malformed(PathBuf, String),
    /// A plan of another format version.
    #[error("{0} was written by a different gantry (plan format {1}, this gantry reads {FORMAT_VERSION}); run plan again")]
    Version(PathBuf, u32),
    /// The signing key is too short.
    #[error("{KEY_VAR} is {0} bytes long; use a random key of at least {MIN_KEY_LEN} bytes (e.g. `openssl rand -hex 32`)")]
    ShortKey(usize),
    /// A key is set but the plan carries no signature.
    #[error("{0} is not signed, and {KEY_VAR} is set: only plans made with the key are applied; nothing was changed")]
    Unsigned(PathBuf),
    /// The signature does not match the plan's bytes.
    #[error("{0} does not carry a valid signature for {KEY_VAR}: it was changed after it was made, or made with another key; nothing was changed")]
    BadSignature(PathBuf),
}

/// Writes a plan (JSON, so it can be inspected and diffed in review),
/// readable by its owner only (0600), as Terraform writes its plan files:
/// a plan holds the stack's configuration.
pub fn save(plan: &Plan, path: &Path, key: Option<&PlanKey>) -> Result<(), PlanFileError> {
    use std::io::Write;
    let body = serde_json::to_string_pretty(plan).expect("plans serialize");
    let mac = key.map(|k| format!("\n  \"mac\": \"{}\",", k.mac(body.as_bytes()))).unwrap_or_default();
    let text = format!("{{\n  \"magic\": \"{MAGIC}\",{mac}\n  \"plan\": {body}\n}}\n");
    let err = |e| PlanFileError::Write(path.to_path_buf(), e);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(err)?;
    // An existing file keeps its mode through open(): narrow it too.
    #[cfg(unix)]
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

/// What is read of the plan first: its version (a plan of another version
/// may not parse as this one).
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    format_version: u32,
}

/// Reads a plan file, checking its signature when `key` is given.
pub fn load(path: &Path, key: Option<&PlanKey>) -> Result<Plan, PlanFileError> {
    let bytes = crate::core::bounded::read_limited(path, crate::core::bounded::ARTIFACT_LIMIT).map_err(|e| PlanFileError::Read(path.to_path_buf(), e))?;
    parse(&bytes, path, key)
}

/// Parses the bytes of a plan file read from `path`. With a key, the
/// signature is checked before the plan is parsed.
pub fn parse(bytes: &[u8], path: &Path, key: Option<&PlanKey>) -> Result<Plan, PlanFileError> {
    let not_a_plan = || PlanFileError::NotAPlan(path.to_path_buf());
    let raw: RawEnvelope = serde_json::from_slice(bytes).map_err(|_| not_a_plan())?;
    if raw.magic != MAGIC {
        return Err(not_a_plan());
    }
    if let Some(key) = key {
        let mac = raw.mac.as_deref().ok_or_else(|| PlanFileError::Unsigned(path.to_path_buf()))?;
        if !key.verify(raw.plan.get().as_bytes(), mac) {
            return Err(PlanFileError::BadSignature(path.to_path_buf()));
        }
    }
    let header: VersionOnly = serde_json::from_str(raw.plan.get()).map_err(|_| not_a_plan())?;
    if header.format_version != FORMAT_VERSION {
        return Err(PlanFileError::Version(path.to_path_buf(), header.format_version));
    }
    // A change whose action lacks the state it needs does not read (`Op`).
    serde_json::from_str(raw.plan.get()).map_err(|e| PlanFileError::Malformed(path.to_path_buf(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_key_and_its_bytes_only() {
        let key = PlanKey(vec![7; 32]);
        let mac = key.mac(b"{\"plan\": 1}");
        assert!(key.verify(b"{\"plan\": 1}", &mac));
        assert!(!key.verify(b"{\"plan\": 2}", &mac), "other bytes");
        assert!(!PlanKey(vec![8; 32]).verify(b"{\"plan\": 1}", &mac), "another key");
        assert!(!key.verify(b"{\"plan\": 1}", &mac[..62]), "a cut signature");
        assert!(!key.verify(b"{\"plan\": 1}", "zz"), "not hex");
    }
}
