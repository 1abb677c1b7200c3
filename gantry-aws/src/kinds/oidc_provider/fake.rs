//! An in-memory IAM for OIDC providers, answering as IAM does: the ARN is
//! the account's plus the URL's host; a provider created without
//! thumbprints gets one computed from the issuer's certificate ("If you
//! don't provide a thumbprint, IAM retrieves the top intermediate CA
//! thumbprint", IAM API reference, CreateOpenIDConnectProvider); a second
//! provider for the same URL is `EntityAlreadyExists`.

use super::api::{NewProvider, OidcApi, Provider};
use crate::cloud::aws::class_of_code;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

pub(super) const ACCOUNT: &str = "123456789012";
/// The thumbprint the fake "computes" (any fixed certificate would do).
pub(super) const COMPUTED: &str = "1b511abead59c6ce207077c0bf0e0043b1382612";

#[derive(Default)]
pub(super) struct FakeIam {
    providers: Mutex<BTreeMap<String, Provider>>,
}

fn err(op: &'static str, code: &str, msg: String) -> ProviderError {
    ProviderError::aws(class_of_code(code), "iam", op, format!("{code}: {msg}"))
}

impl FakeIam {
    pub(super) fn provider(&self, arn: &str) -> Option<Provider> {
        self.providers.lock().unwrap().get(arn).cloned()
    }

    fn with<T>(&self, op: &'static str, arn: &str, f: impl FnOnce(&mut Provider) -> T) -> Result<T, ProviderError> {
        self.providers.lock().unwrap().get_mut(arn).map(f).ok_or_else(|| err(op, "NoSuchEntity", format!("OpenIDConnect Provider not found for arn {arn}")))
    }
}

#[async_trait]
impl OidcApi for FakeIam {
    async fn list_providers(&self) -> Result<Vec<String>, ProviderError> {
        Ok(self.providers.lock().unwrap().keys().cloned().collect())
    }

    async fn get_provider(&self, arn: &str) -> Result<Provider, ProviderError> {
        self.with("GetOpenIDConnectProvider", arn, |p| p.clone())
    }

    async fn create_provider(&self, p: NewProvider) -> Result<(), ProviderError> {
        let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", p.url.trim_start_matches("https://"));
        let mut all = self.providers.lock().unwrap();
        if all.contains_key(&arn) {
            return Err(err("CreateOpenIDConnectProvider", "EntityAlreadyExists", format!("Provider with url {} already exists.", p.url)));
        }
        let thumbprints = p.thumbprints.unwrap_or_else(|| vec![COMPUTED.to_string()]);
        all.insert(arn, Provider { client_ids: p.client_ids, thumbprints, tags: p.tags });
        Ok(())
    }

    async fn add_client_id(&self, arn: &str, id: &str) -> Result<(), ProviderError> {
        self.with("AddClientIDToOpenIDConnectProvider", arn, |p| {
            if !p.client_ids.iter().any(|c| c == id) {
                p.client_ids.push(id.to_string())
            }
        })
    }

    async fn remove_client_id(&self, arn: &str, id: &str) -> Result<(), ProviderError> {
        self.with("RemoveClientIDFromOpenIDConnectProvider", arn, |p| p.client_ids.retain(|c| c != id))
    }

    async fn update_thumbprints(&self, arn: &str, thumbprints: Vec<String>) -> Result<(), ProviderError> {
        self.with("UpdateOpenIDConnectProviderThumbprint", arn, |p| p.thumbprints = thumbprints)
    }

    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.with("TagOpenIDConnectProvider", arn, |p| p.tags.extend(tags.clone()))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        self.with("UntagOpenIDConnectProvider", arn, |p| p.tags.retain(|k, _| !keys.contains(k)))
    }

    async fn delete_provider(&self, arn: &str) -> Result<(), ProviderError> {
        self.providers.lock().unwrap().remove(arn);
        Ok(())
    }
}
