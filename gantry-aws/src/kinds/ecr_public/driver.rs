//! ECR Public calls for `ecr_public_repository`: the registry's
//! repositories read in parallel (bounded), create with catalog data and
//! tags in one call, in-place updates and delete.

use super::api::{EcrPublicApi, PublicRepository};
use super::spec::Desired;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{owner_of, stale_tag_keys, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_PROTECT};
use crate::kinds::common::{aws_tags, gated, lost_create, read_many};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Read calls in flight at once, as for private ECR.
const READ_CALLS: usize = 10;

/// ECR Public driver over [`EcrPublicApi`].
pub(crate) struct EcrPublicDriver {
    api: Arc<dyn EcrPublicApi>,
}

impl EcrPublicDriver {
    pub(crate) fn new(api: Arc<dyn EcrPublicApi>) -> Self {
        EcrPublicDriver { api }
    }

    /// One repository's state; one the files do not name is read further
    /// only when its tags say it is the stack's.
    async fn read_one(
        &self,
        repo: PublicRepository,
        scope: &ReadScope,
        named: &HashSet<&str>,
        gate: &Semaphore,
    ) -> Result<Option<LiveResource>, ProviderError> {
        let tags = gated(gate, "ecr-public", self.api.list_tags(&repo.arn)).await?;
        if !named.contains(repo.name.as_str()) && owner_of(&tags).as_ref() != Some(&scope.owner) {
            return Ok(None);
        }
        let (catalog, policy) =
            futures::try_join!(gated(gate, "ecr-public", self.api.get_catalog(&repo.name)), gated(gate, "ecr-public", self.api.get_policy(&repo.name)))?;
        let policy = policy.and_then(|t| crate::policy::parse_document(&t).ok()).map(|d| crate::policy::normalize(&d));
        let mut state = State::new();
        state.insert("name".into(), json!(repo.name));
        state.insert("arn".into(), json!(repo.arn));
        state.insert("catalog".into(), json!(catalog));
        state.insert("repository_policy".into(), policy.unwrap_or(Value::Null));
        state.insert("force_delete".into(), json!(aws_tags::force_delete(&tags)));
        state.insert("tags".into(), aws_tags::user_tags(&tags));
        Ok(Some(LiveResource {
            identity: repo.name,
            owner_stack: owner_of(&tags),
            owner_address: tags.get(TAG_ADDRESS).cloned(),
            protected: tags.contains_key(TAG_PROTECT),
            state,
        }))
    }

    async fn put_policy(&self, name: &str, doc: Option<&Value>) -> Result<(), ProviderError> {
        match doc.filter(|d| !d.is_null()) {
            Some(d) => self.api.set_policy(name, &d.to_string()).await,
            None => self.api.delete_policy(name).await,
        }
    }
}

#[async_trait]
impl Driver for EcrPublicDriver {
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let repos = self.api.list_repositories().await?;
        let named: HashSet<&str> = scope.identities.iter().map(String::as_str).collect();
        let gate = Semaphore::new(READ_CALLS);
        let reads: Vec<_> = repos.into_iter().map(|r| self.read_one(r, scope, &named, &gate)).collect();
        read_many(reads, READ_CALLS).await
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "CreateRepository")?;
        let (name, catalog) = (d.name.as_str(), &d.catalog);
        match self.api.create_repository(name, catalog, &aws_tags::written(&d.tags, d.force_delete, owner)).await {
            Err(e) if lost_create::already_exists(&e) => {
                let arn = self.api.list_repositories().await?.into_iter().find(|r| r.name == name).map(|r| r.arn);
                let found = match arn {
                    Some(arn) => Some(self.api.list_tags(&arn).await?),
                    None => None,
                };
                lost_create::carry_on_if_ours(e, found, &format!("public repository {name}"), owner)?;
                self.api.put_catalog(name, catalog).await?;
            }
            other => other?,
        }
        if d.repository_policy.is_some() {
            self.put_policy(name, d.repository_policy.as_ref()).await?;
        }
        Ok(())
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "Update")?;
        let name = d.name.as_str();
        for field in changed {
            match field.as_str() {
                "catalog" => self.api.put_catalog(name, &d.catalog).await?,
                "repository_policy" => self.put_policy(name, d.repository_policy.as_ref()).await?,
                "tags" | "force_delete" | "owner" => {}
                other => return Err(ProviderError::aws(ErrorClass::Other, "ecr-public", "Update", format!("field {other} cannot be changed in place"))),
            }
        }
        if changed.iter().any(|f| matches!(f.as_str(), "tags" | "force_delete" | "owner")) {
            let live_ids = aws_tags::LiveAws::of(&live.state);
            let arn = live_ids.arn.as_str();
            let want = aws_tags::written(&d.tags, d.force_delete, owner);
            let stale = stale_tag_keys(&self.api.list_tags(arn).await?, &want);
            if !stale.is_empty() {
                self.api.untag(arn, stale).await?;
            }
            self.api.tag(arn, &want).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let force = aws_tags::LiveAws::of(&live.state).force_delete;
        match self.api.delete_repository(&live.identity, force).await {
            Err(e) if e.message.contains("RepositoryNotEmpty") => Err(ProviderError::aws(
                ErrorClass::Conflict,
                "ecr-public",
                "DeleteRepository",
                format!("public repository {} still contains images; set force_delete = true in its block and apply, then delete it", live.identity),
            )),
            other => other,
        }
    }
}
