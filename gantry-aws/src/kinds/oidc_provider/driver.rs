//! The I/O half of `github_oidc_provider`: reads and writes through [`OidcApi`].

use super::api::{NewProvider, OidcApi};
use super::spec::Desired;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{owner_of, stale_tag_keys, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_PROTECT};
use crate::kinds::common::aws_tags::user_tags;
use crate::kinds::common::lost_create;
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use std::sync::Arc;

/// IAM driver for OIDC providers.
pub(crate) struct OidcDriver {
    api: Arc<dyn OidcApi>,
}

impl OidcDriver {
    pub(crate) fn new(api: Arc<dyn OidcApi>) -> Self {
        OidcDriver { api }
    }

    async fn read_one(&self, arn: String) -> Result<LiveResource, ProviderError> {
        let p = self.api.get_provider(&arn).await?;
        let host = arn.rsplit("oidc-provider/").next().unwrap_or_default().to_string();
        let mut clients = p.client_ids.clone();
        clients.sort();
        // IAM may answer thumbprints in either case.
        let mut thumbs: Vec<String> = p.thumbprints.iter().map(|t| t.to_lowercase()).collect();
        thumbs.sort();
        let mut state = State::new();
        state.insert("host".into(), json!(host));
        state.insert("arn".into(), json!(arn));
        state.insert("client_ids".into(), json!(clients));
        state.insert("thumbprints".into(), json!(thumbs));
        state.insert("tags".into(), user_tags(&p.tags));
        Ok(LiveResource {
            identity: host,
            owner_stack: owner_of(&p.tags),
            owner_address: p.tags.get(TAG_ADDRESS).cloned(),
            protected: p.tags.contains_key(TAG_PROTECT),
            state,
        })
    }
}

fn arn_of(live: &LiveResource) -> String {
    crate::kinds::common::aws_tags::LiveAws::of(&live.state).arn
}

#[async_trait]
impl Driver for OidcDriver {
    async fn read(&self, _scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        // An account has few providers (the quota is 100): read them all.
        let arns = self.api.list_providers().await?;
        futures::stream::iter(arns.into_iter().map(|a| self.read_one(a))).buffer_unordered(8).try_collect().await
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired, "CreateOpenIDConnectProvider")?;
        let host = d.host.as_str();
        let created = self
            .api
            .create_provider(NewProvider {
                url: format!("https://{host}"),
                client_ids: d.client_ids.clone(),
                thumbprints: d.thumbprints.clone(),
                tags: owner.with_ownership(d.tags.clone()),
            })
            .await;
        match created {
            Err(e) if lost_create::already_exists(&e) => {
                // One provider per URL and account: its ARN ends with the host.
                let arn = self.api.list_providers().await?.into_iter().find(|a| a.ends_with(&format!("oidc-provider/{host}")));
                let found = match arn {
                    Some(arn) => Some(self.api.get_provider(&arn).await?.tags),
                    None => None,
                };
                lost_create::carry_on_if_ours(e, found, &format!("OIDC provider {host}"), owner)
            }
            other => other,
        }
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let arn = arn_of(live);
        let d = Desired::parse(desired, "UpdateOpenIDConnectProvider")?;
        if changed.iter().any(|c| c == "client_ids") {
            let (want, have) = (&d.client_ids, Desired::parse(&live.state, "UpdateOpenIDConnectProvider")?.client_ids);
            for id in want.iter().filter(|i| !have.contains(i)) {
                self.api.add_client_id(&arn, id).await?;
            }
            for id in have.iter().filter(|i| !want.contains(i)) {
                self.api.remove_client_id(&arn, id).await?;
            }
        }
        if changed.iter().any(|c| c == "thumbprints") {
            let want = d.thumbprints.clone().unwrap_or_default();
            if want.is_empty() {
                return Err(ProviderError::aws(
                    ErrorClass::Conflict,
                    "iam",
                    "UpdateOpenIDConnectProviderThumbprint",
                    "IAM cannot clear a provider's thumbprint list in place; keep at least one thumbprint, or change the url to recreate it",
                ));
            }
            self.api.update_thumbprints(&arn, want).await?;
        }
        if changed.iter().any(|c| c == "tags" || c == "owner") {
            let want = owner.with_ownership(d.tags.clone());
            let current = self.api.get_provider(&arn).await?.tags;
            let stale = stale_tag_keys(&current, &want);
            if !stale.is_empty() {
                self.api.untag(&arn, stale).await?;
            }
            self.api.tag(&arn, &want).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        self.api.delete_provider(&arn_of(live)).await
    }
}
