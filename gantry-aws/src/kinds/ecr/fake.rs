//! An in-memory ECR for driver unit tests, answering as the service does:
//! ARNs, URIs and registry ids are the server's; encryption defaults to
//! AES256; a repository policy comes back re-formatted (pretty-printed with
//! " : ", as `aws ecr get-repository-policy` shows), so readers must parse
//! rather than compare text; deleting a repository with images needs
//! `force`; errors carry the service's codes, classified as `classify` does.

use super::api::{EcrApi, NewRepository};
use crate::cloud::aws::class_of_code;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability, Repository};
use std::collections::BTreeMap;
use std::sync::Mutex;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-west-2";

struct Repo {
    repo: Repository,
    tags: BTreeMap<String, String>,
    lifecycle: Option<String>,
    policy: Option<String>,
    images: usize,
}

#[derive(Default)]
pub(super) struct FakeEcr {
    repos: Mutex<BTreeMap<String, Repo>>,
    calls: Mutex<Vec<String>>,
}

fn err(op: &'static str, code: &str, msg: &str) -> ProviderError {
    ProviderError::aws(class_of_code(code), "ecr", op, format!("{code}: {msg}"))
}

fn missing(op: &'static str, name: &str) -> ProviderError {
    err(op, "RepositoryNotFoundException", &format!("The repository with name '{name}' does not exist in the registry with id '{ACCOUNT}'"))
}

impl FakeEcr {
    pub(super) fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// Pushes `n` images into a repository.
    pub(super) fn push_images(&self, name: &str, n: usize) {
        self.repos.lock().unwrap().get_mut(name).expect("repository exists").images += n;
    }

    /// A repository made by someone else, untagged.
    pub(super) fn seed(&self, name: &str) {
        let enc = EncryptionConfiguration::builder().encryption_type(EncryptionType::Aes256).build().unwrap();
        let repo =
            NewRepository { name: name.into(), image_tag_mutability: ImageTagMutability::Mutable, scan_on_push: false, encryption: enc, tags: BTreeMap::new() };
        self.insert(repo);
    }

    pub(super) fn tags_of(&self, name: &str) -> BTreeMap<String, String> {
        self.repos.lock().unwrap()[name].tags.clone()
    }

    fn insert(&self, r: NewRepository) {
        let repo = Repository::builder()
            .repository_name(&r.name)
            .repository_arn(format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{}", r.name))
            .registry_id(ACCOUNT)
            .repository_uri(format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{}", r.name))
            .created_at(aws_smithy_types::DateTime::from_secs(1_764_000_000))
            .image_tag_mutability(r.image_tag_mutability)
            .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(r.scan_on_push).build())
            .encryption_configuration(r.encryption)
            .build();
        self.repos.lock().unwrap().insert(r.name, Repo { repo, tags: r.tags, lifecycle: None, policy: None, images: 0 });
    }

    fn with<T>(&self, op: &'static str, name: &str, f: impl FnOnce(&mut Repo) -> T) -> Result<T, ProviderError> {
        self.record(format!("{op} {name}"));
        self.repos.lock().unwrap().get_mut(name).map(f).ok_or_else(|| missing(op, name))
    }

    fn by_arn<T>(&self, op: &'static str, arn: &str, f: impl FnOnce(&mut Repo) -> T) -> Result<T, ProviderError> {
        self.with(op, arn.rsplit('/').next().unwrap_or_default(), f)
    }
}

/// ECR's formatting of a stored policy.
fn reformat(text: &str) -> String {
    let doc: serde_json::Value = serde_json::from_str(text).expect("the service rejects invalid JSON");
    serde_json::to_string_pretty(&doc).unwrap().replace("\": ", "\" : ")
}

#[async_trait]
impl EcrApi for FakeEcr {
    async fn list_repositories(&self) -> Result<Vec<Repository>, ProviderError> {
        self.record("DescribeRepositories".into());
        Ok(self.repos.lock().unwrap().values().map(|r| r.repo.clone()).collect())
    }

    async fn list_tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        self.by_arn("ListTagsForResource", arn, |r| r.tags.clone())
    }

    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.by_arn("TagResource", arn, |r| r.tags.extend(tags.clone()))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.by_arn("UntagResource", arn, |r| keys.iter().for_each(|k| drop(r.tags.remove(k))))
    }

    async fn create_repository(&self, repo: NewRepository) -> Result<(), ProviderError> {
        self.record(format!("CreateRepository {}", repo.name));
        if self.repos.lock().unwrap().contains_key(&repo.name) {
            return Err(err("CreateRepository", "RepositoryAlreadyExistsException", &format!("The repository with name '{}' already exists", repo.name)));
        }
        self.insert(repo);
        Ok(())
    }

    async fn delete_repository(&self, name: &str, force: bool) -> Result<(), ProviderError> {
        let images = self.with("DeleteRepository", name, |r| r.images)?;
        if images > 0 && !force {
            return Err(err(
                "DeleteRepository",
                "RepositoryNotEmptyException",
                &format!("The repository with name '{name}' cannot be deleted because it still contains images"),
            ));
        }
        self.repos.lock().unwrap().remove(name);
        Ok(())
    }

    async fn put_image_tag_mutability(&self, name: &str, mutability: ImageTagMutability) -> Result<(), ProviderError> {
        self.with("PutImageTagMutability", name, |r| r.repo.image_tag_mutability = Some(mutability))
    }

    async fn put_scan_on_push(&self, name: &str, scan_on_push: bool) -> Result<(), ProviderError> {
        self.with("PutImageScanningConfiguration", name, |r| {
            r.repo.image_scanning_configuration = Some(ImageScanningConfiguration::builder().scan_on_push(scan_on_push).build())
        })
    }

    async fn get_lifecycle_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        self.with("GetLifecyclePolicy", name, |r| r.lifecycle.clone())
    }

    async fn put_lifecycle_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        self.with("PutLifecyclePolicy", name, |r| r.lifecycle = Some(text.to_string()))
    }

    async fn delete_lifecycle_policy(&self, name: &str) -> Result<(), ProviderError> {
        self.with("DeleteLifecyclePolicy", name, |r| r.lifecycle = None)
    }

    async fn get_repository_policy(&self, name: &str) -> Result<Option<String>, ProviderError> {
        self.with("GetRepositoryPolicy", name, |r| r.policy.clone())
    }

    async fn set_repository_policy(&self, name: &str, text: &str) -> Result<(), ProviderError> {
        self.with("SetRepositoryPolicy", name, |r| r.policy = Some(reformat(text)))
    }

    async fn delete_repository_policy(&self, name: &str) -> Result<(), ProviderError> {
        self.with("DeleteRepositoryPolicy", name, |r| r.policy = None)
    }
}
