//! The data sources' Google Cloud reads: [`GcpLookupApi`] over the
//! Compute v1 client.

use crate::cloud::gcp::{call, GcpContext};
use crate::core::{ErrorClass, ProviderError};
use crate::lookup_api::{GcpLookupApi, Network};
use async_trait::async_trait;

#[async_trait]
impl GcpLookupApi for GcpContext {
    async fn network(&self, project: &str, name: &str) -> Result<Option<Network>, ProviderError> {
        let got = call(&self.stats, "compute", "networks.get", || self.networks.get().set_project(project).set_network(name).send()).await;
        let n = match got {
            Ok(n) => n,
            Err(e) if e.class == ErrorClass::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(Network {
            // Output only, assigned by Compute (compute v1 Network.id: "[Output Only] The unique identifier").
            id: n.id.map(|i| i.to_string()).unwrap_or_default(),
            self_link: n.self_link.unwrap_or_default(),
            auto_create_subnetworks: n.auto_create_subnetworks.unwrap_or(false),
            subnetworks: n.subnetworks,
        }))
    }
}
