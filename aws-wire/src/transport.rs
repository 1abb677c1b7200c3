//! What every protocol shares: the HTTP client, one signed POST to the
//! service's endpoint, and the SDKs' standard retry loop.

use crate::endpoint::endpoint;
use crate::error::CallError;
use crate::signer::Signer;
use aws_types::SdkConfig;
use std::future::Future;
use std::time::Duration;

/// An HTTP client with the SDK clients' timeouts.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).timeout(Duration::from_secs(60)).build().unwrap_or_default()
}

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

    /// `attempt` until it succeeds, fails for good ([`CallError::retryable`])
    /// or has been tried `max_attempts` times; `observer` is told the
    /// operation before each attempt.
    pub(crate) async fn run<T, F, Fut>(&self, operation: &str, observer: Option<&Observer>, attempt: F) -> Result<T, CallError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let mut n = 1;
        loop {
            if let Some(f) = observer {
                f(operation);
            }
            match attempt().await {
                Err(e) if e.retryable() && n < self.max_attempts => {
                    tokio::time::sleep(self.wait(n)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }
}

/// Told each attempt's operation.
pub(crate) type Observer = Box<dyn Fn(&str) + Send + Sync>;

/// One service in one region: where its calls go, how they are signed,
/// sent and retried; `P` is its protocol ([`crate::JsonService`],
/// [`crate::QueryService`]).
pub struct Service<P> {
    http: reqwest::Client,
    signer: Signer,
    /// The URL, or why there is none (a configuration the SDKs refuse).
    endpoint: Result<String, CallError>,
    observer: Option<Observer>,
    retry: Retry,
    pub(crate) protocol: P,
}

impl<P> Service<P> {
    /// `service` (its signing name and endpoint prefix) in `region`.
    pub(crate) fn with(config: &SdkConfig, service: &'static str, region: &str, protocol: P) -> Service<P> {
        let (signer, endpoint) = (Signer::new(config, service, region), endpoint(config, service, region));
        Service { http: http_client(), signer, endpoint, observer: None, retry: Retry::default(), protocol }
    }

    /// Tries calls as `retry` says.
    pub fn retrying(mut self, retry: Retry) -> Service<P> {
        self.retry = retry;
        self
    }

    /// Calls `f` with the operation's name before every attempt.
    pub fn observed(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Service<P> {
        self.observer = Some(Box::new(f));
        self
    }

    /// `attempt`, retried as [`Retry::run`] says, the observer told of each.
    pub(crate) async fn retried<T, F, Fut>(&self, operation: &str, attempt: F) -> Result<T, CallError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        self.retry.run(operation, self.observer.as_ref(), attempt).await
    }

    /// A signed `POST` of `body` with `headers`.
    pub(crate) async fn post(&self, operation: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Answer, CallError> {
        let endpoint = self.endpoint.as_ref().map_err(Clone::clone)?;
        let signed = self.signer.sign(endpoint, headers, &body).await?;
        let mut req = self.http.post(endpoint).body(body);
        for (k, v) in &signed {
            req = req.header(k.as_str(), v.as_str());
        }
        let answer = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(CallError::Network(format!("{operation} timed out"))),
            Err(e) => return Err(CallError::Network(format!("cannot reach {endpoint}: {e}"))),
        };
        let status = answer.status().as_u16();
        let header = |name: &str| answer.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
        let (error_type, request_id) = (header("x-amzn-errortype"), header("x-amzn-requestid"));
        let body = answer.bytes().await.map_err(|e| CallError::Network(format!("{operation}: the answer broke off: {e}")))?.to_vec();
        Ok(Answer { status, error_type, request_id, body })
    }
}

/// One answer: its status, the headers a protocol reads, its body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) error_type: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) body: Vec<u8>,
}
