//! The I/O half of `gcp_service_account`: one paged list of the project's
//! accounts per plan, then each found account's IAM policy (bounded
//! concurrency); ownership read from the description's marker.

use super::api::ServiceAccountApi;
use super::spec::Desired;
use crate::cloud::gcp_iam::ServiceAccount;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Driver, LiveResource, Owner, ReadScope, State};
use crate::kinds::common::gcp::description_marker::{read_marker, written_description};
use crate::kinds::common::gcp::{all_pages, iam_write};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use std::sync::Arc;

/// IAM driver for service accounts.
pub(crate) struct ServiceAccountDriver {
    api: Arc<dyn ServiceAccountApi>,
}

impl ServiceAccountDriver {
    pub(crate) fn new(api: Arc<dyn ServiceAccountApi>) -> Self {
        ServiceAccountDriver { api }
    }

    /// Reads the policy (for its etag and conditional bindings) and writes
    /// the blocks' bindings over it; nothing to write for none on a new account.
    async fn write_policy(&self, email: &str, desired: &Desired) -> Result<(), ProviderError> {
        match iam_write::to_write(&self.api.policy(email).await?, &desired.iam) {
            Some(p) => self.api.set_policy(email, &p).await,
            None => Ok(()),
        }
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
        let found = all.iter().map(Self::live).filter(|l| l.owner_stack.as_deref() == Some(scope.owner.as_str()) || scope.identities.contains(&l.identity));
        let with_policy = found.map(|mut l| async move {
            let policy = self.api.policy(&Desired::parse(&l.state, "GetIamPolicy")?.email).await?;
            l.state.insert("iam".into(), serde_json::json!(iam_write::live(&policy)));
            Ok::<_, ProviderError>(l)
        });
        futures::stream::iter(with_policy).buffer_unordered(8).try_collect().await
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "CreateServiceAccount")?;
        let id = desired.account_id.as_str();
        let description = written_description(&desired.description, owner);
        match self.api.create(id, &desired.display_name, &description).await {
            Ok(sa) => self.write_policy(&sa.email, &desired).await,
            Err(e) if e.class == ErrorClass::Conflict => Err(ProviderError::google(
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

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let desired = Desired::parse(desired, "PatchServiceAccount")?;
        let email = Desired::parse(&live.state, "PatchServiceAccount")?.email;
        if changed.iter().any(|c| c != "iam") {
            self.api.patch(&email, &desired.display_name, &written_description(&desired.description, owner)).await?;
        }
        if changed.iter().any(|c| c == "iam") {
            self.write_policy(&email, &desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        match self.api.delete(&Desired::parse(&live.state, "DeleteServiceAccount")?.email).await {
            Err(e) if e.class == ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }
}
