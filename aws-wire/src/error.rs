//! Why a call failed, and whether the SDKs would try it again.

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// No credentials, or the request could not be signed.
    #[error("{0}")]
    Credentials(String),
    /// A configuration the SDKs refuse (FIPS with a custom endpoint, no
    /// region): nothing was sent.
    #[error("{0}")]
    Config(String),
    /// No answer: the endpoint is unreachable or the call timed out.
    #[error("{0}")]
    Network(String),
    /// The service refused the call.
    #[error("{code}: {message}{}", request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Service {
        /// The HTTP status.
        status: u16,
        /// The error code, e.g. `ParameterNotFound`.
        code: String,
        /// What the service said.
        message: String,
        /// The request id, for AWS support.
        request_id: Option<String>,
    },
    /// A 2xx answer that is not the operation's output.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl CallError {
    /// The service's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the SDKs would try again: no answer, a 5xx, or a throttling
    /// or transient error code (`aws-runtime`'s lists).
    pub fn retryable(&self) -> bool {
        use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
        match self {
            CallError::Network(_) => true,
            CallError::Service { status, code, .. } => {
                [500, 502, 503, 504].contains(status) || THROTTLING_ERRORS.contains(&code.as_str()) || TRANSIENT_ERRORS.contains(&code.as_str())
            }
            CallError::Credentials(_) | CallError::Config(_) | CallError::Decode(_) => false,
        }
    }

    /// Whether it is a throttling error.
    pub fn throttled(&self) -> bool {
        self.code().is_some_and(|c| aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&c))
    }
}
