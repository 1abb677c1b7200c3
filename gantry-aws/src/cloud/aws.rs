//! AWS client configuration and error classification.

use crate::cloud::stats::{ApiStats, CallCounter};
use crate::core::error::{ErrorClass, ProviderError};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::sync::Arc;
use std::time::Duration;

/// The one region the ECR Public API answers in (api.ecr-public.us-east-1.amazonaws.com).
pub(crate) const ECR_PUBLIC_REGION: &str = "us-east-1";

/// Shared AWS configuration for one region, plus the call counter.
#[derive(Clone, Debug)]
pub struct AwsContext {
    /// The SDK configuration every client is built from (region, credentials, retries, timeouts).
    pub config: SdkConfig,
    /// Counts every call for `--stats`.
    pub stats: Arc<ApiStats>,
    /// Tagging API answers of this command, shared by the kinds' drivers.
    pub tagged: Arc<crate::cloud::tagged_cache::TaggedCache>,
}

/// The SDK clients' retries: attempts in all (unless `AWS_MAX_ATTEMPTS`
/// says), and the first wait's ceiling.
const MAX_ATTEMPTS: u32 = 6;
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// Attempts in all: `AWS_MAX_ATTEMPTS` when it is a whole number from 1
/// (as the AWS CLI and SDKs read it), else [`MAX_ATTEMPTS`].
fn max_attempts(var: Option<&str>) -> u32 {
    var.and_then(|v| v.trim().parse::<u32>().ok()).filter(|n| *n >= 1).unwrap_or(MAX_ATTEMPTS)
}

/// A failed gantry-aws-wire call as a provider error.
pub(crate) fn from_call(service: &'static str, operation: &'static str, e: gantry_aws_wire::CallError) -> ProviderError {
    use gantry_aws_wire::CallError;
    let class = match &e {
        CallError::Credentials(_) => ErrorClass::Credentials,
        CallError::Config(_) => ErrorClass::Other,
        CallError::Network(_) => ErrorClass::Network,
        // A 5xx without an AWS error code came from something in between
        // (a load balancer, a proxy): the service was not reached.
        CallError::Service { status, code, .. } if *status >= 500 && code.starts_with("HTTP ") => ErrorClass::Network,
        CallError::Service { code, .. } => class_of_code(code),
        CallError::Decode(_) => ErrorClass::Other,
    };
    ProviderError::aws(class, service, operation, e.to_string())
}

impl AwsContext {
    /// Loads credentials and settings the standard way (env, profile, SSO,
    /// IMDS), for `region`. `AWS_ENDPOINT_URL` is honoured by the SDK itself.
    /// Throttling and 5xx are retried with jittered exponential backoff.
    pub async fn load(region: &str, stats: Arc<ApiStats>) -> AwsContext {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(max_attempts(std::env::var("AWS_MAX_ATTEMPTS").ok().as_deref()))
                    .with_initial_backoff(INITIAL_BACKOFF),
            )
            .timeout_config(TimeoutConfig::builder().connect_timeout(Duration::from_secs(5)).operation_attempt_timeout(Duration::from_secs(60)).build())
            .load()
            .await;
        AwsContext { config, stats, tagged: Default::default() }
    }

    /// The interceptor to add to each service client.
    pub fn counter(&self) -> CallCounter {
        CallCounter { stats: self.stats.clone() }
    }

    /// The context's region.
    pub fn region(&self) -> String {
        self.config.region().map(|r| r.to_string()).unwrap_or_default()
    }

    /// An ECR client with the call counter attached.
    pub fn ecr(&self) -> aws_sdk_ecr::Client {
        let conf = aws_sdk_ecr::config::Builder::from(&self.config).interceptor(self.counter()).build();
        aws_sdk_ecr::Client::from_conf(conf)
    }

    /// An ECR Public client: its API answers in us-east-1 only, whatever
    /// the stack's region.
    pub fn ecr_public(&self) -> aws_sdk_ecrpublic::Client {
        let conf = aws_sdk_ecrpublic::config::Builder::from(&self.config)
            .region(aws_sdk_ecrpublic::config::Region::new(ECR_PUBLIC_REGION))
            .interceptor(self.counter())
            .build();
        aws_sdk_ecrpublic::Client::from_conf(conf)
    }

    /// A Price List Query API client: its endpoints are in us-east-1 (used
    /// here), eu-central-1 and ap-south-1 only, whatever the stack's region.
    pub fn pricing(&self) -> aws_sdk_pricing::Client {
        let conf =
            aws_sdk_pricing::config::Builder::from(&self.config).region(aws_sdk_pricing::config::Region::new("us-east-1")).interceptor(self.counter()).build();
        aws_sdk_pricing::Client::from_conf(conf)
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

    /// The SDK clients' retries, for the calls made without an SDK crate.
    pub(crate) fn wire_retry(&self) -> gantry_aws_wire::Retry {
        let max_attempts = self.config.retry_config().map_or(MAX_ATTEMPTS, |r| r.max_attempts());
        gantry_aws_wire::Retry { max_attempts, initial_backoff: INITIAL_BACKOFF }
    }

    /// Parameter Store in `region` (gantry-aws-wire: no SDK crate), retried
    /// and counted as the SDK clients are.
    pub fn ssm(&self, region: &str) -> gantry_aws_wire::ssm::Ssm {
        let stats = self.stats.clone();
        gantry_aws_wire::ssm::Ssm::new(&self.config, region).retrying(self.wire_retry()).observed(move |op| stats.record("ssm", op))
    }

    /// An STS client with the call counter attached.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config).interceptor(self.counter()).build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// The account id of the caller (one STS call).
    pub async fn account_id(&self) -> Result<String, ProviderError> {
        let out = self.sts().get_caller_identity().send().await.map_err(|e| classify("sts", "GetCallerIdentity", e))?;
        out.account.ok_or_else(|| ProviderError::aws(ErrorClass::Other, "sts", "GetCallerIdentity", "no account in response"))
    }
}

