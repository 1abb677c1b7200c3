//! The driver's API over the emulator's ECR Public (the one the proxy
//! serves to integration tests): the same shapes and errors, called in
//! process. Its behaviours and their sources are listed in
//! `gantry_emulators::ecr_public`.

use super::api::{EcrPublicApi, PublicRepository};
use super::catalog::Catalog;
use crate::cloud::aws::class_of_code;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use gantry_emulators::ecr_public::Registry;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub(super) struct FakeEcrPublic {
    pub registry: Mutex<Registry>,
    calls: Mutex<Vec<String>>,
}

impl FakeEcrPublic {
    pub(super) fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn call(&self, op: &'static str, req: Value) -> Result<Value, ProviderError> {
        self.calls.lock().unwrap().push(op.to_string());
        let (status, out) = self.registry.lock().unwrap().handle(op, &req);
        if status == 200 {
            return Ok(out);
        }
        let code = out["__type"].as_str().unwrap_or("Unknown");
        Err(ProviderError::aws(class_of_code(code), "ecr-public", op, format!("{code}: {}", out["message"].as_str().unwrap_or_default())))
    }
}

fn catalog_json(c: &Catalog) -> Value {
    json!({"description": c.description.clone().unwrap_or_default(), "aboutText": c.about_text.clone().unwrap_or_default(),
           "usageText": c.usage_text.clone().unwrap_or_default(), "architectures": c.architectures, "operatingSystems": c.operating_systems})
}

fn tags_json(tags: &BTreeMap<String, String>) -> Value {
    tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect()
}

#[async_trait]
impl EcrPublicApi for FakeEcrPublic {
    async fn list_repositories(&self) -> Result<Vec<PublicRepository>, ProviderError> {
        let out = self.call("DescribeRepositories", json!({"maxResults": 1000}))?;
        Ok(out["repositories"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| PublicRepository {
                name: r["repositoryName"].as_str().unwrap_or_default().into(),
                arn: r["repositoryArn"].as_str().unwrap_or_default().into(),
            })
            .collect())
    }

    async fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let out = self.call("ListTagsForResource", json!({"resourceArn": arn}))?;
        Ok(out["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| (t["Key"].as_str().unwrap_or_default().into(), t["Value"].as_str().unwrap_or_default().into()))
            .collect())
    }

    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.call("TagResource", json!({"resourceArn": arn, "tags": tags_json(tags)})).map(drop)
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.call("UntagResource", json!({"resourceArn": arn, "tagKeys": keys})).map(drop)
    }

    async fn create_repository(&self, name: &str, catalog: &Catalog, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.call("CreateRepository", json!({"repositoryName": name, "catalogData": catalog_json(catalog), "tags": tags_json(tags)})).map(drop)
    }

    async fn delete_repository(&self, name: &str, force: bool) -> Result<(), ProviderError> {
        match self.call("DeleteRepository", json!({"repositoryName": name, "force": force})) {
            Err(e) if e.class == crate::core::ErrorClass::NotFound => Ok(()),
            other => other.map(drop),
        }
    }

    async fn get_catalog(&self, name: &str) -> Result<Catalog, ProviderError> {
        let c = self.call("GetRepositoryCatalogData", json!({"repositoryName": name}))?["catalogData"].clone();
        let text = |k: &str| c[k].as_str().filter(|s| !s.is_empty()).map(String::from);
        let list = |k: &str| {
            let mut v: Vec<String> = c[k].as_array().into_iter().flatten().filter_map(|s| s.as_str().map(String::from)).collect();
            v.sort();
            v
        };
        Ok(Catalog {
            description: text("description"),
            about_text: text("aboutText"),
            usage_text: text("usageText"),
            architectures: list("architectures"),
            operating_systems: list("operatingSystems"),
        })
    }

    async fn put_catalog(&self, name: &str, catalog: &Catalog) -> Result<(), ProviderError> {
        self.call("PutRepositoryCatalogData", json!({"repositoryName": name, "catalogData": catalog_json(catalog)})).map(drop)
    }

    async fn get_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        match self.call("GetRepositoryPolicy", json!({"repositoryName": name})) {
            Ok(out) => Ok(out["policyText"].as_str().map(String::from)),
            Err(e) if e.message.starts_with("RepositoryPolicyNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn set_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        self.call("SetRepositoryPolicy", json!({"repositoryName": name, "policyText": text})).map(drop)
    }

    async fn delete_policy(&self, name: &str) -> Result<(), ProviderError> {
        match self.call("DeleteRepositoryPolicy", json!({"repositoryName": name})) {
            Err(e) if e.message.starts_with("RepositoryPolicyNotFoundException") => Ok(()),
            other => other.map(drop),
        }
    }
}
