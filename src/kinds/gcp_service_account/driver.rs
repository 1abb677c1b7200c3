//! The I/O half of `gcp_service_account`: one paged list of the project's
//! accounts per plan; ownership read from the description's marker.

use super::api::ServiceAccountApi;
use crate::cloud::gcp_iam::ServiceAccount;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{text, Driver, LiveResource, Owner, ReadScope, State};
use crate::kinds::common::gcp::all_pages;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// IAM driver for service accounts.
pub struct ServiceAccountDriver {
    api: Arc<dyn ServiceAccountApi>,
}

/// The ownership marker written at the end of the description.
pub fn marker(owner: &Owner) -> String {
    format!("[gantry:{} {}{}]", owner.stack, owner.address, if owner.protect { " protected" } else { "" })
}

/// The description IAM should hold: the block's, then the marker.
pub fn written_description(user: &str, owner: &Owner) -> String {
    if user.is_empty() {
        marker(owner)
    } else {
        format!("{user} {}", marker(owner))
    }
}

/// Splits a live description into (the user's part, owner key, address, protected).
pub fn read_marker(description: &str) -> (String, Option<String>, Option<String>, bool) {
    let Some(at) = description.rfind("[gantry:").filter(|_| description.ends_with(']')) else {
        return (description.to_string(), None, None, false);
    };
    let inner = &description[at + "[gantry:".len()..description.len() - 1];
    let (inner, protected) = inner.strip_suffix(" protected").map_or((inner, false), |i| (i, true));
    let (stack, address) = inner.split_once(' ').unwrap_or((inner, ""));
    (description[..at].trim_end().to_string(), Some(stack.to_string()), Some(address.to_string()).filter(|a| !a.is_empty()), protected)
}

impl ServiceAccountDriver {
    pub fn new(api: Arc<dyn ServiceAccountApi>) -> Self {
        ServiceAccountDriver { api }
    }

    fn live(sa: &ServiceAccount) -> LiveResource {
        let account_id = sa.email.split('@').next().unwrap_or_default().to_string();
        let (description, owner_stack, owner_address, protected) = read_marker(&sa.description);
        let mut st = State::new();
        st.insert("account_id".into(), json!(account_id));
        st.insert("display_name".into(), json!(sa.display_name));
        st.insert("description".into(), json!(description));
        st.insert("email".into(), json!(sa.email));
        st.insert("unique_id".into(), json!(sa.unique_id));
        LiveResource { identity: account_id, owner_stack, owner_address, protected, state: st }
    }
}

#[async_trait]
impl Driver for ServiceAccountDriver {
    /// The project's accounts (IAM has no server-side filter on them):
    /// those this stack marked, and those the files name.
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let all = all_pages(|token| async move { self.api.list(&token).await }).await?;
        Ok(all.iter().map(Self::live).filter(|l| l.owner_stack.as_deref() == Some(scope.owner.as_str()) || scope.identities.contains(&l.identity)).collect())
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let id = text(desired, "account_id");
        let description = written_description(text(desired, "description"), owner);
        match self.api.create(id, text(desired, "display_name"), &description).await {
            Ok(_) => Ok(()),
            Err(e) if e.class == ErrorClass::Conflict => Err(ProviderError::new(
                e.class,
                e.service,
                e.operation,
                format!(
                    "{}: {id} already exists in project {}. If this stack just created it (IAM can take a minute to list a new account), \
                     run plan again shortly; otherwise it belongs to someone else: `gantry import` it or choose another account_id",
                    e.message,
                    self.api.project()
                ),
            )),
            Err(e) => Err(e),
        }
    }

    async fn update(&self, desired: &State, live: &LiveResource, _changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let email = text(&live.state, "email");
        self.api.patch(email, text(desired, "display_name"), &written_description(text(desired, "description"), owner)).await.map(|_| ())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        match self.api.delete(text(&live.state, "email")).await {
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }
}
