//! The `agent_queue` block as evaluated, typed: parsed once at the kind's
//! boundary ([`crate::core::TypedKind`]), then the rules, the queue's
//! derived spec ([`super::spec::QueueSpec`]), the scaler's environment and
//! the lint read its fields. The block's schema is derived from these types
//! (`#[derive(Schema)]`: each field's doc comment, default and limits), and
//! the loader has checked every attribute against it and filled its
//! defaults, so an unset optional attribute is `None` and everything else
//! has its value.

use crate::kinds::common::github_runner::{RunnerScope, DEFAULT_RUNNER_VERSION};
use crate::kinds::common::PolicyFile;
use gantry_schema_derive::Schema;
// The scaler's own defaults and ranges (one definition for both sides).
use gantry_scaler_env::{defaults as scaler_defaults, ranges as scaler_ranges};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The disk guard's threshold when none is given.
pub const DEFAULT_DISK_MIN_FREE_GB: i64 = 20;

/// The evaluated block; each field is an attribute, its doc comment the
/// attribute's line in `gantry docs`.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct Spec {
    /// Queue name agents are tagged with (default: the block label).
    #[schema(forces_replacement)]
    pub name: String,
    /// AWS region (default: the stack's; others must be listed in aws { extra_regions }).
    #[schema(forces_replacement)]
    pub region: Option<String>,
    /// Instance types; the first is primary, the rest are fallbacks.
    #[schema(required)]
    pub instance_types: Vec<String>,
    /// On-demand share above base capacity.
    #[schema(default = 100, range(0, 100))]
    pub on_demand_percentage: Option<i64>,
    /// Spot allocation strategy.
    #[schema(default = "price-capacity-optimized", one_of("price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"))]
    pub spot_allocation_strategy: String,
    /// Fewest instances.
    #[schema(default = 0, range(0, 10000))]
    pub min_size: i64,
    /// Most instances.
    #[schema(required, range(0, 10000))]
    pub max_size: i64,
    /// Agents per instance.
    #[schema(default = scaler_defaults::AGENTS_PER_INSTANCE as i64, range(scaler_ranges::AGENTS_PER_INSTANCE.0 as i64, scaler_ranges::AGENTS_PER_INSTANCE.1 as i64))]
    pub agents_per_instance: Option<i64>,
    /// One job per instance (untrusted code never shares a machine): each agent disconnects after its job, then the instance terminates itself and lowers the group's desired capacity in the same call.
    #[schema(default = false)]
    pub terminate_after_job: bool,
    /// The queue runs code nobody reviewed yet (pull requests, forks): the lint then refuses write permissions, secrets and shared machines unless waived (GANTRY-QUEUE-001..003).
    #[schema(default = false)]
    pub untrusted_code: bool,
    /// When the instance goes away (scale-in, spot notice, rebalance), how long the running job may take to finish before it is cancelled (1m-1h58m).
    #[schema(default = "30m")]
    pub drain_timeout: Option<String>,
    /// An instance whose agent has not registered this long after boot reports itself unhealthy, so the group replaces it (5m-1h).
    #[schema(default = "15m")]
    pub registration_grace: Option<String>,
    /// Spot: let Auto Scaling replace instances at elevated interruption risk ahead of time (they drain first).
    #[schema(default = false)]
    pub capacity_rebalance: bool,
    /// Root volume size.
    #[schema(default = 250, range(8, 16384))]
    pub root_volume_gb: i64,
    /// Root volume type.
    #[schema(default = "gp3", one_of("gp3", "gp2", "io2", "io1"))]
    pub root_volume_type: Option<String>,
    /// Root volume IOPS (gp3 3000-16000, io1 100-64000, io2 100-256000; required for io1/io2).
    #[schema(range(100, 256000))]
    pub root_volume_iops: Option<i64>,
    /// Root volume throughput in MiB/s (gp3 only, 125-1000).
    #[schema(range(125, 1000))]
    pub root_volume_throughput: Option<i64>,
    /// When the instance type has instance-store NVMe, format it (striped when several) and put Docker's data root and the builds there.
    #[schema(default = true)]
    pub use_instance_storage: Option<bool>,
    /// Before each job, below this much free space on Docker's disk, prune Docker; if still below, fail the job with the reason (0: no guard).
    #[schema(default = DEFAULT_DISK_MIN_FREE_GB, range(0, 10000))]
    pub disk_min_free_gb: Option<i64>,
    /// AMI id (or image_ssm_parameter; default: see image_ssm_parameter).
    pub image_id: Option<String>,
    /// SSM parameter holding the AMI id, resolved at deploy. Default: Amazon Linux 2023 for CPU types, the Deep Learning Base OSS NVIDIA Driver GPU AMI (Amazon Linux 2023) for NVIDIA GPU types, for the types' architecture.
    pub image_ssm_parameter: Option<String>,
    /// Refuse a plain Amazon Linux image for NVIDIA GPU types (it has no driver); false when extra_user_data installs one.
    #[schema(default = true)]
    pub gpu_image_check: Option<bool>,
    /// SSM parameter (SecureString) with the Buildkite agent token; never read into the plan. Required unless github { } makes the agents GitHub Actions runners.
    pub agent_token_parameter: Option<String>,
    /// Subnets (default: the default VPC's, one per AZ).
    #[schema(default = empty)]
    pub subnets: Vec<String>,
    /// VPC of the subnets (required with subnets).
    pub vpc_id: Option<String>,
    /// Inline policies for the agent instances.
    #[schema(ty = PolicyFiles, default = empty)]
    pub instance_policies: Vec<PolicyFile>,
    /// Values for ${policy.NAME} in instance_policies.
    // The loader interpolates them into instance_policies; the kind reads the result.
    #[schema(ty = Object)]
    pub policy_vars: Option<serde_json::Value>,
    /// Managed policies for the agent instances.
    #[schema(default = empty)]
    pub managed_policy_arns: Vec<String>,
    /// Shell appended to the agent bootstrap.
    #[schema(default = "")]
    pub extra_user_data: String,
    /// Agent tags besides queue=NAME.
    #[schema(default = empty)]
    pub agent_tags: BTreeMap<String, String>,
    /// Environment of the agent service (plain text in the launch template: no secrets).
    #[schema(default = empty)]
    pub agent_env: BTreeMap<String, String>,
    /// Build secrets: NAME = "ssm:/param" or "secretsmanager:NAME-or-ARN", fetched at boot into root-only files and exported to each job; only names reach the template, the plan and logs; the agent redacts the values from job logs.
    #[schema(default = empty)]
    pub agent_secrets: BTreeMap<String, String>,
    /// Surplus time before the scaler removes instances.
    #[schema(default = scaler_defaults::SCALE_IN_IDLE)]
    pub scale_in_idle: Option<String>,
    /// Tags on the stack and its resources.
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
    /// Security group ingress rules (none by default).
    #[schema(block)]
    pub ingress: Vec<IngressBlock>,
    /// The agents are GitHub Actions runners: one just-in-time runner per instance, registered by the scaler with a GitHub App (see agent_queue::github).
    #[schema(block)]
    pub github: Option<GithubBlock>,
    /// The scaler Lambda: tuning, and a zip to deploy instead of the bundled one.
    #[schema(block, implied)]
    pub scaler: Option<ScalerBlock>,
}

