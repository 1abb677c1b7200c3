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

/// Whose API failed: what to do about it differs (credentials, roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Provider {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Google,
    /// GitHub's REST API.
    GitHub,
    /// Buildkite's REST API.
    Buildkite,
}

/// A failed cloud call, with enough context for a one-line explanation.
#[derive(Debug, Clone, Error)]
#[error("{service} {operation}: {message}")]
pub struct ProviderError {
    /// Whose API answered.
    pub provider: Provider,
    /// What kind of failure, for hints and retries.
    pub class: ErrorClass,
    /// The service as its SDK names it (`ecr`, `tpu`).
    pub service: &'static str,
    /// The API operation (`CreateRepository`).
    pub operation: &'static str,
    /// The provider's message.
    pub message: String,
}

impl ProviderError {
    /// An error from `provider`'s `service`.
    pub fn new(provider: Provider, class: ErrorClass, service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        ProviderError { provider, class, service, operation, message: message.into() }
    }

    /// An AWS API's error (`service` as the SDK names it: `ecr`, `iam`).
    pub fn aws(class: ErrorClass, service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Self::new(Provider::Aws, class, service, operation, message)
    }

    /// A Google Cloud API's error (`tpu`, `compute`, `gcp-iam`).
    pub fn google(class: ErrorClass, service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Self::new(Provider::Google, class, service, operation, message)
    }

    /// A GitHub REST API error.
    pub fn github(class: ErrorClass, operation: &'static str, message: impl Into<String>) -> Self {
        Self::new(Provider::GitHub, class, "github", operation, message)
    }

    /// A Buildkite REST API error.
    pub fn buildkite(class: ErrorClass, operation: &'static str, message: impl Into<String>) -> Self {
        Self::new(Provider::Buildkite, class, "buildkite", operation, message)
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        let google = self.provider == Provider::Google;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_follows_the_provider_not_the_service_name() {
        let google = ProviderError::google(ErrorClass::AccessDenied, "cloudbilling", "ListSkus", "PERMISSION_DENIED");
        assert!(google.hint().unwrap().contains("docs/quickstart.md"), "any Google service, named or not");
        let aws = ProviderError::aws(ErrorClass::AccessDenied, "pricing", "GetProducts", "AccessDeniedException");
        assert!(aws.hint().unwrap().contains("policies/"));
        assert_eq!(ProviderError::google(ErrorClass::Credentials, "compute", "Get", "no ADC").hint(), None, "Google says what to do in its message");
        assert!(ProviderError::aws(ErrorClass::Credentials, "sts", "GetCallerIdentity", "x").hint().unwrap().contains("AWS credentials"));
        assert_eq!(ProviderError::github(ErrorClass::NotFound, "ListWorkflowRuns", "x").to_string(), "github ListWorkflowRuns: x");
    }
}
