//! Saved plan files (`plan -out FILE`, `apply FILE`, `show FILE`).

use crate::plan::{Plan, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Marker so a random JSON file is not mistaken for a plan.
const MAGIC: &str = "gantry-plan";

#[derive(Serialize, Deserialize)]
struct Envelope {
    magic: String,
    plan: Plan,
}

/// Errors reading or writing plan files.
#[derive(Debug, Error)]
pub enum PlanFileError {
    #[error("cannot read plan file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("cannot write plan file {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("{0} is not a gantry plan file")]
    NotAPlan(PathBuf),
    #[error("{0} was written by a different gantry (plan format {1}, this gantry reads {FORMAT_VERSION}); run plan again")]
    Version(PathBuf, u32),
}

/// Writes a plan (JSON, so it can be inspected and diffed in review),
/// readable by its owner only (0600), as Terraform writes its plan files:
/// a plan holds the stack's configuration.
pub fn save(plan: &Plan, path: &Path) -> Result<(), PlanFileError> {
    use std::io::Write;
    let env = Envelope { magic: MAGIC.into(), plan: plan.clone() };
    let text = serde_json::to_string_pretty(&env).expect("plans serialize");
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

/// What is read first: the marker and the version (a plan of another
/// version may not parse as this one).
#[derive(Deserialize)]
struct Header {
    magic: String,
    plan: VersionOnly,
}

#[derive(Deserialize)]
struct VersionOnly {
    #[serde(default)]
    format_version: u32,
}

/// Reads a plan file.
pub fn load(path: &Path) -> Result<Plan, PlanFileError> {
    let bytes = crate::core::bounded::read_limited(path, crate::core::bounded::ARTIFACT_LIMIT).map_err(|e| PlanFileError::Read(path.to_path_buf(), e))?;
    parse(&bytes, path)
}

/// Parses the bytes of a plan file read from `path`.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Plan, PlanFileError> {
    let not_a_plan = || PlanFileError::NotAPlan(path.to_path_buf());
    let header: Header = serde_json::from_slice(bytes).map_err(|_| not_a_plan())?;
    if header.magic != MAGIC {
        return Err(not_a_plan());
    }
    if header.plan.format_version != FORMAT_VERSION {
        return Err(PlanFileError::Version(path.to_path_buf(), header.plan.format_version));
    }
    let env: Envelope = serde_json::from_slice(bytes).map_err(|_| not_a_plan())?;
    Ok(env.plan)
}
