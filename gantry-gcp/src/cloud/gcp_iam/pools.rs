//! Workload identity pools and their providers
//! (`projects.locations.workloadIdentityPools[.providers]`). Every write
//! answers a long-running operation, waited for here. Deleting either is
//! soft: state `DELETED` for 30 days, undeletable, the ID still taken
//! ("Manage workload identity pools and providers").

use super::{IamRest, SERVICE};
use crate::core::error::{ErrorClass, ProviderError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// A pool as the API answers it (`WorkloadIdentityPool`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pool {
    /// `projects/NUMBER/locations/global/workloadIdentityPools/ID`.
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// `ACTIVE` or `DELETED`.
    pub state: String,
    pub disabled: bool,
}

/// A provider as the API answers it (`WorkloadIdentityPoolProvider`, OIDC only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PoolProvider {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub state: String,
    pub disabled: bool,
    pub attribute_mapping: BTreeMap<String, String>,
    pub attribute_condition: String,
    pub oidc: Option<GithubOidc>,
}

/// The provider's OIDC settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GithubOidc {
    pub issuer_uri: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_audiences: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PoolsPage {
    workload_identity_pools: Vec<Pool>,
    next_page_token: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ProvidersPage {
    workload_identity_pool_providers: Vec<PoolProvider>,
    next_page_token: String,
}

/// A long-running operation (`Operation`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Operation {
    name: String,
    done: bool,
    error: Option<Value>,
}

impl IamRest {
    fn pools_path(&self) -> String {
        format!("projects/{}/locations/global/workloadIdentityPools", self.project)
    }

    /// One page of the project's pools, deleted ones included.
    pub async fn list_pools(&self, page_token: &str) -> Result<(Vec<Pool>, String), ProviderError> {
        let path = format!("{}?showDeleted=true&pageSize=100&pageToken={}", self.pools_path(), super::token(page_token));
        let page: PoolsPage = self.send("ListWorkloadIdentityPools", reqwest::Method::GET, &path, None).await?;
        Ok((page.workload_identity_pools, page.next_page_token))
    }

    /// Every provider of a pool, deleted ones included.
    pub async fn list_providers(&self, pool_id: &str, page_token: &str) -> Result<(Vec<PoolProvider>, String), ProviderError> {
        let path = format!("{}/{pool_id}/providers?showDeleted=true&pageSize=100&pageToken={}", self.pools_path(), super::token(page_token));
        let page: ProvidersPage = self.send("ListWorkloadIdentityPoolProviders", reqwest::Method::GET, &path, None).await?;
        Ok((page.workload_identity_pool_providers, page.next_page_token))
    }

    pub async fn create_pool(&self, pool_id: &str, pool: &Pool) -> Result<(), ProviderError> {
        let body = json!({"displayName": pool.display_name, "description": pool.description, "disabled": pool.disabled});
        let path = format!("{}?workloadIdentityPoolId={pool_id}", self.pools_path());
        self.run("CreateWorkloadIdentityPool", reqwest::Method::POST, &path, Some(&body)).await
    }

    pub async fn patch_pool(&self, pool_id: &str, pool: &Pool) -> Result<(), ProviderError> {
        let body = json!({"displayName": pool.display_name, "description": pool.description, "disabled": pool.disabled});
        let path = format!("{}/{pool_id}?updateMask=displayName,description,disabled", self.pools_path());
        self.run("UpdateWorkloadIdentityPool", reqwest::Method::PATCH, &path, Some(&body)).await
    }

    pub async fn delete_pool(&self, pool_id: &str) -> Result<(), ProviderError> {
        self.run("DeleteWorkloadIdentityPool", reqwest::Method::DELETE, &format!("{}/{pool_id}", self.pools_path()), None).await
    }

    pub async fn undelete_pool(&self, pool_id: &str) -> Result<(), ProviderError> {
        self.run("UndeleteWorkloadIdentityPool", reqwest::Method::POST, &format!("{}/{pool_id}:undelete", self.pools_path()), Some(&json!({}))).await
    }

    pub async fn create_provider(&self, pool_id: &str, provider_id: &str, p: &PoolProvider) -> Result<(), ProviderError> {
        let path = format!("{}/{pool_id}/providers?workloadIdentityPoolProviderId={provider_id}", self.pools_path());
        self.run("CreateWorkloadIdentityPoolProvider", reqwest::Method::POST, &path, Some(&provider_body(p))).await
    }

    pub async fn patch_provider(&self, pool_id: &str, provider_id: &str, p: &PoolProvider) -> Result<(), ProviderError> {
        let path = format!(
            "{}/{pool_id}/providers/{provider_id}?updateMask=displayName,description,disabled,attributeMapping,attributeCondition,oidc",
            self.pools_path()
        );
        self.run("UpdateWorkloadIdentityPoolProvider", reqwest::Method::PATCH, &path, Some(&provider_body(p))).await
    }

    pub async fn delete_provider(&self, pool_id: &str, provider_id: &str) -> Result<(), ProviderError> {
        let path = format!("{}/{pool_id}/providers/{provider_id}", self.pools_path());
        self.run("DeleteWorkloadIdentityPoolProvider", reqwest::Method::DELETE, &path, None).await
    }

    pub async fn undelete_provider(&self, pool_id: &str, provider_id: &str) -> Result<(), ProviderError> {
        let path = format!("{}/{pool_id}/providers/{provider_id}:undelete", self.pools_path());
        self.run("UndeleteWorkloadIdentityPoolProvider", reqwest::Method::POST, &path, Some(&json!({}))).await
    }

    /// One write and the wait for its operation (`operations.get` every
    /// second, up to two minutes); a failed operation is the call's error.
    async fn run(&self, op: &'static str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<(), ProviderError> {
        let mut o: Operation = self.send(op, method, path, body).await?;
        for _ in 0..120 {
            if o.done {
                return match o.error {
                    None => Ok(()),
                    Some(e) => {
                        let message = e["message"].as_str().unwrap_or("operation failed").to_string();
                        let class = if e["code"] == json!(6) { ErrorClass::Conflict } else { ErrorClass::Other };
                        Err(ProviderError::google(class, SERVICE, op, message))
                    }
                };
            }
            tokio::time::sleep(Duration::from_millis(if cfg!(test) { 1 } else { 1000 })).await;
            o = self.send(op, reqwest::Method::GET, &o.name, None).await?;
        }
        Err(ProviderError::google(ErrorClass::Other, SERVICE, op, format!("operation {} not done after two minutes", o.name)))
    }
}

fn provider_body(p: &PoolProvider) -> Value {
    json!({"displayName": p.display_name, "description": p.description, "disabled": p.disabled,
           "attributeMapping": p.attribute_mapping, "attributeCondition": p.attribute_condition, "oidc": p.oidc})
}
