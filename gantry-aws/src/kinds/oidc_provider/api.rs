//! The IAM calls a `github_oidc_provider` driver makes. Deleting an absent
//! provider succeeds; other failures arrive classified.

use crate::cloud::aws::classify;
use crate::core::error::ProviderError;
use crate::kinds::common::iam::iam_tags;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// A provider as IAM reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Provider {
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// What a new provider is created with (`thumbprints: None` lets IAM
/// compute them from the issuer's certificate chain).
#[derive(Debug, Clone)]
pub(crate) struct NewProvider {
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Option<Vec<String>>,
    pub tags: BTreeMap<String, String>,
}

/// OIDC providers of one account.
#[async_trait]
pub(crate) trait OidcApi: Send + Sync {
    /// ARNs of every provider in the account (the API does not page; the quota is 100).
    async fn list_providers(&self) -> Result<Vec<String>, ProviderError>;
    async fn get_provider(&self, arn: &str) -> Result<Provider, ProviderError>;
    async fn create_provider(&self, p: NewProvider) -> Result<(), ProviderError>;
    async fn add_client_id(&self, arn: &str, id: &str) -> Result<(), ProviderError>;
    async fn remove_client_id(&self, arn: &str, id: &str) -> Result<(), ProviderError>;
    async fn update_thumbprints(&self, arn: &str, thumbprints: Vec<String>) -> Result<(), ProviderError>;
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;
    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError>;
    /// Succeeds when the provider is already gone.
    async fn delete_provider(&self, arn: &str) -> Result<(), ProviderError>;
}

#[async_trait]
impl OidcApi for aws_sdk_iam::Client {
    async fn list_providers(&self) -> Result<Vec<String>, ProviderError> {
        let list = self.list_open_id_connect_providers().send().await.map_err(|e| classify("iam", "ListOpenIDConnectProviders", e))?;
        Ok(list.open_id_connect_provider_list().iter().filter_map(|p| p.arn().map(String::from)).collect())
    }

    async fn get_provider(&self, arn: &str) -> Result<Provider, ProviderError> {
        let out =
            self.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await.map_err(|e| classify("iam", "GetOpenIDConnectProvider", e))?;
        Ok(Provider {
            client_ids: out.client_id_list().to_vec(),
            thumbprints: out.thumbprint_list().to_vec(),
            tags: out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
        })
    }

    async fn create_provider(&self, p: NewProvider) -> Result<(), ProviderError> {
        self.create_open_id_connect_provider()
            .url(p.url)
            .set_client_id_list(Some(p.client_ids))
            .set_thumbprint_list(p.thumbprints)
            .set_tags(Some(iam_tags(&p.tags)))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "CreateOpenIDConnectProvider", e))
    }

    async fn add_client_id(&self, arn: &str, id: &str) -> Result<(), ProviderError> {
        self.add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "AddClientIDToOpenIDConnectProvider", e))
    }

    async fn remove_client_id(&self, arn: &str, id: &str) -> Result<(), ProviderError> {
        self.remove_client_id_from_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "RemoveClientIDFromOpenIDConnectProvider", e))
    }

    async fn update_thumbprints(&self, arn: &str, thumbprints: Vec<String>) -> Result<(), ProviderError> {
        self.update_open_id_connect_provider_thumbprint()
            .open_id_connect_provider_arn(arn)
            .set_thumbprint_list(Some(thumbprints))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "UpdateOpenIDConnectProviderThumbprint", e))
    }

    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.tag_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .set_tags(Some(iam_tags(tags)))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "TagOpenIDConnectProvider", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.untag_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("iam", "UntagOpenIDConnectProvider", e))
    }

    async fn delete_provider(&self, arn: &str) -> Result<(), ProviderError> {
        match self.delete_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(()),
            Err(e) => Err(classify("iam", "DeleteOpenIDConnectProvider", e)),
        }
    }
}
