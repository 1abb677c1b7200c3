//! The IAM API (v1) over REST: service accounts and their IAM policies
//! (`accounts`), custom roles (`roles`), workload identity pools and
//! providers (`pools`); and Resource Manager's project number. google-cloud-rust's
//! IAM admin crate would add another large generated client to compile
//! (and has no workload identity pools, which the wake identity needs
//! next), so these few calls go through reqwest with the same
//! Application Default Credentials (google-cloud-auth) and the same
//! `GANTRY_GCP_ENDPOINT` override as the other Google clients.

use crate::cloud::gcp_rest::GoogleRest;
use crate::core::calls::ApiStats;
use crate::core::error::{ErrorClass, ProviderError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

mod accounts;
mod pools;
mod roles;
pub(crate) use accounts::ServiceAccount;
pub(crate) use pools::{GithubOidc, Pool, PoolProvider};
pub(crate) use roles::Role;

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
    crate::cloud::gcp_rest::query_value(t)
}

/// IAM REST calls for one project.
#[derive(Clone)]
pub struct IamRest {
    rest: GoogleRest,
    /// `https://iam.googleapis.com/v1/` or the fake's `/v1/`.
    base: String,
    /// `https://cloudresourcemanager.googleapis.com/v3/` or the fake's `/v3/`.
    resource_manager: String,
    pub project: String,
}

impl IamRest {
    pub fn new(project: &str, endpoint: Option<&str>, stats: Arc<ApiStats>) -> Result<IamRest, ProviderError> {
        let rest = GoogleRest::new(SERVICE, endpoint, stats)?;
        let (base, resource_manager) = match endpoint {
            Some(ep) => (format!("{}/v1/", ep.trim_end_matches('/')), format!("{}/v3/", ep.trim_end_matches('/'))),
            None => ("https://iam.googleapis.com/v1/".into(), "https://cloudresourcemanager.googleapis.com/v3/".into()),
        };
        Ok(IamRest { rest, base, resource_manager, project: project.to_string() })
    }

    async fn send<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<T, ProviderError> {
        self.rest.send(op, method, format!("{}{path}", self.base), body).await
    }

    async fn send_url<T: DeserializeOwned>(&self, op: &'static str, method: reqwest::Method, url: String, body: Option<&Value>) -> Result<T, ProviderError> {
        self.rest.send(op, method, url, body).await
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
            _ => Err(ProviderError::google(ErrorClass::Other, SERVICE, "GetProject", format!("unexpected project name {:?}", p.name))),
        }
    }
}
