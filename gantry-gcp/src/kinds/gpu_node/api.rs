//! The Compute Engine calls a `gpu_node` driver makes. Every call that
//! returns an operation waits for it and reports a failed operation as an
//! error (see `crate::cloud::gcp::compute_op`).

use crate::cloud::gcp::{call, compute_op, operation_outcome, GcpContext};
use crate::cloud::gcp_iam::Policy;
use crate::core::error::ProviderError;
use crate::kinds::common::gcp::DiskApi;
use async_trait::async_trait;
use google_cloud_compute_v1::model::{Instance, InstancesSetLabelsRequest, Metadata};
use google_cloud_lro::Poller;

/// Instances of one project (and, through [`DiskApi`], their boot disks).
#[async_trait]
pub(crate) trait GpuApi: DiskApi {
    /// One page of a zone's instances and the next page token ("" at the end).
    async fn list_instances(&self, zone: &str, page_token: &str) -> Result<(Vec<Instance>, String), ProviderError>;
    /// One instance.
    async fn get_instance(&self, zone: &str, name: &str) -> Result<Instance, ProviderError>;
    /// One page of every zone's instances labelled `gantry-stack = label`,
    /// as (zone, instance): `aggregatedList` filtered by the server.
    async fn list_labelled(&self, label: &str, page_token: &str) -> Result<(Vec<(String, Instance)>, String), ProviderError>;
    /// Creates an instance (waits for the operation).
    async fn insert_instance(&self, zone: &str, body: Instance) -> Result<(), ProviderError>;
    /// Replaces the labels; the request carries the fingerprint read last.
    async fn set_labels(&self, zone: &str, name: &str, req: InstancesSetLabelsRequest) -> Result<(), ProviderError>;
    /// Replaces the metadata; `md.fingerprint` is the one read last.
    async fn set_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError>;
    /// Deletes an instance (waits for the operation; absent is fine).
    async fn delete_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError>;
    /// Asks a stopped instance to start (a running one: nothing happens)
    /// without waiting for the operation: `gantry runner wake` holds a role
    /// on the instance only, and reading a zone operation needs
    /// `compute.zoneOperations.get` on the project ("Compute Engine IAM
    /// permissions": operations are project resources). Its error, if the
    /// request itself failed, is returned.
    async fn start_instance(&self, zone: &str, name: &str) -> Result<(), ProviderError>;
    /// `set_metadata` without waiting for the operation, for the same
    /// reason; the caller reads the instance to see it land.
    async fn request_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError>;
    /// The instance's IAM policy (requested at version 3, so conditional
    /// bindings come back whole).
    async fn get_policy(&self, zone: &str, name: &str) -> Result<Policy, ProviderError>;
    /// Replaces the instance's IAM policy; `policy.etag` is the one read last.
    async fn set_policy(&self, zone: &str, name: &str, policy: &Policy) -> Result<(), ProviderError>;
}

/// Compute's `Policy` model and the IAM REST one share their JSON form.
fn convert<A: serde::Serialize, B: serde::de::DeserializeOwned>(op: &'static str, a: &A) -> Result<B, ProviderError> {
    serde_json::to_value(a)
        .and_then(serde_json::from_value)
        .map_err(|e| ProviderError::google(crate::core::error::ErrorClass::Other, "compute", op, format!("unexpected IAM policy: {e}")))
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
        let op = call(&self.stats, "compute", "StartInstance", || self.instances.start().set_project(&self.project).set_zone(zone).set_instance(name).send())
            .await?;
        operation_outcome("StartInstance", &op)
    }

    async fn request_metadata(&self, zone: &str, name: &str, md: Metadata) -> Result<(), ProviderError> {
        let op = call(&self.stats, "compute", "SetMetadata", || {
            self.instances.set_metadata().set_project(&self.project).set_zone(zone).set_instance(name).set_body(md.clone()).send()
        })
        .await?;
        operation_outcome("SetMetadata", &op)
    }

    async fn get_policy(&self, zone: &str, name: &str) -> Result<Policy, ProviderError> {
        let p = call(&self.stats, "compute", "GetInstanceIamPolicy", || {
            self.instances.get_iam_policy().set_project(&self.project).set_zone(zone).set_resource(name).set_options_requested_policy_version(3).send()
        })
        .await?;
        convert("GetInstanceIamPolicy", &p)
    }

    async fn set_policy(&self, zone: &str, name: &str, policy: &Policy) -> Result<(), ProviderError> {
        let p: google_cloud_compute_v1::model::Policy = convert("SetInstanceIamPolicy", policy)?;
        let body = google_cloud_compute_v1::model::ZoneSetPolicyRequest::new().set_policy(p);
        call(&self.stats, "compute", "SetInstanceIamPolicy", || {
            self.instances.set_iam_policy().set_project(&self.project).set_zone(zone).set_resource(name).set_body(body.clone()).send()
        })
        .await
        .map(|_| ())
    }
}
