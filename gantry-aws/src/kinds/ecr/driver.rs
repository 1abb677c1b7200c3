//! ECR API calls for `ecr_repository`: batched reads, create, in-place
//! updates and delete.

use super::api::{EcrApi, NewRepository};
use super::lifecycle;
use super::spec::Desired;
use crate::cloud::tagging::{owned_in, TaggedApi};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{owner_of, stale_tag_keys, Discovery, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_PROTECT};
use crate::kinds::common::{aws_tags, gated, lost_create, read_many};
use async_trait::async_trait;
use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, ImageTagMutability, Repository};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How many read calls are in flight at once. Measured on moto
/// (scripts/bench-noop-plan.sh): more only queues requests on the server;
/// ECR also applies per-account request-rate quotas to each API, and the
/// SDK's retries absorb the occasional throttle.
const READ_CALLS: usize = 10;

/// ECR driver over [`EcrApi`].
pub(crate) struct EcrDriver {
    api: Arc<dyn EcrApi>,
    /// Finds the stack's repositories by tag (and the region it asks in).
    tagged: Option<(Arc<dyn TaggedApi>, String)>,
}

impl EcrDriver {
    pub(crate) fn new(api: Arc<dyn EcrApi>) -> Self {
        EcrDriver { api, tagged: None }
    }

    /// Discovery through the tagging API in `region` instead of a read
    /// (which reads every repository's tags).
    pub(crate) fn with_discovery(mut self, tagged: Arc<dyn TaggedApi>, region: String) -> Self {
        self.tagged = Some((tagged, region));
        self
    }

    async fn lifecycle(&self, name: &str) -> Result<Value, ProviderError> {
        let text = self.api.get_lifecycle_policy(name).await?;
        Ok(text.and_then(|t| serde_json::from_str::<Value>(&t).ok()).map(|d| lifecycle::normalize(&d)).unwrap_or(Value::Null))
    }

    async fn policy(&self, name: &str) -> Result<Value, ProviderError> {
        let text = self.api.get_repository_policy(name).await?;
        Ok(text.and_then(|t| crate::policy::parse_document(&t).ok()).map(|d| crate::policy::normalize(&d)).unwrap_or(Value::Null))
    }

    /// Reads one repository's full state (3 calls: tags, lifecycle, policy).
    /// A repository named in the files gets all three at once (one round
    /// trip); any other is ours only if its tags say so, so the tag read
    /// comes first and the rest only for ours.
    async fn read_one(&self, repo: Repository, scope: &ReadScope, named: &HashSet<&str>, gate: &Semaphore) -> Result<Option<LiveResource>, ProviderError> {
        let name = repo.repository_name().unwrap_or_default().to_string();
        let arn = repo.repository_arn().unwrap_or_default().to_string();
        let tags = gated(gate, "ecr", self.api.list_tags(&arn));
        let rest = || futures::future::try_join(gated(gate, "ecr", self.lifecycle(&name)), gated(gate, "ecr", self.policy(&name)));
        let (tags, (lifecycle, policy)) = if named.contains(name.as_str()) {
            futures::try_join!(tags, rest())?
        } else {
            let tags = tags.await?;
            if owner_of(&tags).as_ref() != Some(&scope.owner) {
                return Ok(None);
            }
            (tags, rest().await?)
        };
        let owner_stack = owner_of(&tags);
        let enc = repo.encryption_configuration();
        let mut state = State::new();
        state.insert("name".into(), json!(name));
        state.insert("arn".into(), json!(arn));
        state.insert("image_tag_mutability".into(), json!(repo.image_tag_mutability().map(|m| m.as_str().to_string()).unwrap_or_else(|| "MUTABLE".into())));
        state.insert("scan_on_push".into(), json!(repo.image_scanning_configuration().map(|c| c.scan_on_push()).unwrap_or(false)));
        state.insert("encryption".into(), json!(enc.map(|e| e.encryption_type().as_str().to_string()).unwrap_or_else(|| "AES256".into())));
        state.insert("kms_key".into(), enc.and_then(|e| e.kms_key()).map(|k| json!(k)).unwrap_or(Value::Null));
        state.insert("lifecycle_policy".into(), lifecycle);
        state.insert("repository_policy".into(), policy);
        state.insert("force_delete".into(), json!(aws_tags::force_delete(&tags)));
        state.insert("tags".into(), aws_tags::user_tags(&tags));
        Ok(Some(LiveResource { identity: name, owner_stack, owner_address: tags.get(TAG_ADDRESS).cloned(), protected: tags.contains_key(TAG_PROTECT), state }))
    }

    fn arn(live: &LiveResource) -> String {
        aws_tags::LiveAws::of(&live.state).arn
    }

