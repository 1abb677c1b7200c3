//! One AWS JSON 1.1 service: signed calls, their errors and retries.

use crate::error::CallError;
use crate::signer::Signer;
use aws_types::SdkConfig;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Where a service's calls go: `AWS_ENDPOINT_URL_<SERVICE>`, else the
/// configured endpoint (`AWS_ENDPOINT_URL`, in the `SdkConfig`), else the
/// region's (as the SDKs resolve it; `.cn` for the China regions).
pub fn endpoint(config: &SdkConfig, service: &str, region: &str) -> String {
    let specific = std::env::var(format!("AWS_ENDPOINT_URL_{}", service.to_uppercase())).ok().filter(|s| !s.is_empty());
    let configured = specific.or_else(|| config.endpoint_url().map(String::from));
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    let url = configured.unwrap_or_else(|| format!("https://{service}.{region}.{suffix}"));
    url.trim_end_matches('/').to_string() + "/"
}

/// An HTTP client with the SDK clients' timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).timeout(Duration::from_secs(60)).build().unwrap_or_default()
}

/// One service that speaks AWS JSON 1.1 (SSM: target prefix `AmazonSSM`).
pub struct JsonService {
    http: reqwest::Client,
    signer: Signer,
    endpoint: String,
    target_prefix: &'static str,
    observer: Option<Observer>,
    retry: Retry,
}

/// Told each attempt's operation.
type Observer = Box<dyn Fn(&str) + Send + Sync>;

/// How often and how patiently a call is tried, as the SDKs' standard
/// retry mode (`RetryConfig::standard()`): up to `max_attempts` in all,
/// waiting a random part of `initial_backoff` doubled after each attempt,
/// at most 20 s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first wait's ceiling.
    pub initial_backoff: Duration,
}

impl Default for Retry {
    /// The SDKs' defaults: three attempts, from 1 s.
    fn default() -> Retry {
        Retry { max_attempts: 3, initial_backoff: Duration::from_secs(1) }
    }
}

impl Retry {
    /// The wait after the `attempt`-th attempt failed.
    fn wait(&self, attempt: u32) -> Duration {
        let ceiling = self.initial_backoff.saturating_mul(1 << (attempt - 1).min(16)).min(Duration::from_secs(20));
        ceiling.mul_f64(fastrand::f64())
    }
}

impl JsonService {
    /// A client of `service` (its signing name and endpoint prefix) in `region`.
    pub fn new(config: &SdkConfig, service: &'static str, target_prefix: &'static str, region: &str) -> JsonService {
        let (signer, endpoint) = (Signer::new(config, service, region), endpoint(config, service, region));
        JsonService { http: http_client(), signer, endpoint, target_prefix, observer: None, retry: Retry::default() }
    }

    /// Tries calls as `retry` says.
    pub fn retrying(mut self, retry: Retry) -> JsonService {
        self.retry = retry;
        self
    }

    /// Calls `f` with the operation's name before every attempt.
    pub fn observed(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> JsonService {
        self.observer = Some(Box::new(f));
        self
    }

    /// Where its calls go.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// One attempt of `operation`: no retry (a caller that counts attempts
    /// retries itself).
    pub async fn attempt<I: Serialize, O: DeserializeOwned>(&self, operation: &str, input: &I) -> Result<O, CallError> {
        let body = serde_json::to_vec(input).map_err(|e| CallError::Decode(e.to_string()))?;
        let target = format!("{}.{operation}", self.target_prefix);
        let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target.as_str())];
        let signed = self.signer.sign(&self.endpoint, &headers, &body).await?;
        let mut req = self.http.post(&self.endpoint).body(body);
        for (k, v) in &signed {
            req = req.header(k.as_str(), v.as_str());
        }
        let answer = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(CallError::Network(format!("{operation} timed out"))),
            Err(e) => return Err(CallError::Network(format!("cannot reach {}: {e}", self.endpoint))),
        };
        let status = answer.status().as_u16();
        let header = |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
        let (error_type, request_id) = (header("x-amzn-errortype"), header("x-amzn-requestid"));
        let bytes = answer.bytes().await.map_err(|e| CallError::Network(format!("{operation}: the answer broke off: {e}")))?;
        if (200..300).contains(&status) {
            let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|e| CallError::Decode(format!("{operation}: {e}")));
        }
        Err(service_error(status, error_type.as_deref(), &bytes, request_id))
    }

    /// `operation`, retried as the SDKs' standard mode retries ([`Retry`]).
    pub async fn call<I: Serialize, O: DeserializeOwned>(&self, operation: &str, input: &I) -> Result<O, CallError> {
        let mut attempt = 1;
        loop {
            if let Some(f) = &self.observer {
                f(operation);
            }
            match self.attempt(operation, input).await {
                Err(e) if e.retryable() && attempt < self.retry.max_attempts => {
                    tokio::time::sleep(self.retry.wait(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// A JSON 1.1 error answer: the code from `__type` (or the header), with
/// any namespace (`com.amazonaws.ssm#`) or suffix (`:http://...`) cut.
fn service_error(status: u16, header: Option<&str>, body: &[u8], request_id: Option<String>) -> CallError {
    #[derive(serde::Deserialize, Default)]
    struct Body {
        #[serde(rename = "__type")]
        kind: Option<String>,
        message: Option<String>,
        #[serde(rename = "Message")]
        message_upper: Option<String>,
    }
    let b: Body = serde_json::from_slice(body).unwrap_or_default();
    let raw = header.map(String::from).or(b.kind).unwrap_or_default();
    let code = raw.rsplit('#').next().unwrap_or_default().split(':').next().unwrap_or_default().to_string();
    let code = if code.is_empty() { format!("HTTP {status}") } else { code };
    let message = b.message.or(b.message_upper).unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    CallError::Service { status, code, message, request_id }
}
