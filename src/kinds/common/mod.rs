//! Helpers shared by several kinds: Google Cloud nodes (labels, zones, the
//! agent startup script), IAM (tags, sorted lists), build secrets on the
//! machine, names cut to a length.

pub(crate) mod aws_tags;
pub(crate) mod gcp;
pub(crate) mod github_runner;
pub(crate) mod iam;
pub(crate) mod job_secrets;
pub(crate) mod lost_create;

/// Installs the GitHub Actions runner (`{{RUNNER_VERSION}}` to fill): the
/// same steps on EC2 instances and Compute Engine machines.
pub(crate) const RUNNER_INSTALL: &str = include_str!("runner_install.sh");
#[cfg(test)]
pub(crate) mod script_bench;

/// `s` cut to `max` characters, with a short hash of the whole when cut so
/// distinct long names stay distinct (a queue's derived AWS names, a node's
/// label values).
pub(crate) fn limit(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let hash: String = <sha2::Sha256 as sha2::Digest>::digest(s.as_bytes()).iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", &s[..max - 7])
}

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

/// A kind's typed desired state read back from a plan, as its
/// `desired_state` wrote it (a shape that does not read is a bug, or an
/// edited plan: the driver reports it as the call that could not be made).
pub(crate) fn read_desired<T: serde::de::DeserializeOwned>(state: &crate::core::State) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::Object(state.clone())).map_err(|e| format!("the desired state does not read: {e}"))
}

/// A typed desired state as the plan's comparable state (field by field).
pub(crate) fn to_state<T: serde::Serialize>(desired: &T) -> crate::core::State {
    match serde_json::to_value(desired) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => crate::core::State::new(),
    }
}

/// Reads `null` as the type's default: a live state records what the API
/// left unset as `null` where the desired state always has a value.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// One file of a `policy_files`/`instance_policies` attribute, as the
/// loader read it (`Ty::PolicyFiles`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PolicyFile {
    /// The inline policy's name (the file's name).
    pub name: String,
    /// The path as written, for messages.
    pub file: String,
    pub document: serde_json::Value,
}
