//! Taking the stack lock: the local lock file, or the S3 lock when the
//! stack declares `backend "s3"`.

use crate::cloud::aws::AwsContext;
use crate::cloud::s3::S3Object;
use crate::cloud::stats::ApiStats;
use crate::core::BackendConfig;
use crate::engine::lock::{self, LockError, LockGuard, LockInfo};
use crate::engine::s3_lock::{S3Lock, S3LockConfig};
use std::path::Path;
use std::sync::Arc;

/// A held lock; call [`HeldLock::release`] when done (the local lock also
/// releases on drop).
pub(crate) enum HeldLock {
    Local(LockGuard),
    S3 { lock: S3Lock, id: String },
}

async fn s3(backend: &BackendConfig, fallback_region: &str, stats: Arc<ApiStats>) -> S3Lock {
    let region = backend.region.clone().unwrap_or_else(|| fallback_region.to_string());
    let ctx = AwsContext::load(&region, stats).await;
    S3Lock::new(std::sync::Arc::new(S3Object::new(ctx.s3(), S3LockConfig { bucket: backend.bucket.clone(), key: backend.key.clone() })))
}

/// Takes the lock for `operation`; S3 calls count in `stats` (the run's
/// `--stats` includes them, and the permission test sees them).
pub(crate) async fn acquire(dir: &Path, backend: Option<&BackendConfig>, region: &str, operation: &str, stats: Arc<ApiStats>) -> Result<HeldLock, LockError> {
    match backend {
        None => lock::acquire(dir, operation).map(HeldLock::Local),
        Some(b) => {
            let l = s3(b, region, stats).await;
            let info = l.acquire(operation).await?;
            Ok(HeldLock::S3 { lock: l, id: info.id })
        }
    }
}

impl HeldLock {
    /// Releases the lock.
    pub(crate) async fn release(self) {
        match self {
            HeldLock::Local(g) => drop(g),
            HeldLock::S3 { lock, id } => {
                if let Err(e) = lock.release(&id).await {
                    crate::errln!("warning: could not release the S3 lock {id}: {e}; remove it with gantry force-unlock {id}");
                }
            }
        }
    }
}

/// Removes a stuck lock by id.
pub(crate) async fn force_unlock(dir: &Path, backend: Option<&BackendConfig>, region: &str, id: &str) -> Result<LockInfo, LockError> {
    match backend {
        None => lock::force_unlock(dir, id),
        Some(b) => s3(b, region, ApiStats::new()).await.force_unlock(id).await,
    }
}

/// The backend and region declared by the stack in `dir` (files read offline).
pub(crate) fn stack_backend(dir: &Path) -> (Option<BackendConfig>, String) {
    let (_, settings) = crate::config::read_settings(dir, &crate::config::LoadOptions::default().with_process_env(), &super::language());
    match settings {
        Some((s, _)) => (s.backend, s.aws_region.unwrap_or_default()),
        None => (None, String::new()),
    }
}