    /// Sets a policy document, or removes it when the document is null.
    async fn put_lifecycle(&self, name: &str, doc: &Value) -> Result<(), ProviderError> {
        if doc.is_null() {
            self.api.delete_lifecycle_policy(name).await
        } else {
            self.api.put_lifecycle_policy(name, &doc.to_string()).await
        }
    }

    async fn put_policy(&self, name: &str, doc: &Value) -> Result<(), ProviderError> {
        if doc.is_null() {
            self.api.delete_repository_policy(name).await
        } else {
            self.api.set_repository_policy(name, &doc.to_string()).await
        }
    }
}

#[async_trait]
impl Driver for EcrDriver {
    async fn discover(&self, scope: &ReadScope) -> Result<Discovery, ProviderError> {
        match &self.tagged {
            Some((api, region)) => {
                Ok(Discovery { owned: owned_in(api.as_ref(), std::slice::from_ref(region), "ecr:repository", &scope.owner).await?, zones: vec![] })
            }
            None => Ok(Discovery::of(&self.read(scope).await?, scope)),
        }
    }

    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let repos = self.api.list_repositories().await?;
        let named: HashSet<&str> = scope.identities.iter().map(String::as_str).collect();
        let gate = Semaphore::new(READ_CALLS);
        let reads: Vec<_> = repos.into_iter().map(|r| self.read_one(r, scope, &named, &gate)).collect();
        read_many(reads, READ_CALLS).await
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "CreateRepository")?;
        let name = d.name.as_str();
        let mut enc = EncryptionConfiguration::builder().encryption_type(EncryptionType::from(d.encryption.as_str()));
        if let Some(k) = &d.kms_key {
            enc = enc.kms_key(k);
        }
        let enc = enc.build().map_err(|e| ProviderError::aws(ErrorClass::Other, "ecr", "CreateRepository", e.to_string()))?;
        let created = self
            .api
            .create_repository(NewRepository {
                name: name.to_string(),
                image_tag_mutability: ImageTagMutability::from(d.image_tag_mutability.as_str()),
                scan_on_push: d.scan_on_push,
                encryption: enc,
                tags: aws_tags::written(&d.tags, d.force_delete, owner),
            })
            .await;
        match created {
            Err(e) if lost_create::already_exists(&e) => {
                let arn = self.api.list_repositories().await?.into_iter().find(|r| r.repository_name() == Some(name)).and_then(|r| r.repository_arn);
                let found = match arn {
                    Some(arn) => Some(self.api.list_tags(&arn).await?),
                    None => None,
                };
                lost_create::carry_on_if_ours(e, found, &format!("repository {name}"), owner)?;
            }
            other => other?,
        }
        if let Some(doc) = &d.lifecycle_policy {
            self.put_lifecycle(name, doc).await?;
        }
        if let Some(doc) = &d.repository_policy {
            self.put_policy(name, doc).await?;
        }
        Ok(())
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "Update")?;
        let name = d.name.as_str();
        let null = Value::Null;
        for field in changed {
            match field.as_str() {
                "image_tag_mutability" => self.api.put_image_tag_mutability(name, ImageTagMutability::from(d.image_tag_mutability.as_str())).await?,
                "scan_on_push" => self.api.put_scan_on_push(name, d.scan_on_push).await?,
                "lifecycle_policy" => self.put_lifecycle(name, d.lifecycle_policy.as_ref().unwrap_or(&null)).await?,
                "repository_policy" => self.put_policy(name, d.repository_policy.as_ref().unwrap_or(&null)).await?,
                // Tags, force_delete and ownership are all tags: handled together below.
                "tags" | "force_delete" | "owner" => {}
                other => {
                    return Err(ProviderError::aws(ErrorClass::Other, "ecr", "Update", format!("field {other} cannot be changed in place")));
                }
            }
        }
        if changed.iter().any(|f| matches!(f.as_str(), "tags" | "force_delete" | "owner")) {
            let arn = Self::arn(live);
            let want = aws_tags::written(&d.tags, d.force_delete, owner);
            let current = self.api.list_tags(&arn).await?;
            let stale = stale_tag_keys(&current, &want);
            if !stale.is_empty() {
                self.api.untag(&arn, stale).await?;
            }
            self.api.tag(&arn, &want).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let force = aws_tags::LiveAws::of(&live.state).force_delete;
        match self.api.delete_repository(&live.identity, force).await {
            Ok(()) => Ok(()),
            Err(e) => match e.class {
                ErrorClass::NotFound => Ok(()),
                ErrorClass::Conflict if e.message.contains("RepositoryNotEmpty") => Err(ProviderError::aws(
                    ErrorClass::Conflict,
                    "ecr",
                    "DeleteRepository",
                    format!(
                        "repository {} still contains images; set force_delete = true in its block and apply (that records the permission on the repository), then delete it",
                        live.identity
                    ),
                )),
                _ => Err(e),
            },
        }
    }
}
