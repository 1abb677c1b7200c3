//! Google Cloud clients (TPU v2, Compute v1 instances, disks and networks), error
//! classification, retries of throttling/unavailability, and the
//! long-running-operation wait.
//!
//! Credentials: Application Default Credentials. `GANTRY_GCP_ENDPOINT`
//! points every client at another endpoint (the in-repo fake) with
//! anonymous credentials.

use crate::core::calls::ApiStats;
use crate::core::calls::{backoff, Failure};
use crate::core::error::{ErrorClass, ProviderError};
use google_cloud_compute_v1::model::Operation;
use google_cloud_gax::error::rpc::Code;
use std::sync::Arc;
use std::time::Duration;

/// Clients for one project.
#[derive(Clone)]
pub struct GcpContext {
    /// The project every call addresses.
    pub project: String,
    /// Cloud TPU v2 (TPU VMs).
    pub tpu: google_cloud_tpu_v2::client::Tpu,
    /// Compute Engine instances (GPU nodes).
    pub instances: google_cloud_compute_v1::client::Instances,
    /// Compute Engine disks (a TPU's data disk, a GPU node's boot disk).
    pub disks: google_cloud_compute_v1::client::Disks,
    /// For `data "gcp_network"` reads.
    pub networks: google_cloud_compute_v1::client::Networks,
    /// IAM v1 over REST (service accounts).
    pub iam: crate::cloud::gcp_iam::IamRest,
    /// Counts every call for `--stats`.
    pub stats: Arc<ApiStats>,
}

impl std::fmt::Debug for GcpContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GcpContext({})", self.project)
    }
}

/// Turns a client error into a classified [`ProviderError`].
pub(crate) fn classify(service: &'static str, operation: &'static str, e: google_cloud_gax::error::Error) -> ProviderError {
    let class = match e.status().map(|s| s.code) {
        Some(Code::NotFound) => ErrorClass::NotFound,
        Some(Code::PermissionDenied) => ErrorClass::AccessDenied,
        Some(Code::Unauthenticated) => ErrorClass::Credentials,
        Some(Code::ResourceExhausted) => ErrorClass::Throttled,
        Some(Code::AlreadyExists) | Some(Code::FailedPrecondition) => ErrorClass::Conflict,
        _ if e.is_transport() || e.is_io() || e.is_timeout() => ErrorClass::Network,
        _ => match e.http_status_code() {
            Some(429) => ErrorClass::Throttled,
            Some(404) => ErrorClass::NotFound,
            Some(401) => ErrorClass::Credentials,
            Some(403) => ErrorClass::AccessDenied,
            _ => ErrorClass::Other,
        },
    };
    let message = match e.status() {
        Some(s) => format!("{:?}: {}", s.code, s.message),
        None => e.to_string(),
    };
    ProviderError::google(class, service, operation, message)
}

/// Whether an error is worth retrying (throttled or temporarily unavailable).
fn retryable(e: &ProviderError) -> bool {
    e.class == ErrorClass::Throttled || e.class == ErrorClass::Network || e.message.starts_with("Unavailable")
}

