//! The I/O half of `gcp_workload_identity_pool`: one paged list of the
//! project's pools per plan, then the providers of each pool the stack
//! owns or names (deleted ones are gone for the plan); a create that finds
//! the ID held by a pool this stack deleted undeletes and updates it.

use super::api::PoolApi;
use super::spec::{Desired, ProviderState};
use crate::cloud::gcp_iam::{GithubOidc, Pool, PoolProvider};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Driver, LiveResource, Owner, ReadScope, State};
use crate::kinds::common::gcp::all_pages;
use crate::kinds::common::gcp::description_marker::{read_marker, written_description};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// IAM driver for workload identity pools.
pub(crate) struct PoolDriver {
    api: Arc<dyn PoolApi>,
}

fn last(name: &str) -> String {
    name.rsplit('/').next().unwrap_or_default().to_string()
}

fn provider_state(p: &PoolProvider) -> ProviderState {
    ProviderState {
        issuer_uri: p.oidc.as_ref().map(|o| o.issuer_uri.clone()).unwrap_or_default(),
        attribute_mapping: p.attribute_mapping.clone(),
        attribute_condition: p.attribute_condition.clone(),
        disabled: p.disabled,
    }
}

fn provider_body(v: &ProviderState) -> PoolProvider {
    PoolProvider {
        attribute_mapping: v.attribute_mapping.clone(),
        attribute_condition: v.attribute_condition.clone(),
        oidc: Some(GithubOidc { issuer_uri: v.issuer_uri.clone(), allowed_audiences: Vec::new() }),
        disabled: v.disabled,
        ..PoolProvider::default()
    }
}

impl PoolDriver {
    pub(crate) fn new(api: Arc<dyn PoolApi>) -> Self {
        PoolDriver { api }
    }

    async fn live(&self, p: &Pool) -> Result<LiveResource, ProviderError> {
        let id = last(&p.name);
        let (description, owner_stack, owner_address, protected) = read_marker(&p.description);
        let providers = all_pages(|token| {
            let id = id.clone();
            async move { self.api.list_providers(&id, &token).await }
        })
        .await?;
        // A deleted provider is absent; declaring it again undeletes it.
        let providers: BTreeMap<String, ProviderState> =
            providers.iter().filter(|x| x.state != "DELETED").map(|x| (last(&x.name), provider_state(x))).collect();
        let mut st = State::new();
        st.insert("pool_id".into(), json!(id));
        st.insert("display_name".into(), json!(p.display_name));
        st.insert("description".into(), json!(description));
        st.insert("disabled".into(), json!(p.disabled));
        st.insert("providers".into(), json!(providers));
        st.insert("name".into(), json!(p.name));
        Ok(LiveResource { identity: id, owner_stack, owner_address, protected, state: st })
    }

    fn pool(desired: &Desired, owner: &Owner) -> Pool {
        Pool {
            display_name: desired.display_name.clone(),
            description: written_description(&desired.description, owner),
            disabled: desired.disabled,
            ..Pool::default()
        }
    }

    /// Creates a provider; one the stack deleted (the ID still taken) is
    /// undeleted and set instead.
    async fn put_provider(&self, pool_id: &str, provider_id: &str, body: &PoolProvider, owner: &Owner) -> Result<(), ProviderError> {
        match self.api.create_provider(pool_id, provider_id, body).await {
            Err(e) if e.class == ErrorClass::Conflict => {
                owner.note(format!("undeleting provider {provider_id}"));
                self.api.undelete_provider(pool_id, provider_id).await?;
                self.api.patch_provider(pool_id, provider_id, body).await
            }
            other => other,
        }
    }

    /// Makes the pool's providers the desired ones (`live`: those it has).
    async fn set_providers(&self, desired: &Desired, live: &BTreeMap<String, ProviderState>, owner: &Owner) -> Result<(), ProviderError> {
        let pool_id = desired.pool_id.as_str();
        for (id, want) in &desired.providers {
            match live.get(id) {
                Some(have) if have == want => {}
                Some(_) => self.api.patch_provider(pool_id, id, &provider_body(want)).await?,
                None => self.put_provider(pool_id, id, &provider_body(want), owner).await?,
            }
        }
        for id in live.keys().filter(|id| !desired.providers.contains_key(*id)) {
            self.api.delete_provider(pool_id, id).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Driver for PoolDriver {
    /// The pools this stack marked and those the files name, not deleted.
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let all = all_pages(|token| async move { self.api.list_pools(&token).await }).await?;
        let mut out = Vec::new();
        for p in all.iter().filter(|p| p.state != "DELETED") {
            let (_, stack, _, _) = read_marker(&p.description);
            if stack.as_deref() == Some(scope.owner.as_str()) || scope.identities.contains(&last(&p.name)) {
                out.push(self.live(p).await?);
            }
        }
        Ok(out)
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "CreateWorkloadIdentityPool")?;
        let id = desired.pool_id.as_str();
        let e = match self.api.create_pool(id, &Self::pool(&desired, owner)).await {
            Ok(()) => return self.set_providers(&desired, &BTreeMap::new(), owner).await,
            Err(e) if e.class == ErrorClass::Conflict => e,
            Err(e) => return Err(e),
        };
        // Held by a pool this stack deleted (30 days undeletable): restore it.
        let all = all_pages(|token| async move { self.api.list_pools(&token).await }).await?;
        let ours = |p: &&Pool| p.state == "DELETED" && last(&p.name) == id && read_marker(&p.description).1.as_deref() == Some(owner.stack.as_str());
        if let Some(p) = all.iter().find(ours) {
            owner.note(format!("undeleting pool {id}, which this stack deleted"));
            self.api.undelete_pool(id).await?;
            self.api.patch_pool(id, &Self::pool(&desired, owner)).await?;
            let live = self.live(&Pool { state: "ACTIVE".into(), ..p.clone() }).await?;
            return self.set_providers(&desired, &Desired::parse(&live.state, "ListWorkloadIdentityPoolProviders")?.providers, owner).await;
        }
        let message = format!(
            "{}: the pool ID {id} is taken in project {}: by someone else's pool (`gantry import` it or choose another pool_id), \
             or by a pool deleted less than 30 days ago that this stack does not own",
            e.message,
            self.api.project()
        );
        Err(ProviderError::google(e.class, e.service, e.operation, message))
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "UpdateWorkloadIdentityPool")?;
        if changed.iter().any(|c| ["display_name", "description", "disabled", "owner"].contains(&c.as_str())) {
            self.api.patch_pool(&desired.pool_id, &Self::pool(&desired, owner)).await?;
        }
        self.set_providers(&desired, &Desired::parse(&live.state, "UpdateWorkloadIdentityPool")?.providers, owner).await
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        match self.api.delete_pool(&Desired::parse(&live.state, "DeleteWorkloadIdentityPool")?.pool_id).await {
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }
}
