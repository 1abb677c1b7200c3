//! Helpers shared by several kinds: Google Cloud nodes (labels, zones, the
//! agent startup script) and IAM (tags, sorted lists).

pub mod aws_tags;
pub mod gcp;
pub mod github_runner;
pub mod iam;
pub mod lost_create;

/// Installs the GitHub Actions runner (`{{RUNNER_VERSION}}` to fill): the
/// same steps on EC2 instances and Compute Engine machines.
pub const RUNNER_INSTALL: &str = include_str!("runner_install.sh");
#[cfg(test)]
pub mod script_bench;

/// Runs `call` once a permit of `gate` is free: bounded concurrent reads
/// for kinds that read many resources of a region (ECR, S3).
pub async fn gated<T>(
    gate: &tokio::sync::Semaphore,
    service: &'static str,
    call: impl std::future::Future<Output = Result<T, crate::core::error::ProviderError>>,
) -> Result<T, crate::core::error::ProviderError> {
    let _permit = gate.acquire().await.map_err(|e| crate::core::error::ProviderError::new(crate::core::ErrorClass::Other, service, "Read", e.to_string()))?;
    call.await
}
