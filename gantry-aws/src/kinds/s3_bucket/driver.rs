//! S3 calls for `s3_bucket`: a region's buckets read in parallel (bounded),
//! a global name checked before it is created, settings applied in the
//! order S3 accepts them, and a delete that empties the bucket only when
//! the bucket itself records that it may.

use super::api::{NameStatus, S3Api};
use super::spec::Desired;
use crate::cloud::tagging::{owned_in, TaggedApi};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{owner_of, Discovery, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_PROTECT};
use crate::kinds::common::{aws_tags, gated, lost_create, read_many};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Read calls in flight at once (S3 allows thousands per second per
/// prefix; the bound is for the machine and the emulator, as for ECR).
const READ_CALLS: usize = 10;

/// S3 driver over [`S3Api`], for one region.
pub(crate) struct S3Driver {
    api: Arc<dyn S3Api>,
    region: String,
    tagged: Option<Arc<dyn TaggedApi>>,
}

impl S3Driver {
    pub(crate) fn new(api: Arc<dyn S3Api>, region: String) -> Self {
        S3Driver { api, region, tagged: None }
    }

    /// Discovery through the tagging API instead of a read of every bucket's tags.
    pub(crate) fn with_discovery(mut self, tagged: Arc<dyn TaggedApi>) -> Self {
        self.tagged = Some(tagged);
        self
    }

    /// One bucket's state (6 calls); a bucket the files do not name is read
    /// further only when its tags say it is the stack's.
    async fn read_one(&self, name: String, scope: &ReadScope, named: &HashSet<&str>, gate: &Semaphore) -> Result<Option<LiveResource>, ProviderError> {
        let tags = gated(gate, "s3", self.api.get_tags(&name)).await?;
        if !named.contains(name.as_str()) && owner_of(&tags).as_ref() != Some(&scope.owner) {
            return Ok(None);
        }
        let policy =
            async { Ok::<_, ProviderError>(gated(gate, "s3", self.api.get_policy(&name)).await?.and_then(|t| crate::policy::parse_document(&t).ok())) };
        let (versioning, encryption, pab, policy, rules) = futures::try_join!(
            gated(gate, "s3", self.api.get_versioning(&name)),
            gated(gate, "s3", self.api.get_encryption(&name)),
            gated(gate, "s3", self.api.get_public_access(&name)),
            policy,
            gated(gate, "s3", self.api.get_lifecycle(&name)),
        )?;
        let rules = super::settings::sorted(rules);
        let mut state = State::new();
        state.insert("name".into(), json!(name));
        state.insert("versioning".into(), json!(versioning));
        state.insert("encryption".into(), json!(encryption));
        state.insert("public_access_block".into(), json!(pab));
        state.insert("policy".into(), policy.map(|d| crate::policy::normalize(&d)).unwrap_or(Value::Null));
        state.insert("lifecycle_rules".into(), if rules.is_empty() { Value::Null } else { json!(rules) });
        state.insert("force_delete".into(), json!(aws_tags::force_delete(&tags)));
        state.insert("tags".into(), aws_tags::user_tags(&tags));
        Ok(Some(LiveResource {
            identity: name,
            owner_stack: owner_of(&tags),
            owner_address: tags.get(TAG_ADDRESS).cloned(),
            protected: tags.contains_key(TAG_PROTECT),
            state,
        }))
    }

    /// Bucket names are global: a name another account holds, or one this
    /// account uses in another region, cannot be created here.
    async fn name_problem(&self, address: &str, name: &str) -> Result<Option<crate::core::Diagnostic>, ProviderError> {
        let problem = match self.api.head_bucket(name).await? {
            NameStatus::Free | NameStatus::Here => None,
            NameStatus::Taken => Some(format!("the bucket name \"{name}\" belongs to another AWS account (S3 names are global): choose another name")),
            NameStatus::Elsewhere(r) => {
                Some(format!("bucket \"{name}\" exists in {r}, not in {}: manage it from a stack in {r}, or choose another name", self.region))
            }
        };
        Ok(problem.map(|p| crate::core::Diagnostic::at(address, p)))
    }

    async fn put_lifecycle(&self, name: &str, desired: &Desired) -> Result<(), ProviderError> {
        match &desired.lifecycle_rules {
            Some(r) if !r.is_empty() => self.api.put_lifecycle(name, r).await,
            _ => self.api.delete_lifecycle(name).await,
        }
    }

    /// Block Public Access and the policy, in the order S3 accepts: a
    /// policy is removed before switches go on, and a public one is put
    /// after they go off (with BlockPublicPolicy on, S3 refuses it).
    async fn put_access(&self, name: &str, desired: &Desired, pab_changed: bool, policy_changed: bool) -> Result<(), ProviderError> {
        let policy = desired.policy.as_ref();
        if policy_changed && policy.is_none() {
            self.api.delete_policy(name).await?;
        }
        if pab_changed {
            self.api.put_public_access(name, &desired.public_access_block).await?;
        }
        if let Some(doc) = policy.filter(|_| policy_changed) {
            self.api.put_policy(name, &doc.to_string()).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Driver for S3Driver {
    async fn discover(&self, scope: &ReadScope) -> Result<Discovery, ProviderError> {
        match &self.tagged {
            Some(api) => Ok(Discovery { owned: owned_in(api.as_ref(), std::slice::from_ref(&self.region), "s3:bucket", &scope.owner).await?, zones: vec![] }),
            None => Ok(Discovery::of(&self.read(scope).await?, scope)),
        }
    }

    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let names = self.api.list_buckets().await?;
        let named: HashSet<&str> = scope.identities.iter().map(String::as_str).collect();
        let gate = Semaphore::new(READ_CALLS);
        let reads: Vec<_> = names.into_iter().map(|n| self.read_one(n, scope, &named, &gate)).collect();
        read_many(reads, READ_CALLS).await
    }

    /// Bucket names are global: a name another account holds, or one this
    /// account uses in another region, cannot be created here.
    async fn preflight(&self, desired: &[(String, State)]) -> Result<Vec<crate::core::Diagnostic>, ProviderError> {
        // Collected first: a lazy map of borrowing closures is not Send in an async_trait.
        let names: Vec<(&String, String)> =
            desired.iter().map(|(address, d)| Ok((address, Desired::parse(d, "HeadBucket")?.name))).collect::<Result<_, ProviderError>>()?;
        let checks: Vec<_> = names.iter().map(|(address, name)| self.name_problem(address, name)).collect();
        let found: Vec<Option<crate::core::Diagnostic>> = futures::stream::iter(checks).buffer_unordered(READ_CALLS).try_collect().await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "CreateBucket")?;
        let name = d.name.as_str();
        match self.api.create_bucket(name).await {
            // BucketAlreadyOwnedByYou: the answer to our own create was lost, or the bucket is another block's.
            Err(e) if lost_create::already_exists(&e) || e.message.starts_with("BucketAlreadyOwnedByYou") => {
                let tags = self.api.get_tags(name).await?;
                lost_create::carry_on_if_ours(e, Some(tags), &format!("bucket {name}"), owner)?;
            }
            other => other?,
        }
        // Tags first: a bucket that fails half-way is still recognisably the block's.
        self.api.put_tags(name, &aws_tags::written(&d.tags, d.force_delete, owner)).await?;
        self.api.put_encryption(name, &d.encryption).await?;
        if d.versioning {
            self.api.put_versioning(name, true).await?;
        }
        // A new bucket has no policy to remove: only a policy to put counts as a change.
        self.put_access(name, &d, true, d.policy.is_some()).await?;
        if d.lifecycle_rules.is_some() {
            self.put_lifecycle(name, &d).await?;
        }
        Ok(())
    }

    async fn update(&self, desired: &State, _live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "Update")?;
        let name = d.name.as_str();
        let has = |f: &str| changed.iter().any(|c| c == f);
        for field in changed {
            match field.as_str() {
                "versioning" => self.api.put_versioning(name, d.versioning).await?,
                "encryption" => self.api.put_encryption(name, &d.encryption).await?,
                "lifecycle_rules" => self.put_lifecycle(name, &d).await?,
                "public_access_block" | "policy" | "tags" | "force_delete" | "owner" => {}
                other => return Err(ProviderError::aws(ErrorClass::Other, "s3", "Update", format!("field {other} cannot be changed in place"))),
            }
        }
        if has("public_access_block") || has("policy") {
            self.put_access(name, &d, has("public_access_block"), has("policy")).await?;
        }
        // PutBucketTagging replaces the whole set: stale keys go with it.
        if has("tags") || has("force_delete") || has("owner") {
            self.api.put_tags(name, &aws_tags::written(&d.tags, d.force_delete, owner)).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let name = &live.identity;
        if aws_tags::LiveAws::of(&live.state).force_delete {
            self.api.empty(name).await?;
        }
        match self.api.delete_bucket(name).await {
            Err(e) if e.message.starts_with("BucketNotEmpty") => Err(ProviderError::aws(
                ErrorClass::Conflict,
                "s3",
                "DeleteBucket",
                format!("bucket {name} still holds objects; set force_delete = true in its block and apply (that records the permission on the bucket), then delete it"),
            )),
            other => other,
        }
    }
}
