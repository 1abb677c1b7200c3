//! Applying a saved plan: read once, named by its hash (the lock says which
//! plan is being applied), connected to the clouds it was made for, and
//! refused when live state moved since it was made.

use super::planning::check_fresh;
use super::{Backend, Connect, OpsError, Target};
use crate::plan::{file, Plan};
use std::path::Path;
use std::sync::Arc;

/// A plan file as read from disk.
pub struct SavedPlan {
    pub plan: Plan,
    /// The first bytes of the file's SHA-256, in hex.
    pub hash: String,
}

impl SavedPlan {
    /// Reads and parses the file once; a plan made by another gantry is
    /// refused (what it means could differ).
    pub fn open(path: &Path) -> Result<SavedPlan, OpsError> {
        use sha2::Digest;
        let bytes =
            crate::core::bounded::read_limited(path, crate::core::bounded::ARTIFACT_LIMIT).map_err(|e| file::PlanFileError::Read(path.to_path_buf(), e))?;
        let plan = file::parse(&bytes, path)?;
        if plan.gantry_version != crate::VERSION {
            return Err(OpsError::WrongVersion { planned: plan.gantry_version, current: crate::VERSION.to_string() });
        }
        let hash = sha2::Sha256::digest(&bytes).iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(SavedPlan { plan, hash })
    }

    /// Connects to where the plan was made (refusing other AWS credentials)
    /// and checks it is still fresh.
    pub async fn connect(&self, connect: &dyn Connect) -> Result<Arc<dyn Backend>, OpsError> {
        let plan = &self.plan;
        let target = Target { aws_region: (!plan.region.is_empty()).then(|| plan.region.clone()), gcp_project: plan.gcp_project.clone() };
        let backend = connect.connect(&target).await?;
        let current = backend.account_id().await?;
        if current != plan.account_id && !(current.is_empty() && plan.account_id == crate::config::OFFLINE_ACCOUNT_ID) {
            return Err(OpsError::WrongAccount { planned: plan.account_id.clone(), current });
        }
        check_fresh(plan, &backend).await?;
        Ok(backend)
    }
}
