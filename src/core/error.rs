//! Errors from cloud providers, classified so the CLI can say what to do.

use thiserror::Error;

/// Broad classes of provider failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ErrorClass {
    /// Credentials missing or rejected.
    Credentials,
    /// The caller is not allowed to do this.
    AccessDenied,
    /// The endpoint could not be reached / timed out.
    Network,
    /// Rate limited even after retries.
    Throttled,
    /// The thing does not exist.
    NotFound,
    /// A precondition in the cloud is not met (e.g. repository not empty).
    Conflict,
    /// Anything else.
    Other,
}

/// A failed cloud call, with enough context for a one-line explanation.
#[derive(Debug, Clone, Error)]
#[error("{service} {operation}: {message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    pub service: &'static str,
    pub operation: &'static str,
    pub message: String,
}

impl ProviderError {
    pub fn new(class: ErrorClass, service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        ProviderError { class, service, operation, message: message.into() }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        let google = matches!(self.service, "gcp" | "tpu" | "compute" | "gcp-iam" | "gcp-billing");
        match self.class {
            // A Google credentials error says what to do in its message.
            ErrorClass::Credentials if google => None,
            ErrorClass::Credentials => Some("configure AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or SSO) and try again"),
            ErrorClass::AccessDenied if google => Some("the identity in use lacks a permission for this call; docs/quickstart.md lists the roles gantry needs"),
            ErrorClass::AccessDenied => Some("the identity in use lacks permission for this call; see the policies/ folder for what gantry needs"),
            ErrorClass::Network if google => Some("check the network (and GANTRY_GCP_ENDPOINT if set), then re-run; nothing after this point was changed"),
            ErrorClass::Network => Some("check the endpoint (AWS_ENDPOINT_URL) and network, then re-run; nothing after this point was changed"),
            ErrorClass::Throttled => Some("the API kept throttling after retries; lower --parallelism or retry later"),
            _ => None,
        }
    }
}
