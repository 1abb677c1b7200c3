//! AWS client configuration and error classification.

use crate::cloud::stats::{ApiStats, CallCounter};
use crate::core::error::{ErrorClass, ProviderError};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::sync::Arc;
use std::time::Duration;

/// Shared AWS configuration for one region, plus the call counter.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub config: SdkConfig,
    pub stats: Arc<ApiStats>,
}

impl AwsContext {
    /// Loads credentials and settings the standard way (env, profile, SSO,
    /// IMDS), for `region`. `AWS_ENDPOINT_URL` is honoured by the SDK itself.
    /// Throttling and 5xx are retried with jittered exponential backoff.
    pub async fn load(region: &str, stats: Arc<ApiStats>) -> AwsContext {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(RetryConfig::standard().with_max_attempts(6).with_initial_backoff(Duration::from_millis(200)))
            .timeout_config(TimeoutConfig::builder().connect_timeout(Duration::from_secs(5)).operation_attempt_timeout(Duration::from_secs(60)).build())
            .load()
            .await;
        AwsContext { config, stats }
    }

    /// The interceptor to add to each service client.
    pub fn counter(&self) -> CallCounter {
        CallCounter { stats: self.stats.clone() }
    }

    /// An ECR client with the call counter attached.
    pub fn ecr(&self) -> aws_sdk_ecr::Client {
        let conf = aws_sdk_ecr::config::Builder::from(&self.config).interceptor(self.counter()).build();
        aws_sdk_ecr::Client::from_conf(conf)
    }

    /// An S3 client (path-style addressing, so custom endpoints work).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let mut b = aws_sdk_s3::config::Builder::from(&self.config).interceptor(self.counter());
        if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
            b = b.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(b.build())
    }

    /// An IAM client with the call counter attached.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf = aws_sdk_iam::config::Builder::from(&self.config).interceptor(self.counter()).build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// An STS client with the call counter attached.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config).interceptor(self.counter()).build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// The account id of the caller (one STS call).
    pub async fn account_id(&self) -> Result<String, ProviderError> {
        let out = self.sts().get_caller_identity().send().await.map_err(|e| classify("sts", "GetCallerIdentity", e))?;
        out.account.ok_or_else(|| ProviderError::new(ErrorClass::Other, "sts", "GetCallerIdentity", "no account in response"))
    }
}

/// Turns an SDK error into a classified [`ProviderError`].
pub fn classify<E, R>(service: &'static str, operation: &'static str, err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let (class, message) = match &err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown");
            let msg = e.message().unwrap_or("");
            (class_of_code(code), format!("{code}: {msg}"))
        }
        SdkError::TimeoutError(_) => (ErrorClass::Network, "timed out".to_string()),
        SdkError::DispatchFailure(_) => {
            let text = DisplayErrorContext(&err).to_string();
            let class = if text.to_lowercase().contains("credential") { ErrorClass::Credentials } else { ErrorClass::Network };
            (class, text)
        }
        _ => {
            let text = DisplayErrorContext(&err).to_string();
            let class = if text.to_lowercase().contains("credential") { ErrorClass::Credentials } else { ErrorClass::Other };
            (class, text)
        }
    };
    ProviderError::new(class, service, operation, message)
}

/// Classifies an AWS error code.
pub fn class_of_code(code: &str) -> ErrorClass {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError" => ErrorClass::AccessDenied,
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded" => ErrorClass::Throttled,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch" => ErrorClass::Credentials,
        c if c.contains("NotFound") || c.contains("NoSuch") => ErrorClass::NotFound,
        c if c.contains("NotEmpty") || c.contains("InUse") || c.contains("AlreadyExists") => ErrorClass::Conflict,
        _ => ErrorClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(class_of_code("AccessDeniedException"), ErrorClass::AccessDenied);
        assert_eq!(class_of_code("RepositoryNotFoundException"), ErrorClass::NotFound);
        assert_eq!(class_of_code("RepositoryNotEmptyException"), ErrorClass::Conflict);
        assert_eq!(class_of_code("ThrottlingException"), ErrorClass::Throttled);
        assert_eq!(class_of_code("Weird"), ErrorClass::Other);
    }
}
