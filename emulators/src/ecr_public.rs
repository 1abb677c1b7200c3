//! Amazon ECR Public, which moto does not emulate, served by the proxy
//! (awsJson1_1, `X-Amz-Target: SpencerFrontendService.<Operation>`, signing
//! name `ecr-public`). Shapes and errors from the Amazon ECR Public API
//! Reference:
//! - a repository's URI is `public.ecr.aws/<registry alias>/<name>` and its
//!   ARN `arn:aws:ecr-public::<account>:repository/<name>` (no region: the
//!   API lives in us-east-1 only); the registry gets a default alias
//!   (DescribeRegistries, `defaultRegistryAlias`);
//! - catalog data comes back with `logoUrl` and `marketplaceCertified`
//!   (RepositoryCatalogData) and only what was set;
//! - errors: RepositoryAlreadyExistsException, RepositoryNotFoundException,
//!   RepositoryNotEmptyException (DeleteRepository without `force`),
//!   RepositoryPolicyNotFoundException (Get/DeleteRepositoryPolicy),
//!   InvalidParameterException for names outside the documented pattern.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The account every repository belongs to.
pub const ACCOUNT: &str = "123456789012";

#[derive(Default, Debug)]
struct Repo {
    catalog: Map<String, Value>,
    policy: Option<String>,
    tags: BTreeMap<String, String>,
    images: usize,
    created: u64,
}

/// The account's public registry.
#[derive(Default, Debug)]
pub struct Registry {
    repos: BTreeMap<String, Repo>,
}

/// `(status, body)` of an answer.
pub type Answer = (u16, Value);

fn error(code: &str, message: String) -> Answer {
    (400, json!({"__type": code, "message": message}))
}

fn alias() -> String {
    // A default alias looks like `y5w8i4y6`: derived from the account here.
    format!("a{}", &ACCOUNT[..7])
}

fn arn(name: &str) -> String {
    format!("arn:aws:ecr-public::{ACCOUNT}:repository/{name}")
}

fn valid_name(name: &str) -> bool {
    (2..=205).contains(&name.len())
        && name
            .split('/')
            .all(|seg| !seg.is_empty() && seg.split(['.', '_', '-']).all(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())))
}

fn tags_of(v: &Value) -> BTreeMap<String, String> {
    v.as_array().into_iter().flatten().filter_map(|t| Some((t["Key"].as_str()?.to_string(), t["Value"].as_str().unwrap_or_default().to_string()))).collect()
}

impl Registry {
    fn repository(&self, name: &str, r: &Repo) -> Value {
        json!({"repositoryArn": arn(name), "registryId": ACCOUNT, "repositoryName": name,
               "repositoryUri": format!("public.ecr.aws/{}/{name}", alias()), "createdAt": r.created})
    }

    fn catalog(r: &Repo) -> Value {
        let mut c = r.catalog.clone();
        c.remove("logoImageBlob");
        c.insert("marketplaceCertified".into(), json!(false));
        Value::Object(c)
    }

    fn name_of_arn(&self, arn_text: &str) -> Option<String> {
        arn_text.strip_prefix(&format!("arn:aws:ecr-public::{ACCOUNT}:repository/")).filter(|n| self.repos.contains_key(*n)).map(String::from)
    }

    /// Pushes `n` images (tests).
    pub fn push_images(&mut self, name: &str, n: usize) {
        if let Some(r) = self.repos.get_mut(name) {
            r.images += n;
        }
    }

