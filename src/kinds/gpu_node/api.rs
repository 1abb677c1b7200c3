//! The Compute Engine calls a `gpu_node` driver makes. Every call that
//! returns an operation waits for it and reports a failed operation as an
//! error (see `crate::cloud::gcp::compute_op`).

use crate::cloud::gcp::{call, compute_op, GcpContext};
use crate::core::error::ProviderError;
use crate::kinds::common::gcp::DiskApi;
use async_trait::async_trait;
use google_cloud_compute_v1::model::{Instance, InstancesSetLabelsRequest, Metadata};
use google_cloud_lro::Poller;

/// Instances of one project (and, through [`DiskApi`], their boot disks).
#[async_trait]
pub trait GpuApi: DiskApi {
    /// One page of a zone's instances and the next page token ("" at the end).
    async fn list_instances(&self, zone: &str, page_token: &str) -> Result<(Vec<Instance>, String), ProviderError>;
    async fn get_instance(&self, zone: &str, name: &str) -> Result<Instance, ProviderError>;
    /// One page of every zone's instances labelled `gantry-stack = label`,
    /// as (zone, instance): `aggregatedList` filtered by the server.
    async fn list_labelled(&self, label: &str, page_token: &str) -> Result<(Vec<(String, Instance)>, String), ProviderError>;
    async fn insert_instance(&self, zone: &str, body: Instance) -> Result<(), ProviderError>;
    /// Replaces the labels; the request carries the fingerprint read last.
    async fn set_labels(&self, zone: &str, name: &str, req: InstancesSetLabelsRequest) -> Result<(), ProviderError>;
    /// Replaces the metadata; `md.fingerprint` is the one read last.
    async fn set_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError>;
    async fn delete_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError>;
    /// Starts a stopped instance (a running one: nothing happens).
    async fn start_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError>;
}

#[async_trait]
impl GpuApi for GcpContext {
    async fn list_instances(&self, zone: &str, page_token: &str) -> Result<(Vec<Instance>, String), ProviderError> {
        let page = call(&self.stats, "compute", "ListInstances", || {
            self.instances.list().set_project(&self.project).set_zone(zone).set_max_results(500u32).set_page_token(page_token).send()
        })
        .await?;
        Ok((page.items, page.next_page_token.unwrap_or_default()))
    }

    async fn list_labelled(&self, label: &str, page_token: &str) -> Result<(Vec<(String, Instance)>, String), ProviderError> {
        let filter = format!("labels.{} = \"{label}\"", crate::kinds::common::gcp::LABEL_STACK);
        let page = call(&self.stats, "compute", "AggregatedListInstances", || {
            self.instances.aggregated_list().set_project(&self.project).set_filter(&filter).set_max_results(500u32).set_page_token(page_token).send()
        })
        .await?;
        let found = page
            .items
            .into_iter()
            .flat_map(|(scope, list)| {
                let zone = scope.strip_prefix("zones/").unwrap_or(&scope).to_string();
                list.instances.into_iter().map(move |i| (zone.clone(), i))
            })
            .collect();
        Ok((found, page.next_page_token.unwrap_or_default()))
    }

    async fn get_instance(&self, zone: &str, name: &str) -> Result<Instance, ProviderError> {
        call(&self.stats, "compute", "GetInstance", || self.instances.get().set_project(&self.project).set_zone(zone).set_instance(name).send()).await
    }

    async fn insert_instance(&self, zone: &str, body: Instance) -> Result<(), ProviderError> {
        compute_op(&self.stats, "InsertInstance", || {
            self.instances.insert().set_project(&self.project).set_zone(zone).set_body(body.clone()).poller().until_done()
        })
        .await
    }

    async fn set_labels(&self, zone: &str, name: &str, req: InstancesSetLabelsRequest) -> Result<(), ProviderError> {
        compute_op(&self.stats, "SetLabels", || {
            self.instances.set_labels().set_project(&self.project).set_zone(zone).set_instance(name).set_body(req.clone()).poller().until_done()
        })
        .await
    }

    async fn set_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError> {
        compute_op(&self.stats, "SetMetadata", || {
            self.instances.set_metadata().set_project(&self.project).set_zone(zone).set_instance(name).set_body(md.clone()).poller().until_done()
        })
        .await
    }

    async fn delete_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        compute_op(&self.stats, "DeleteInstance", || self.instances.delete().set_project(&self.project).set_zone(zone).set_instance(name).poller().until_done())
            .await
    }

    async fn start_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError> {
        compute_op(&self.stats, "StartInstance", || self.instances.start().set_project(&self.project).set_zone(zone).set_instance(name).poller().until_done())
            .await
    }
}
