//! Custom roles of a project (`projects.roles`). Deleting one is soft: it
//! is listed with `deleted = true` and can be undeleted for 7 days; its ID
//! stays taken for 37 days ("Creating and managing custom roles",
//! "Deleting a custom role").

use super::IamRest;
use crate::core::error::ProviderError;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A custom role as the API answers it (`Role`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Role {
    /// `projects/P/roles/ID`.
    pub name: String,
    pub title: String,
    pub description: String,
    pub included_permissions: Vec<String>,
    pub stage: String,
    pub etag: String,
    pub deleted: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RolesPage {
    roles: Vec<Role>,
    next_page_token: String,
}

impl IamRest {
    fn role_path(&self, role_id: &str) -> String {
        format!("projects/{}/roles/{role_id}", self.project)
    }

    /// One page of the project's custom roles, deleted ones included, with
    /// their permissions (`view=FULL`; the default view leaves them out).
    pub async fn list_roles(&self, page_token: &str) -> Result<(Vec<Role>, String), ProviderError> {
        let path = format!("projects/{}/roles?view=FULL&showDeleted=true&pageSize=1000&pageToken={}", self.project, super::token(page_token));
        let page: RolesPage = self.send("ListRoles", reqwest::Method::GET, &path, None).await?;
        Ok((page.roles, page.next_page_token))
    }

    pub async fn create_role(&self, role_id: &str, role: &Role) -> Result<Role, ProviderError> {
        let body = json!({"roleId": role_id, "role": body(role)});
        self.send("CreateRole", reqwest::Method::POST, &format!("projects/{}/roles", self.project), Some(&body)).await
    }

    /// Sets title, description, permissions and stage; `role.etag` is the one read last.
    pub async fn patch_role(&self, role_id: &str, role: &Role) -> Result<Role, ProviderError> {
        let mut b = body(role);
        b["etag"] = json!(role.etag);
        let path = format!("{}?updateMask=title,description,includedPermissions,stage", self.role_path(role_id));
        self.send("UpdateRole", reqwest::Method::PATCH, &path, Some(&b)).await
    }

    pub async fn delete_role(&self, role_id: &str) -> Result<Role, ProviderError> {
        self.send("DeleteRole", reqwest::Method::DELETE, &self.role_path(role_id), None).await
    }

    pub async fn undelete_role(&self, role_id: &str, etag: &str) -> Result<Role, ProviderError> {
        let body = json!({"etag": etag});
        self.send("UndeleteRole", reqwest::Method::POST, &format!("{}:undelete", self.role_path(role_id)), Some(&body)).await
    }
}

fn body(role: &Role) -> serde_json::Value {
    json!({"title": role.title, "description": role.description, "includedPermissions": role.included_permissions, "stage": role.stage})
}