    /// Answers one operation.
    pub fn handle(&mut self, operation: &str, req: &Value) -> Answer {
        let name = req["repositoryName"].as_str().unwrap_or_default().to_string();
        let missing = || error("RepositoryNotFoundException", format!("The repository with name '{name}' does not exist in the registry with id '{ACCOUNT}'"));
        match operation {
            "DescribeRegistries" => (
                200,
                json!({"registries": [{"registryId": ACCOUNT, "registryArn": format!("arn:aws:ecr-public::{ACCOUNT}:registry/{ACCOUNT}"),
                       "registryUri": format!("public.ecr.aws/{}", alias()), "verified": false,
                       "aliases": [{"name": alias(), "status": "ACTIVE", "primaryRegistryAlias": true, "defaultRegistryAlias": true}]}]}),
            ),
            "CreateRepository" => {
                if !valid_name(&name) {
                    return error("InvalidParameterException", format!("Invalid parameter at 'repositoryName' failed to satisfy constraint: '{name}'"));
                }
                if self.repos.contains_key(&name) {
                    return error(
                        "RepositoryAlreadyExistsException",
                        format!("The repository with name '{name}' already exists in the registry with id '{ACCOUNT}'"),
                    );
                }
                let created = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
                let r = Repo { catalog: req["catalogData"].as_object().cloned().unwrap_or_default(), tags: tags_of(&req["tags"]), created, ..Repo::default() };
                let out = json!({"repository": self.repository(&name, &r), "catalogData": Self::catalog(&r)});
                self.repos.insert(name, r);
                (200, out)
            }
            "DescribeRepositories" => {
                let wanted: Vec<String> = req["repositoryNames"].as_array().into_iter().flatten().filter_map(|n| n.as_str().map(String::from)).collect();
                if let Some(absent) = wanted.iter().find(|n| !self.repos.contains_key(*n)) {
                    return error(
                        "RepositoryNotFoundException",
                        format!("The repository with name '{absent}' does not exist in the registry with id '{ACCOUNT}'"),
                    );
                }
                // Pages of maxResults (default 100), continued by nextToken (the last name).
                let max = req["maxResults"].as_u64().unwrap_or(100).clamp(1, 1000) as usize;
                let after = req["nextToken"].as_str().unwrap_or_default();
                let names: Vec<&String> = self.repos.keys().filter(|n| (wanted.is_empty() || wanted.contains(n)) && n.as_str() > after).collect();
                let page: Vec<Value> = names.iter().take(max).map(|n| self.repository(n, &self.repos[*n])).collect();
                let mut out = json!({"repositories": page});
                if names.len() > max {
                    out["nextToken"] = json!(names[max - 1]);
                }
                (200, out)
            }
            "DeleteRepository" => match self.repos.get(&name) {
                None => missing(),
                Some(r) if r.images > 0 && req["force"] != json!(true) => error(
                    "RepositoryNotEmptyException",
                    format!("The repository with name '{name}' in registry with id '{ACCOUNT}' cannot be deleted because it still contains images"),
                ),
                Some(r) => {
                    let out = json!({"repository": self.repository(&name, r)});
                    self.repos.remove(&name);
                    (200, out)
                }
            },
            "GetRepositoryCatalogData" => match self.repos.get(&name) {
                None => missing(),
                Some(r) => (200, json!({"catalogData": Self::catalog(r)})),
            },
            "PutRepositoryCatalogData" => match self.repos.get_mut(&name) {
                None => missing(),
                Some(r) => {
                    r.catalog = req["catalogData"].as_object().cloned().unwrap_or_default();
                    (200, json!({"catalogData": Self::catalog(r)}))
                }
            },
            "GetRepositoryPolicy" | "DeleteRepositoryPolicy" => match self.repos.get_mut(&name) {
                None => missing(),
                Some(r) => {
                    let policy = if operation == "DeleteRepositoryPolicy" { r.policy.take() } else { r.policy.clone() };
                    match policy {
                        Some(p) => (200, json!({"registryId": ACCOUNT, "repositoryName": name, "policyText": p})),
                        None => error(
                            "RepositoryPolicyNotFoundException",
                            format!("Repository policy does not exist for the repository with name '{name}' in the registry with id '{ACCOUNT}'"),
                        ),
                    }
                }
            },
            "SetRepositoryPolicy" => match self.repos.get_mut(&name) {
                None => missing(),
                Some(r) => {
                    let text = req["policyText"].as_str().unwrap_or_default().to_string();
                    if serde_json::from_str::<Value>(&text).map(|v| !v.is_object()).unwrap_or(true) {
                        return error(
                            "InvalidParameterException",
                            "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'".into(),
                        );
                    }
                    r.policy = Some(text.clone());
                    (200, json!({"registryId": ACCOUNT, "repositoryName": name, "policyText": text}))
                }
            },
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                let arn_text = req["resourceArn"].as_str().unwrap_or_default();
                let Some(n) = self.name_of_arn(arn_text) else {
                    return error("RepositoryNotFoundException", format!("The repository with ARN '{arn_text}' does not exist"));
                };
                let r = self.repos.get_mut(&n).expect("checked");
                match operation {
                    "TagResource" => r.tags.extend(tags_of(&req["tags"])),
                    "UntagResource" => {
                        for k in req["tagKeys"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                            r.tags.remove(k);
                        }
                    }
                    _ => return (200, json!({"tags": r.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()})),
                }
                (200, json!({}))
            }
            other => error("UnknownOperationException", format!("the emulated ECR Public does not serve {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_live_in_the_public_registry() {
        let mut reg = Registry::default();
        let (s, out) = reg.handle(
            "CreateRepository",
            &json!({"repositoryName": "bentoml/openllm", "catalogData": {"description": "d"}, "tags": [{"Key": "a", "Value": "b"}]}),
        );
        assert_eq!(s, 200, "{out}");
        assert_eq!(out["repository"]["repositoryUri"], format!("public.ecr.aws/{}/bentoml/openllm", alias()));
        assert_eq!(out["catalogData"]["marketplaceCertified"], false);
        assert_eq!(reg.handle("CreateRepository", &json!({"repositoryName": "bentoml/openllm"})).1["__type"], "RepositoryAlreadyExistsException");
        assert_eq!(reg.handle("GetRepositoryPolicy", &json!({"repositoryName": "bentoml/openllm"})).1["__type"], "RepositoryPolicyNotFoundException");
        reg.push_images("bentoml/openllm", 1);
        assert_eq!(reg.handle("DeleteRepository", &json!({"repositoryName": "bentoml/openllm"})).1["__type"], "RepositoryNotEmptyException");
        let tags = reg.handle("ListTagsForResource", &json!({"resourceArn": arn("bentoml/openllm")})).1;
        assert_eq!(tags["tags"], json!([{"Key": "a", "Value": "b"}]));
        assert_eq!(reg.handle("DeleteRepository", &json!({"repositoryName": "bentoml/openllm", "force": true})).0, 200);
        assert_eq!(reg.handle("CreateRepository", &json!({"repositoryName": "Bad"})).1["__type"], "InvalidParameterException");
    }
}
