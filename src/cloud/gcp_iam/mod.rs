//! The IAM API (v1) over REST: service accounts and their IAM policies
//! (`accounts`), custom roles (`roles`), workload identity pools and
//! providers (`pools`); and Resource Manager's project number. google-cloud-rust's
//! IAM admin crate would add another large generated client to compile
//! (and has no workload identity pools, which the wake identity needs
//! next), so these few calls go through reqwest with the same
//! Application Default Credentials (google-cloud-auth) and the same
//! `GANTRY_GCP_ENDPOINT` override as the other Google clients.

use crate::cloud::gcp::{backoff, Failure};
use crate::cloud::stats::ApiStats;
use crate::core::error::{ErrorClass, ProviderError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

mod accounts;
mod pools;
mod roles;
pub use accounts::ServiceAccount;
pub use pools::{GithubOidc, Pool, PoolProvider};
pub use roles::Role;

const SERVICE: &str = "gcp-iam";

/// An IAM policy as the REST APIs answer it (`Policy`: version, bindings,
/// etag; audit configs are not used on these resources).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Policy {
    #[serde(skip_serializing_if = "is_zero")]
    pub version: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub etag: String,
}

/// One role granted to members, maybe under a condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Binding {
    pub role: String,
    pub members: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

/// A page token as a query value.
fn token(t: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
}

/// IAM REST calls for one project.
#[derive(Clone)]
pub struct IamRest {
    http: reqwest::Client,
    /// `https://iam.googleapis.com/v1/` or the fake's `/v1/`.
    base: String,
    /// `https://cloudresourcemanager.googleapis.com/v3/` or the fake's `/v3/`.
    resource_manager: String,
    /// None against the fake (anonymous, as the other clients there).
    creds: Option<google_cloud_auth::credentials::Credentials>,
    pub project: String,
    stats: Arc<ApiStats>,
}

impl IamRest {
    pub fn new(project: &str, endpoint: Option<&str>, stats: Arc<ApiStats>) -> Result<IamRest, ProviderError> {
        let creds = match endpoint {
            Some(_) => None,
            None => Some(
                google_cloud_auth::credentials::Builder::default()
                    .build()
                    .map_err(|e| ProviderError::new(ErrorClass::Credentials, SERVICE, "Connect", e.to_string()))?,
            ),
        };
        let (base, resource_manager) = match endpoint {
            Some(ep) => (format!("{}/v1/", ep.trim_end_matches('/')), format!("{}/v3/", ep.trim_end_matches('/'))),
            None => ("https://iam.googleapis.com/v1/".into(), "https://cloudresourcemanager.googleapis.com/v3/".into()),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::new(ErrorClass::Other, SERVICE, "Connect", e.to_string()))?;
        Ok(IamRest { http, base, resource_manager, creds, project: project.to_string(), stats })
    }

    /// One call with the call counter and the Google clients' backoff on
    /// 429, 5xx and unreachable endpoints (IAM documents retrying them).
    async fn send<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<T, ProviderError> {
        self.send_url(op, method, format!("{}{path}", self.base), body).await
    }

    async fn send_url<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, url: String, body: Option<&Value>) -> Result<T, ProviderError> {
        backoff(&self.stats, SERVICE, op, || self.attempt(op, method.clone(), &url, body)).await
    }

    async fn attempt<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, url: &str, body: Option<&Value>) -> Result<T, Failure> {
        let fail = |error| Failure { error, retry: false };
        let mut req = self.http.request(method, url);
        if let Some(c) = &self.creds {
            match c.headers(http::Extensions::new()).await {
                Ok(google_cloud_auth::credentials::CacheableResource::New { data, .. }) => req = req.headers(data),
                Ok(google_cloud_auth::credentials::CacheableResource::NotModified) => {}
                Err(e) => return Err(fail(ProviderError::new(ErrorClass::Credentials, SERVICE, op, e.to_string()))),
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
            return serde_json::from_str(&text).map_err(|e| fail(ProviderError::new(ErrorClass::Other, SERVICE, op, format!("unexpected answer: {e}"))));
        }
        Err(Failure { error: api_error(op, status, &text), retry: status == 0 || status == 429 || status >= 500 })
    }

    /// The project's number: Resource Manager v3 `projects.get` answers
    /// `name = "projects/NUMBER"` (workload identity names use the number).
    pub async fn project_number(&self) -> Result<String, ProviderError> {
        #[derive(Deserialize)]
        struct Project {
            name: String,
        }
        let url = format!("{}projects/{}", self.resource_manager, self.project);
        let p: Project = self.send_url("GetProject", reqwest::Method::GET, url, None).await?;
        match p.name.strip_prefix("projects/") {
            Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => Ok(n.to_string()),
            _ => Err(ProviderError::new(ErrorClass::Other, SERVICE, "GetProject", format!("unexpected project name {:?}", p.name))),
        }
    }
}

/// Google's error document (`{"error": {"code", "message", "status"}}`) as a classified error.
fn api_error(op: &'static str, status: u16, text: &str) -> ProviderError {
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
    ProviderError::new(class, SERVICE, op, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_error_documents_are_classified() {
        let e =
            api_error("CreateServiceAccount", 409, r#"{"error": {"code": 409, "message": "Service account x already exists", "status": "ALREADY_EXISTS"}}"#);
        assert_eq!((e.class, e.message.as_str()), (ErrorClass::Conflict, "ALREADY_EXISTS: Service account x already exists"));
        assert_eq!(api_error("X", 403, "{}").class, ErrorClass::AccessDenied);
        assert_eq!(api_error("X", 0, "connection refused").class, ErrorClass::Network);
        assert!(e.hint().is_none() && api_error("X", 403, "").hint().unwrap().contains("quickstart"));
    }
}