/// One `ingress { }` rule.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct IngressBlock {
    /// First port.
    #[schema(required, range(-1, 65535))]
    pub port: i64,
    /// Last port (default: port).
    #[schema(range(-1, 65535))]
    pub to_port: Option<i64>,
    /// tcp, udp, icmp or -1 (all).
    #[schema(default = "tcp", one_of("tcp", "udp", "icmp", "-1"))]
    pub protocol: Option<String>,
    /// Source CIDR, e.g. 10.0.0.0/8.
    #[schema(required)]
    pub cidr: String,
}

/// The `scaler { }` block: the function's settings and the scaler's tuning.
#[derive(Debug, Clone, Default, Deserialize, Schema)]
#[serde(default)]
pub struct ScalerBlock {
    /// Scaler Lambda zip to deploy instead of the one bundled with gantry (build: scripts/build-scaler.sh).
    // `{"path", "sha256", "size", "source"}` of a zip (given, or bundled).
    #[schema(ty = BinaryFile)]
    pub zip: Option<ScalerZip>,
    /// Lambda architecture of the zip.
    #[schema(default = "arm64", one_of("arm64", "x86_64"))]
    pub architecture: Option<String>,
    /// Lambda memory.
    #[schema(default = 128, range(128, 10240))]
    pub memory_mb: Option<i64>,
    /// Lambda timeout; the scaler polls until shortly before it.
    #[schema(default = 60, range(10, 900))]
    pub timeout_s: Option<i64>,
    /// Time between polls within one invocation.
    #[schema(default = scaler_defaults::POLL_INTERVAL)]
    pub poll_interval: Option<String>,
    /// Fraction of missing capacity added per decision (0.01-1).
    #[schema(default = 1)]
    pub scale_out_factor: Option<f64>,
    /// Spare instances while there is work.
    #[schema(default = scaler_defaults::INSTANCE_BUFFER as i64, range(scaler_ranges::INSTANCE_BUFFER.0 as i64, scaler_ranges::INSTANCE_BUFFER.1 as i64))]
    pub instance_buffer: Option<i64>,
    /// Most instances removed per step.
    #[schema(default = scaler_defaults::SCALE_IN_STEP as i64, range(scaler_ranges::SCALE_IN_STEP.0 as i64, scaler_ranges::SCALE_IN_STEP.1 as i64))]
    pub scale_in_step: Option<i64>,
    /// Never lower desired capacity.
    #[schema(default = false)]
    pub disable_scale_in: Option<bool>,
    /// Count waiting jobs as needing agents.
    #[schema(default = false)]
    pub include_waiting: Option<bool>,
    /// Agent metrics API.
    #[schema(default = scaler_defaults::METRICS_ENDPOINT)]
    pub metrics_endpoint: Option<String>,
}

