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

/// Writes a plan (JSON, so it can be inspected and diffed in review).
pub fn save(plan: &Plan, path: &Path) -> Result<(), PlanFileError> {
    let env = Envelope { magic: MAGIC.into(), plan: plan.clone() };
    let text = serde_json::to_string_pretty(&env).expect("plans serialize");
    std::fs::write(path, text).map_err(|e| PlanFileError::Write(path.to_path_buf(), e))
}

/// Reads a plan file.
pub fn load(path: &Path) -> Result<Plan, PlanFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlanFileError::Read(path.to_path_buf(), e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| PlanFileError::NotAPlan(path.to_path_buf()))?;
    if v.get("magic").and_then(|m| m.as_str()) != Some(MAGIC) {
        return Err(PlanFileError::NotAPlan(path.to_path_buf()));
    }
    let version = v.pointer("/plan/format_version").and_then(|x| x.as_u64()).unwrap_or(0) as u32;
    if version != FORMAT_VERSION {
        return Err(PlanFileError::Version(path.to_path_buf(), version));
    }
    let env: Envelope = serde_json::from_value(v).map_err(|_| PlanFileError::NotAPlan(path.to_path_buf()))?;
    Ok(env.plan)
}

/// True when `path` looks like a plan file rather than a stack directory.
pub fn is_plan_file(path: &Path) -> bool {
    path.is_file()
}