/// Runs one API call with the call counter and jittered exponential
/// backoff on throttling/unavailability (up to 6 attempts).
pub async fn call<T, F, Fut>(stats: &ApiStats, service: &'static str, operation: &'static str, mut f: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, google_cloud_gax::error::Error>>,
{
    backoff(stats, service, operation, || {
        let attempt = f();
        async move {
            attempt.await.map_err(|e| {
                if e.is_exhausted() {
                    return Failure { error: gave_up(service, operation, &classify(service, operation, e).message), retry: false };
                }
                let error = classify(service, operation, e);
                Failure { retry: retryable(&error), error }
            })
        }
    })
    .await
}

/// Runs a Compute Engine call that returns an operation, waits for it (the
/// caller's closure polls with `poller().until_done()`), and turns a failed
/// operation into an error. Compute's discovery poller answers a finished
/// operation as `Ok` even when it failed (google-cloud-lro:
/// `PollingResult::Completed(Ok(op))` with `op.error` set, see
/// `maybe_record_completed_error`), so the outcome is read from the
/// operation itself: its `error.errors` and `httpErrorStatusCode`.
pub(crate) async fn compute_op<F, Fut>(stats: &ApiStats, operation: &'static str, f: F) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Operation, google_cloud_gax::error::Error>>,
{
    // Compute's discovery poller consults the polling policy only on
    // errors, never while the operation is still running
    // (google-cloud-lro internal/discovery.rs `handle_poll`), so the time
    // limit the clients carry does not bound it: this deadline does.
    let op = match tokio::time::timeout(operation_timeout(), call(stats, "compute", operation, f)).await {
        Ok(op) => op?,
        Err(_) => return Err(gave_up("compute", operation, "the operation was still running")),
    };
    operation_outcome(operation, &op)
}

/// The error a finished Compute operation reports, if any.
pub(crate) fn operation_outcome(operation: &'static str, op: &Operation) -> Result<(), ProviderError> {
    let first = op.error.as_ref().and_then(|e| e.errors.first());
    let http = op.http_error_status_code.unwrap_or(0);
    if first.is_none() && http < 400 {
        return Ok(());
    }
    let code = first.and_then(|e| e.code.as_deref()).unwrap_or("UNKNOWN");
    let message = first.and_then(|e| e.message.as_deref()).or(op.http_error_message.as_deref()).unwrap_or("");
    let class = match (http, code) {
        (404, _) => ErrorClass::NotFound,
        (409, _) | (_, "RESOURCE_ALREADY_EXISTS") => ErrorClass::Conflict,
        (429, _) | (_, "QUOTA_EXCEEDED") | (_, "RATE_LIMIT_EXCEEDED") => ErrorClass::Throttled,
        (403, _) => ErrorClass::AccessDenied,
        _ => ErrorClass::Other,
    };
    Err(ProviderError::google(class, "compute", operation, format!("operation failed: {code}: {message}")))
}

/// What Application Default Credentials would find on this machine,
/// checked without any network call.
#[derive(Debug, Clone, Default)]
pub(crate) struct AdcFacts {
    /// `GOOGLE_APPLICATION_CREDENTIALS`, and whether that file exists.
    pub env_file: Option<(String, bool)>,
    /// gcloud's well-known file exists (`application-default login`).
    pub well_known_file: bool,
    /// A metadata server is there to ask: on Google Cloud hardware, or
    /// `GCE_METADATA_HOST` set.
    pub metadata_server: bool,
}

impl AdcFacts {
    pub(crate) fn of_this_machine() -> AdcFacts {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let gcloud_dir = var("CLOUDSDK_CONFIG").map(std::path::PathBuf::from).or_else(|| var("HOME").map(|h| std::path::Path::new(&h).join(".config/gcloud")));
        AdcFacts {
            env_file: var("GOOGLE_APPLICATION_CREDENTIALS").map(|f| {
                let exists = std::path::Path::new(&f).is_file();
                (f, exists)
            }),
            well_known_file: gcloud_dir.is_some_and(|d| d.join("application_default_credentials.json").is_file()),
            metadata_server: var("GCE_METADATA_HOST").is_some()
                || std::fs::read_to_string("/sys/class/dmi/id/product_name").is_ok_and(|p| p.contains("Google")),
        }
    }

    /// A clear error now, instead of the metadata-server retries (about 48 s)
    /// the client libraries go through when there are no credentials.
    pub(crate) fn check(&self) -> Result<(), ProviderError> {
        let fail = |m: String| Err(ProviderError::google(ErrorClass::Credentials, "gcp", "Credentials", m));
        match &self.env_file {
            Some((f, false)) => fail(format!("GOOGLE_APPLICATION_CREDENTIALS is {f}, which is not a file")),
            Some((_, true)) => Ok(()),
            None if self.well_known_file || self.metadata_server => Ok(()),
            None => fail(
                "no Google Cloud credentials (Application Default Credentials): run `gcloud auth application-default login`, \
                 or set GOOGLE_APPLICATION_CREDENTIALS to a service account key or workload identity federation file \
                 (google-github-actions/auth does this in GitHub Actions)"
                    .into(),
            ),
        }
    }
}

/// How long gantry waits for one Google Cloud operation (a TPU or VM
/// create can take many minutes; one that never finishes must not hold the
/// lock forever). `GANTRY_GCP_OPERATION_TIMEOUT` (e.g. "90m") changes it.
pub(crate) const OPERATION_TIMEOUT: Duration = Duration::from_secs(60 * 60);

fn operation_timeout() -> Duration {
    std::env::var("GANTRY_GCP_OPERATION_TIMEOUT").ok().and_then(|v| humantime::parse_duration(&v).ok()).unwrap_or(OPERATION_TIMEOUT)
}

/// The message for a wait that ran out (the poller's own error says only
/// that its policy was exhausted).
fn gave_up(service: &'static str, operation: &'static str, detail: &str) -> ProviderError {
    let limit = humantime::format_duration(operation_timeout());
    ProviderError::google(
        ErrorClass::Other,
        service,
        operation,
        format!("gave up waiting for the operation after {limit}; it may still finish: run gantry plan to see where it stands ({detail})"),
    )
}

/// Where Google clients connect: `GANTRY_GCP_ENDPOINT` when set (another
/// endpoint such as the in-repo fake, called anonymously), else Google's
/// own with Application Default Credentials, which must be there.
pub(crate) fn endpoint() -> Result<Option<String>, ProviderError> {
    let endpoint = std::env::var("GANTRY_GCP_ENDPOINT").ok().filter(|e| !e.is_empty());
    if endpoint.is_none() {
        AdcFacts::of_this_machine().check()?;
    }
    Ok(endpoint)
}

impl GcpContext {
    /// Builds the clients for `project`.
    pub async fn connect(project: &str, stats: Arc<ApiStats>) -> Result<GcpContext, ProviderError> {
        let endpoint = endpoint()?;
        let fail = |e: google_cloud_gax::client_builder::Error| {
            let class = if e.to_string().to_lowercase().contains("credential") { ErrorClass::Credentials } else { ErrorClass::Other };
            ProviderError::google(class, "gcp", "Connect", e.to_string())
        };
        macro_rules! build {
            ($builder:expr) => {{
                // The client's own poller stops after the bound (no wait of ours around it).
                let policy = google_cloud_gax::polling_error_policy::PollingErrorPolicyExt::with_time_limit(
                    google_cloud_gax::polling_error_policy::Aip194Strict,
                    operation_timeout(),
                );
                let mut b = $builder.with_polling_error_policy(policy);
                if let Some(ep) = &endpoint {
                    b = b.with_endpoint(ep.clone()).with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build());
                }
                b.build().await.map_err(fail)?
            }};
        }
        Ok(GcpContext {
            project: project.to_string(),
            tpu: build!(google_cloud_tpu_v2::client::Tpu::builder()),
            instances: build!(google_cloud_compute_v1::client::Instances::builder()),
            disks: build!(google_cloud_compute_v1::client::Disks::builder()),
            networks: build!(google_cloud_compute_v1::client::Networks::builder()),
            iam: crate::cloud::gcp_iam::IamRest::new(project, endpoint.as_deref(), stats.clone())?,
            stats,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An operation as the REST API sends it.
    fn op(v: serde_json::Value) -> Operation {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn missing_google_credentials_fail_at_once_with_the_adc_hint() {
        let none = AdcFacts::default();
        let e = none.check().unwrap_err();
        assert_eq!(e.class, ErrorClass::Credentials);
        assert!(e.message.contains("gcloud auth application-default login") && e.message.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{e:?}");
        let dangling = AdcFacts { env_file: Some(("/no/key.json".into(), false)), well_known_file: true, ..AdcFacts::default() };
        assert!(dangling.check().unwrap_err().message.contains("/no/key.json"));
        assert!(AdcFacts { env_file: Some(("/k.json".into(), true)), ..AdcFacts::default() }.check().is_ok());
        assert!(AdcFacts { well_known_file: true, ..AdcFacts::default() }.check().is_ok());
        assert!(AdcFacts { metadata_server: true, ..AdcFacts::default() }.check().is_ok());
    }

    #[test]
    fn failed_operations_are_errors() {
        assert!(operation_outcome("InsertDisk", &op(json!({"status": "DONE"}))).is_ok());
        let e = operation_outcome(
            "InsertDisk",
            &op(json!({"status": "DONE", "httpErrorStatusCode": 503,
            "error": {"errors": [{"code": "ZONE_RESOURCE_POOL_EXHAUSTED", "message": "no capacity"}]}})),
        )
        .unwrap_err();
        assert!(e.message.contains("ZONE_RESOURCE_POOL_EXHAUSTED: no capacity"), "{e:?}");
        let e = operation_outcome("InsertInstance", &op(json!({"httpErrorStatusCode": 409, "httpErrorMessage": "CONFLICT"}))).unwrap_err();
        assert_eq!(e.class, ErrorClass::Conflict);
        assert!(e.message.ends_with("UNKNOWN: CONFLICT"), "{e:?}");
    }
}
