//! Service accounts (`projects.serviceAccounts`) and their IAM policies.

use super::{IamRest, Policy};
use crate::core::error::ProviderError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

impl IamRest {
    fn account_path(&self, email: &str) -> String {
        format!("projects/{}/serviceAccounts/{email}", self.project)
    }

    /// One page of the project's service accounts and the next token ("" at the end).
    pub async fn list_service_accounts(&self, page_token: &str) -> Result<(Vec<ServiceAccount>, String), ProviderError> {
        let path = format!("projects/{}/serviceAccounts?pageSize=100&pageToken={}", self.project, super::token(page_token));
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

    /// The account's IAM policy (who may act as it), requested at version 3
    /// so conditional bindings come back whole.
    pub async fn service_account_policy(&self, email: &str) -> Result<Policy, ProviderError> {
        let body = serde_json::json!({"options": {"requestedPolicyVersion": 3}});
        self.send("GetServiceAccountIamPolicy", reqwest::Method::POST, &format!("{}:getIamPolicy", self.account_path(email)), Some(&body)).await
    }

    /// Replaces the account's IAM policy; `policy.etag` is the one read last
    /// (a concurrent change answers 409 ABORTED).
    pub async fn set_service_account_policy(&self, email: &str, policy: &Policy) -> Result<Policy, ProviderError> {
        let body = serde_json::json!({"policy": policy});
        self.send("SetServiceAccountIamPolicy", reqwest::Method::POST, &format!("{}:setIamPolicy", self.account_path(email)), Some(&body)).await
    }
}
