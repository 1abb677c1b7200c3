//! Helpers the kinds' drivers share: bounded concurrent reads, a create
//! whose answer was lost, IAM tag lists.
//! The pure helpers (tags, runner blocks, build secrets, names) are
//! gantry-core's `kinds::common`, re-exported here.

pub(crate) mod iam;
pub(crate) mod lost_create;

pub use gantry_core::kinds::common::*;

/// Runs `call` once a permit of `gate` is free: bounded concurrent reads
/// for kinds that read many resources of a region (ECR, S3).
pub(crate) async fn gated<T>(
    gate: &tokio::sync::Semaphore,
    service: &'static str,
    call: impl std::future::Future<Output = Result<T, crate::core::error::ProviderError>>,
) -> Result<T, crate::core::error::ProviderError> {
    let _permit = gate.acquire().await.map_err(|e| crate::core::error::ProviderError::aws(crate::core::ErrorClass::Other, service, "Read", e.to_string()))?;
    call.await
}

/// Runs the per-resource reads of a listing, `calls` at a time (a few more
/// started than allowed, so a permit never waits on a read that has not
/// begun), and returns what they found sorted by identity.
pub(crate) async fn read_many<F>(reads: Vec<F>, calls: usize) -> Result<Vec<crate::core::LiveResource>, crate::core::error::ProviderError>
where
    F: std::future::Future<Output = Result<Option<crate::core::LiveResource>, crate::core::error::ProviderError>>,
{
    use futures::{StreamExt, TryStreamExt};
    let found: Vec<Option<crate::core::LiveResource>> = futures::stream::iter(reads).buffer_unordered(calls * 2).try_collect().await?;
    let mut out: Vec<crate::core::LiveResource> = found.into_iter().flatten().collect();
    out.sort_by(|a, b| a.identity.cmp(&b.identity));
    Ok(out)
}
