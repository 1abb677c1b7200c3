//! The I/O half of `oidc_provider`: reads and writes through the cloud API.

use crate::cloud::aws::classify;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_STACK};
use crate::kinds::common::iam::{all_tags, stale_keys, tag_map, user_tags};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

/// IAM driver for OIDC providers.
pub struct OidcDriver {
    client: aws_sdk_iam::Client,
}

impl OidcDriver {
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        OidcDriver { client }
    }

    async fn read_one(&self, arn: String) -> Result<LiveResource, ProviderError> {
        let out = self
            .client
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await
            .map_err(|e| classify("iam", "GetOpenIDConnectProvider", e))?;
        let tags = tag_map(out.tags());
        let host = arn.rsplit("oidc-provider/").next().unwrap_or_default().to_string();
        let mut clients: Vec<String> = out.client_id_list().to_vec();
        clients.sort();
        let mut thumbs: Vec<String> = out.thumbprint_list().iter().map(|t| t.to_lowercase()).collect();
        thumbs.sort();
        let mut state = State::new();
        state.insert("host".into(), json!(host));
        state.insert("arn".into(), json!(arn));
        state.insert("client_ids".into(), json!(clients));
        state.insert("thumbprints".into(), json!(thumbs));
        state.insert("tags".into(), user_tags(&tags));
        Ok(LiveResource { identity: host, owner_stack: tags.get(TAG_STACK).cloned(), owner_address: tags.get(TAG_ADDRESS).cloned(), state })
    }
}

fn strs(s: &State, key: &str) -> Vec<String> {
    s.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default()
}

fn arn_of(live: &LiveResource) -> String {
    live.state.get("arn").and_then(Value::as_str).unwrap_or_default().to_string()
}

#[async_trait]
impl Driver for OidcDriver {
    async fn read(&self, _scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        // An account has few providers (the quota is 100): read them all.
        let list = self.client.list_open_id_connect_providers().send().await.map_err(|e| classify("iam", "ListOpenIDConnectProviders", e))?;
        let arns: Vec<String> = list.open_id_connect_provider_list().iter().filter_map(|p| p.arn().map(String::from)).collect();
        futures::stream::iter(arns.into_iter().map(|a| self.read_one(a))).buffer_unordered(8).try_collect().await
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let host = desired.get("host").and_then(Value::as_str).unwrap_or_default();
        self.client
            .create_open_id_connect_provider()
            .url(format!("https://{host}"))
            .set_client_id_list(Some(strs(desired, "client_ids")))
            .set_thumbprint_list(Some(strs(desired, "thumbprints")).filter(|t| !t.is_empty()))
            .set_tags(Some(all_tags(desired, owner)))
            .send()
            .await
            .map_err(|e| classify("iam", "CreateOpenIDConnectProvider", e))?;
        Ok(())
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let arn = arn_of(live);
        if changed.iter().any(|c| c == "client_ids") {
            let want = strs(desired, "client_ids");
            let have = strs(&live.state, "client_ids");
            for id in want.iter().filter(|i| !have.contains(i)) {
                self.client
                    .add_client_id_to_open_id_connect_provider()
                    .open_id_connect_provider_arn(&arn)
                    .client_id(id)
                    .send()
                    .await
                    .map_err(|e| classify("iam", "AddClientIDToOpenIDConnectProvider", e))?;
            }
            for id in have.iter().filter(|i| !want.contains(i)) {
                self.client
                    .remove_client_id_from_open_id_connect_provider()
                    .open_id_connect_provider_arn(&arn)
                    .client_id(id)
                    .send()
                    .await
                    .map_err(|e| classify("iam", "RemoveClientIDFromOpenIDConnectProvider", e))?;
            }
        }
        if changed.iter().any(|c| c == "thumbprints") {
            let want = strs(desired, "thumbprints");
            if want.is_empty() {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    "iam",
                    "UpdateOpenIDConnectProviderThumbprint",
                    "IAM cannot clear a provider's thumbprint list in place; keep at least one thumbprint, or change the url to recreate it",
                ));
            }
            self.client
                .update_open_id_connect_provider_thumbprint()
                .open_id_connect_provider_arn(&arn)
                .set_thumbprint_list(Some(want))
                .send()
                .await
                .map_err(|e| classify("iam", "UpdateOpenIDConnectProviderThumbprint", e))?;
        }
        if changed.iter().any(|c| c == "tags" || c == "owner") {
            let want = all_tags(desired, owner);
            let current = self.read_one(arn.clone()).await?;
            let mut current_tags = std::collections::BTreeMap::new();
            if let Some(s) = &current.owner_stack {
                current_tags.insert(TAG_STACK.to_string(), s.clone());
            }
            if let Some(a) = &current.owner_address {
                current_tags.insert(TAG_ADDRESS.to_string(), a.clone());
            }
            for (k, v) in current.state.get("tags").and_then(Value::as_object).into_iter().flatten() {
                current_tags.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
            let stale = stale_keys(&current_tags, &want);
            if !stale.is_empty() {
                self.client
                    .untag_open_id_connect_provider()
                    .open_id_connect_provider_arn(&arn)
                    .set_tag_keys(Some(stale))
                    .send()
                    .await
                    .map_err(|e| classify("iam", "UntagOpenIDConnectProvider", e))?;
            }
            self.client
                .tag_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .set_tags(Some(want))
                .send()
                .await
                .map_err(|e| classify("iam", "TagOpenIDConnectProvider", e))?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        match self.client.delete_open_id_connect_provider().open_id_connect_provider_arn(arn_of(live)).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(()),
            Err(e) => Err(classify("iam", "DeleteOpenIDConnectProvider", e)),
        }
    }
}
