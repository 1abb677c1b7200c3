//! The IAM API (v1) over REST: service accounts. google-cloud-rust's
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

const SERVICE: &str = "gcp-iam";

/// A service account as the API answers it (`ServiceAccount`; fields the
/// server fills are read only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceAccount {
    pub name: String,
    pub email: String,
    pub unique_id: String,
    pub display_name: String,
    pub description: String,
    pub disabled: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AccountsPage {
    accounts: Vec<ServiceAccount>,
    next_page_token: String,
}

/// IAM REST calls for one project.
#[derive(Clone)]
pub struct IamRest {
    http: reqwest::Client,
    /// `https://iam.googleapis.com/v1/` or the fake's `/v1/`.
    base: String,
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
        let base = match endpoint {
            Some(ep) => format!("{}/v1/", ep.trim_end_matches('/')),
            None => "https://iam.googleapis.com/v1/".into(),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ProviderError::new(ErrorClass::Other, SERVICE, "Connect", e.to_string()))?;
        Ok(IamRest { http, base, creds, project: project.to_string(), stats })
    }

    /// One call with the call counter and the Google clients' backoff on
    /// 429, 5xx and unreachable endpoints (IAM documents retrying them).
    async fn send<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<T, ProviderError> {
        backoff(&self.stats, SERVICE, op, || self.attempt(op, method.clone(), path, body)).await
    }

    async fn attempt<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<T, Failure> {
        let fail = |error| Failure { error, retry: false };
        let mut req = self.http.request(method, format!("{}{path}", self.base));
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

    fn account_path(&self, email: &str) -> String {
        format!("projects/{}/serviceAccounts/{email}", self.project)
    }

    /// One page of the project's service accounts and the next token ("" at the end).
    pub async fn list_service_accounts(&self, page_token: &str) -> Result<(Vec<ServiceAccount>, String), ProviderError> {
        let path = format!(
            "projects/{}/serviceAccounts?pageSize=100&pageToken={}",
            self.project,
            percent_encoding::utf8_percent_encode(page_token, percent_encoding::NON_ALPHANUMERIC)
        );
        let page: AccountsPage = self.send("ListServiceAccounts", reqwest::Method::GET, &path, None).await?;
        Ok((page.accounts, page.next_page_token))
    }

    pub async fn create_service_account(&self, account_id: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError> {
        let body = serde_json::json!({"accountId": account_id, "serviceAccount": {"displayName": display_name, "description": description}});
        self.send("CreateServiceAccount", reqwest::Method::POST, &format!("projects/{}/serviceAccounts", self.project), Some(&body)).await
    }

    /// Sets display name and description (patch with an update mask).
    pub async fn patch_service_account(&self, email: &str, display_name: &str, description: &str) -> Result<ServiceAccount, ProviderError> {
        let body = serde_json::json!({"serviceAccount": {"displayName": display_name, "description": description}, "updateMask": "displayName,description"});
        self.send("PatchServiceAccount", reqwest::Method::PATCH, &self.account_path(email), Some(&body)).await
    }

    pub async fn delete_service_account(&self, email: &str) -> Result<(), ProviderError> {
        let _: Value = self.send("DeleteServiceAccount", reqwest::Method::DELETE, &self.account_path(email), None).await?;
        Ok(())
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
