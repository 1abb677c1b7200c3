//! One AWS JSON 1.1 service: signed calls, their errors and retries.

use crate::error::CallError;
use crate::transport::Service;
use aws_types::SdkConfig;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// AWS JSON 1.1: the prefix of each operation's `X-Amz-Target`.
pub struct Json {
    target_prefix: &'static str,
}

/// One service that speaks AWS JSON 1.1 (SSM: target prefix `AmazonSSM`).
pub type JsonService = Service<Json>;

impl Service<Json> {
    /// A client of `service` (its signing name and endpoint prefix) in `region`.
    pub fn new(config: &SdkConfig, service: &'static str, target_prefix: &'static str, region: &str) -> JsonService {
        Service::with(config, service, region, Json { target_prefix })
    }

    /// One attempt of `operation`: no retry (a caller that counts attempts
    /// retries itself).
    pub async fn attempt<I: Serialize, O: DeserializeOwned>(&self, operation: &str, input: &I) -> Result<O, CallError> {
        let body = serde_json::to_vec(input).map_err(|e| CallError::Decode(e.to_string()))?;
        let target = format!("{}.{operation}", self.protocol.target_prefix);
        let headers = [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target.as_str())];
        let answer = self.post(operation, &headers, body).await?;
        if (200..300).contains(&answer.status) {
            let bytes: &[u8] = if answer.body.is_empty() { b"{}" } else { &answer.body };
            return serde_json::from_slice(bytes).map_err(|e| CallError::Decode(format!("{operation}: {e}")));
        }
        Err(service_error(answer.status, answer.error_type.as_deref(), &answer.body, answer.request_id))
    }

    /// `operation`, retried as the SDKs' standard mode retries ([`crate::Retry`]).
    pub async fn call<I: Serialize, O: DeserializeOwned>(&self, operation: &str, input: &I) -> Result<O, CallError> {
        self.retried(operation, || self.attempt(operation, input)).await
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