/// A scaler zip as the loader (or [`super::bundled`]) describes it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ScalerZip {
    /// The zip's path (relative to the stack directory, or the bundled one's).
    pub path: Option<String>,
    /// The zip's SHA-256, base64 (as Lambda reports CodeSha256).
    pub sha256: Option<String>,
    /// Where the zip came from, for the plan's review line.
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
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct GithubBlock {
    /// The repository or organisation the runners register with, and their labels.
    #[serde(flatten)]
    pub scope: RunnerScope,
    /// Organisation runners: the repositories whose queued jobs the scaler polls (webhooks cover every repository).
    #[schema(default = empty)]
    pub repositories: Vec<String>,
    /// SSM path with the GitHub App's app_id, installation_id, private_key (PEM) and webhook_secret (SecureStrings). Only the scaler reads them; the App needs the Self-hosted runners (organisation) or Administration (repository) write permission, plus Actions write to cancel runs.
    #[schema(required)]
    pub credentials: String,
    /// Organisation runners: the runner group (1: Default).
    #[schema(default = 1, range(1, i64::MAX))]
    pub runner_group_id: Option<u64>,
    /// actions/runner release installed at boot.
    #[schema(default = DEFAULT_RUNNER_VERSION)]
    pub runner_version: Option<String>,
    /// Jobs for these labels queued longer than this are cancelled or reported (queued_job_timeout_action); 0s: never. GitHub's timeout-minutes does not count queue time.
    #[schema(default = "0s")]
    pub queued_job_timeout: Option<String>,
    /// cancel (the job's workflow run) or report (a warning in the scaler log per job; nothing cancelled).
    #[schema(default = "cancel", one_of("cancel", "report"))]
    pub queued_job_timeout_action: Option<String>,
    /// Give the scaler a public function URL for the App's workflow_job webhook (every delivery's signature is checked); false: the scaler only polls.
    #[schema(default = true)]
    pub webhook: Option<bool>,
}
