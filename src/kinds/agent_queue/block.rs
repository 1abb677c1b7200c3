//! The `agent_queue` block as evaluated, typed: parsed once at the kind's
//! boundary ([`crate::core::TypedKind`]), then the rules, the queue's
//! derived spec ([`super::spec::QueueSpec`]), the scaler's environment and
//! the lint read its fields. The loader has checked every attribute's type
//! and filled the schema's defaults ([`super::schema`]), so an unset
//! optional attribute is `None` and everything else has its value.

use crate::kinds::common::github_runner::RunnerScope;
use crate::kinds::common::PolicyFile;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The evaluated block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Spec {
    pub name: String,
    pub region: Option<String>,
    pub instance_types: Vec<String>,
    pub on_demand_percentage: Option<i64>,
    pub spot_allocation_strategy: String,
    pub min_size: i64,
    pub max_size: i64,
    pub agents_per_instance: Option<i64>,
    pub terminate_after_job: bool,
    pub untrusted_code: bool,
    pub drain_timeout: Option<String>,
    pub registration_grace: Option<String>,
    pub capacity_rebalance: bool,
    pub root_volume_gb: i64,
    pub root_volume_type: Option<String>,
    pub root_volume_iops: Option<i64>,
    pub root_volume_throughput: Option<i64>,
    pub use_instance_storage: Option<bool>,
    pub disk_min_free_gb: Option<i64>,
    pub image_id: Option<String>,
    pub image_ssm_parameter: Option<String>,
    pub gpu_image_check: Option<bool>,
    pub agent_token_parameter: Option<String>,
    pub subnets: Vec<String>,
    pub vpc_id: Option<String>,
    pub instance_policies: Vec<PolicyFile>,
    pub managed_policy_arns: Vec<String>,
    pub extra_user_data: String,
    pub agent_tags: BTreeMap<String, String>,
    pub agent_env: BTreeMap<String, String>,
    pub agent_secrets: BTreeMap<String, String>,
    pub scale_in_idle: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub ingress: Vec<IngressBlock>,
    pub github: Option<GithubBlock>,
    pub scaler: Option<ScalerBlock>,
}

/// One `ingress { }` rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IngressBlock {
    pub port: i64,
    pub to_port: Option<i64>,
    pub protocol: Option<String>,
    pub cidr: String,
}

/// The `scaler { }` block: the function's settings and the scaler's tuning.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ScalerBlock {
    /// `{"path", "sha256", "size", "source"}` of a zip (given, or bundled).
    pub zip: Option<ScalerZip>,
    pub architecture: Option<String>,
    pub memory_mb: Option<i64>,
    pub timeout_s: Option<i64>,
    pub poll_interval: Option<String>,
    pub scale_out_factor: Option<f64>,
    pub instance_buffer: Option<i64>,
    pub scale_in_step: Option<i64>,
    pub disable_scale_in: Option<bool>,
    pub include_waiting: Option<bool>,
    pub metrics_endpoint: Option<String>,
}

/// A scaler zip as the loader (or [`super::bundled`]) describes it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ScalerZip {
    pub path: Option<String>,
    pub sha256: Option<String>,
    pub source: Option<String>,
}

impl Spec {
    /// The scaler block (its defaults when the block has none).
    pub fn scaler(&self) -> ScalerBlock {
        self.scaler.clone().unwrap_or_default()
    }

    /// Whether the queue's types are Graviton (arm64).
    pub fn arm64(&self) -> bool {
        self.instance_types.first().is_some_and(|t| super::graviton(t))
    }
}

/// The evaluated `github { }` block (the schema's defaults filled).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct GithubBlock {
    #[serde(flatten)]
    pub scope: RunnerScope,
    pub repositories: Vec<String>,
    pub credentials: String,
    pub runner_group_id: Option<u64>,
    pub runner_version: Option<String>,
    pub queued_job_timeout: Option<String>,
    pub queued_job_timeout_action: Option<String>,
    pub webhook: Option<bool>,
}