/// Turns an SDK error into a classified [`ProviderError`].
pub fn classify<E>(service: &'static str, operation: &'static str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + aws_sdk_sts::operation::RequestId + std::error::Error + Send + Sync + 'static,
{
    let (class, message) = match &err {
        SdkError::ServiceError(se) if se.err().code().is_none() => {
            // No error document: a load balancer's or proxy's answer, not the service's.
            let status = se.raw().status().as_u16();
            let class = if status >= 500 { ErrorClass::Network } else { ErrorClass::Other };
            (class, format!("HTTP {status} without an AWS error code (still failing after the SDK's retries)"))
        }
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("Unknown");
            let msg = e.message().unwrap_or("");
            // The request id is what AWS support asks for.
            let id = e.request_id().map(|id| format!(" (request id {id})")).unwrap_or_default();
            (class_of_code(code), format!("{code}: {msg}{id}"))
        }
        SdkError::TimeoutError(_) => (ErrorClass::Network, "timed out".to_string()),
        other => {
            let text = DisplayErrorContext(other).to_string();
            let class = match other {
                _ if text.to_lowercase().contains("credential") => ErrorClass::Credentials,
                SdkError::DispatchFailure(_) => ErrorClass::Network,
                _ => ErrorClass::Other,
            };
            (class, summary(service, operation, &text))
        }
    };
    ProviderError::aws(class, service, operation, message)
}

/// One line of an SDK error chain: the chain's readable part, without the
/// Debug dump the SDK appends; the whole text is logged for `-v`.
/// Tested in tests/it/cli_terraform.rs (a refused connection).
fn summary(service: &str, operation: &str, full: &str) -> String {
    tracing::info!(service, operation, error = full, "AWS SDK error in full");
    // The dump starts at " (" + a type name + "(" or " {", e.g. " (DispatchFailure(...".
    let dump_at = full.match_indices(" (").map(|(i, _)| i).find(|&i| {
        let rest = &full[i + 2..];
        let name_len = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').count();
        rest.starts_with(|c: char| c.is_ascii_uppercase()) && (rest[name_len..].starts_with('(') || rest[name_len..].starts_with(" {"))
    });
    let readable = full[..dump_at.unwrap_or(full.len())].trim();
    let mut line: String = readable.chars().take(240).collect();
    if line.len() < readable.len() {
        line.push('…');
    }
    if line.len() < full.len() {
        line.push_str(" (details with -v)");
    }
    line
}

/// A delete (or detach, remove) that met nothing to delete succeeded: the
/// thing is gone either way — also when the SDK retried a request whose
/// answer was lost and the first one had done it.
pub(crate) fn gone_is_done(r: Result<(), ProviderError>) -> Result<(), ProviderError> {
    match r {
        Err(e) if e.class == ErrorClass::NotFound => Ok(()),
        other => other,
    }
}

/// Classifies an AWS error code.
pub(crate) fn class_of_code(code: &str) -> ErrorClass {
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
    fn aws_max_attempts_is_a_whole_number_from_one() {
        assert_eq!(
            [Some("1"), Some(" 10 "), Some("0"), Some("three"), Some("-2"), None].map(max_attempts),
            [1, 10, MAX_ATTEMPTS, MAX_ATTEMPTS, MAX_ATTEMPTS, MAX_ATTEMPTS]
        );
    }

    #[test]
    fn codes_are_classified() {
        assert_eq!(class_of_code("AccessDeniedException"), ErrorClass::AccessDenied);
        assert_eq!(class_of_code("RepositoryNotFoundException"), ErrorClass::NotFound);
        assert_eq!(class_of_code("RepositoryNotEmptyException"), ErrorClass::Conflict);
        assert_eq!(class_of_code("ThrottlingException"), ErrorClass::Throttled);
        assert_eq!(class_of_code("Weird"), ErrorClass::Other);
    }
}
