//! Google REST calls without a generated client (IAM, Resource Manager,
//! the Cloud Billing Catalog, a few Compute reads): reqwest with the same
//! Application Default Credentials (google-cloud-auth), the same
//! `GANTRY_GCP_ENDPOINT` override and the same backoff as the other Google
//! clients, and Google's error document read into a classified error.

use crate::core::calls::ApiStats;
use crate::core::calls::{backoff, Failure};
use crate::core::error::{ErrorClass, ProviderError};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// An HTTP client with credentials, for one service's calls.
#[derive(Clone)]
pub(crate) struct GoogleRest {
    http: reqwest::Client,
    /// None against the fake (anonymous, as the other clients there).
    creds: Option<google_cloud_auth::credentials::Credentials>,
    service: &'static str,
    stats: Arc<ApiStats>,
}

/// A value for a query string (page tokens, filters).
pub(crate) fn query_value(t: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
}

impl GoogleRest {
    /// `service` names the calls in errors and the call counter.
    pub(crate) fn new(service: &'static str, endpoint: Option<&str>, stats: Arc<ApiStats>) -> Result<GoogleRest, ProviderError> {
        let creds = match endpoint {
            Some(_) => None,
            None => Some(
                google_cloud_auth::credentials::Builder::default()
                    .build()
                    .map_err(|e| ProviderError::google(ErrorClass::Credentials, service, "Connect", e.to_string()))?,
            ),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::google(ErrorClass::Other, service, "Connect", e.to_string()))?;
        Ok(GoogleRest { http, creds, service, stats })
    }

    /// One call with the call counter and the Google clients' backoff on
    /// 429, 5xx and unreachable endpoints (Google documents retrying them).
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        op: &'static str,
        method: reqwest::Method,
        url: String,
        body: Option<&Value>,
    ) -> Result<T, ProviderError> {
        backoff(&self.stats, self.service, op, || self.attempt(op, method.clone(), &url, body)).await
    }

    async fn attempt<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, url: &str, body: Option<&Value>) -> Result<T, Failure> {
        let fail = |error| Failure { error, retry: false };
        let mut req = self.http.request(method, url);
        if let Some(c) = &self.creds {
            match c.headers(http::Extensions::new()).await {
                Ok(google_cloud_auth::credentials::CacheableResource::New { data, .. }) => req = req.headers(data),
                Ok(google_cloud_auth::credentials::CacheableResource::NotModified) => {}
                Err(e) => return Err(fail(ProviderError::google(ErrorClass::Credentials, self.service, op, e.to_string()))),
            }
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let (status, text) = match req.send().await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        };
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .map_err(|e| fail(ProviderError::google(ErrorClass::Other, self.service, op, format!("unexpected answer: {e}"))));
        }
        Err(Failure { error: api_error(self.service, op, status, &text), retry: status == 0 || status == 429 || status >= 500 })
    }
}

/// Google's error document (`{"error": {"code", "message", "status"}}`) as a classified error.
pub(crate) fn api_error(service: &'static str, op: &'static str, status: u16, text: &str) -> ProviderError {
    let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let code = doc["error"]["status"].as_str().unwrap_or_default();
    let message = doc["error"]["message"].as_str().map(String::from).unwrap_or_else(|| text.chars().take(300).collect());
    let class = match (status, code) {
        (0, _) => ErrorClass::Network,
        (404, _) => ErrorClass::NotFound,
        (401, _) => ErrorClass::Credentials,
        (403, _) => ErrorClass::AccessDenied,
        (409, _) | (_, "FAILED_PRECONDITION") => ErrorClass::Conflict,
        (429, _) => ErrorClass::Throttled,
        _ => ErrorClass::Other,
    };
    let shown = if code.is_empty() { message } else { format!("{code}: {message}") };
    ProviderError::google(class, service, op, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_error_documents_are_classified() {
        let e = api_error(
            "gcp-iam",
            "CreateServiceAccount",
            409,
            r#"{"error": {"code": 409, "message": "Service account x already exists", "status": "ALREADY_EXISTS"}}"#,
        );
        assert_eq!((e.class, e.message.as_str()), (ErrorClass::Conflict, "ALREADY_EXISTS: Service account x already exists"));
        assert_eq!(api_error("gcp-iam", "X", 403, "{}").class, ErrorClass::AccessDenied);
        assert_eq!(api_error("gcp-iam", "X", 0, "connection refused").class, ErrorClass::Network);
        assert!(e.hint().is_none() && api_error("gcp-iam", "X", 403, "").hint().unwrap().contains("quickstart"));
    }
}
