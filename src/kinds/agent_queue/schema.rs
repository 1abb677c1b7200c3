//! The `agent_queue` block's schema (attributes, defaults, ranges, docs)
//! and the fields of its comparable state.

use super::{github, spec};
use crate::core::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::core::Field;
// The scaler's own defaults and ranges (one definition for both sides).
use gantry_scaler_env::{defaults as scaler_defaults, ranges as scaler_ranges};

pub(super) static INGRESS: Schema = Schema {
    attrs: &[
        Attr::new("port", Ty::Int, "First port.").required().range(-1, 65535),
        Attr::new("to_port", Ty::Int, "Last port (default: port).").range(-1, 65535),
        Attr::new("protocol", Ty::String, "tcp, udp, icmp or -1 (all).").default(DefaultValue::Str("tcp")).one_of(&["tcp", "udp", "icmp", "-1"]),
        Attr::new("cidr", Ty::String, "Source CIDR, e.g. 10.0.0.0/8.").required(),
    ],
    blocks: &[],
};

pub(super) static SCALER: Schema = Schema {
    attrs: &[
        Attr::new("zip", Ty::BinaryFile, "Scaler Lambda zip to deploy instead of the one bundled with gantry (build: scripts/build-scaler.sh)."),
        Attr::new("architecture", Ty::String, "Lambda architecture of the zip.").default(DefaultValue::Str("arm64")).one_of(&["arm64", "x86_64"]),
        Attr::new("memory_mb", Ty::Int, "Lambda memory.").default(DefaultValue::Int(128)).range(128, 10240),
        Attr::new("timeout_s", Ty::Int, "Lambda timeout; the scaler polls until shortly before it.").default(DefaultValue::Int(60)).range(10, 900),
        Attr::new("poll_interval", Ty::String, "Time between polls within one invocation.").default(DefaultValue::Str(scaler_defaults::POLL_INTERVAL)),
        Attr::new("scale_out_factor", Ty::Number, "Fraction of missing capacity added per decision (0.01-1).").default(DefaultValue::Int(1)),
        Attr::new("instance_buffer", Ty::Int, "Spare instances while there is work.")
            .default(DefaultValue::Int(scaler_defaults::INSTANCE_BUFFER as i64))
            .range(scaler_ranges::INSTANCE_BUFFER.0 as i64, scaler_ranges::INSTANCE_BUFFER.1 as i64),
        Attr::new("scale_in_step", Ty::Int, "Most instances removed per step.")
            .default(DefaultValue::Int(scaler_defaults::SCALE_IN_STEP as i64))
            .range(scaler_ranges::SCALE_IN_STEP.0 as i64, scaler_ranges::SCALE_IN_STEP.1 as i64),
        Attr::new("disable_scale_in", Ty::Bool, "Never lower desired capacity.").default(DefaultValue::Bool(false)),
        Attr::new("include_waiting", Ty::Bool, "Count waiting jobs as needing agents.").default(DefaultValue::Bool(false)),
        Attr::new("metrics_endpoint", Ty::String, "Agent metrics API.").default(DefaultValue::Str(scaler_defaults::METRICS_ENDPOINT)),
    ],
    blocks: &[],
};

pub(super) static SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("name", Ty::String, "Queue name agents are tagged with (default: the block label).").forces_replacement(),
        Attr::new("region", Ty::String, "AWS region (default: the stack's; others must be listed in aws { extra_regions }).").forces_replacement(),
        Attr::new("instance_types", Ty::ListOfString, "Instance types; the first is primary, the rest are fallbacks.").required(),
        Attr::new("on_demand_percentage", Ty::Int, "On-demand share above base capacity.").default(DefaultValue::Int(100)).range(0, 100),
        Attr::new("spot_allocation_strategy", Ty::String, "Spot allocation strategy.").default(DefaultValue::Str("price-capacity-optimized")).one_of(&[
            "price-capacity-optimized",
            "capacity-optimized",
            "capacity-optimized-prioritized",
            "lowest-price",
        ]),
        Attr::new("min_size", Ty::Int, "Fewest instances.").default(DefaultValue::Int(0)).range(0, 10000),
        Attr::new("max_size", Ty::Int, "Most instances.").required().range(0, 10000),
        Attr::new("agents_per_instance", Ty::Int, "Agents per instance.")
            .default(DefaultValue::Int(scaler_defaults::AGENTS_PER_INSTANCE as i64))
            .range(scaler_ranges::AGENTS_PER_INSTANCE.0 as i64, scaler_ranges::AGENTS_PER_INSTANCE.1 as i64),
        Attr::new(
            "terminate_after_job",
            Ty::Bool,
            "One job per instance (untrusted code never shares a machine): each agent disconnects after its job, then the instance terminates itself and lowers the group's desired capacity in the same call.",
        )
        .default(DefaultValue::Bool(false)),
        Attr::new(
            "untrusted_code",
            Ty::Bool,
            "The queue runs code nobody reviewed yet (pull requests, forks): the lint then refuses write permissions, secrets and shared machines unless waived (GANTRY-QUEUE-001..003).",
        )
        .default(DefaultValue::Bool(false)),
        Attr::new(
            "drain_timeout",
            Ty::String,
            "When the instance goes away (scale-in, spot notice, rebalance), how long the running job may take to finish before it is cancelled (1m-1h58m).",
        )
        .default(DefaultValue::Str("30m")),
        Attr::new(
            "registration_grace",
            Ty::String,
            "An instance whose agent has not registered this long after boot reports itself unhealthy, so the group replaces it (5m-1h).",
        )
        .default(DefaultValue::Str("15m")),
        Attr::new("capacity_rebalance", Ty::Bool, "Spot: let Auto Scaling replace instances at elevated interruption risk ahead of time (they drain first).")
            .default(DefaultValue::Bool(false)),
        Attr::new("root_volume_gb", Ty::Int, "Root volume size.").default(DefaultValue::Int(250)).range(8, 16384),
        Attr::new("root_volume_type", Ty::String, "Root volume type.").default(DefaultValue::Str("gp3")).one_of(&["gp3", "gp2", "io2", "io1"]),
        Attr::new("root_volume_iops", Ty::Int, "Root volume IOPS (gp3 3000-16000, io1 100-64000, io2 100-256000; required for io1/io2).")
            .range(100, 256000),
        Attr::new("root_volume_throughput", Ty::Int, "Root volume throughput in MiB/s (gp3 only, 125-1000).").range(125, 1000),
        Attr::new(
            "use_instance_storage",
            Ty::Bool,
            "When the instance type has instance-store NVMe, format it (striped when several) and put Docker's data root and the builds there.",
        )
        .default(DefaultValue::Bool(true)),
        Attr::new(
            "disk_min_free_gb",
            Ty::Int,
            "Before each job, below this much free space on Docker's disk, prune Docker; if still below, fail the job with the reason (0: no guard).",
        )
        .default(DefaultValue::Int(spec::DEFAULT_DISK_MIN_FREE_GB))
        .range(0, 10000),
        Attr::new("image_id", Ty::String, "AMI id (or image_ssm_parameter; default: see image_ssm_parameter)."),
        Attr::new(
            "image_ssm_parameter",
            Ty::String,
            "SSM parameter holding the AMI id, resolved at deploy. Default: Amazon Linux 2023 for CPU types, the Deep Learning Base OSS NVIDIA Driver GPU AMI (Amazon Linux 2023) for NVIDIA GPU types, for the types' architecture.",
        ),
        Attr::new(
            "gpu_image_check",
            Ty::Bool,
            "Refuse a plain Amazon Linux image for NVIDIA GPU types (it has no driver); false when extra_user_data installs one.",
        )
        .default(DefaultValue::Bool(true)),
        Attr::new(
            "agent_token_parameter",
            Ty::String,
            "SSM parameter (SecureString) with the Buildkite agent token; never read into the plan. Required unless github { } makes the agents GitHub Actions runners.",
        ),
        Attr::new("subnets", Ty::ListOfString, "Subnets (default: the default VPC's, one per AZ).").default(DefaultValue::EmptyList),
        Attr::new("vpc_id", Ty::String, "VPC of the subnets (required with subnets)."),
        Attr::new("instance_policies", Ty::PolicyFiles, "Inline policies for the agent instances.").default(DefaultValue::EmptyList),
        Attr::new("policy_vars", Ty::Object, "Values for ${policy.NAME} in instance_policies."),
        Attr::new("managed_policy_arns", Ty::ListOfString, "Managed policies for the agent instances.").default(DefaultValue::EmptyList),
        Attr::new("extra_user_data", Ty::String, "Shell appended to the agent bootstrap.").default(DefaultValue::Str("")),
        Attr::new("agent_tags", Ty::MapOfString, "Agent tags besides queue=NAME.").default(DefaultValue::EmptyMap),
        Attr::new("agent_env", Ty::MapOfString, "Environment of the agent service (plain text in the launch template: no secrets).").default(DefaultValue::EmptyMap),
        Attr::new(
            "agent_secrets",
            Ty::MapOfString,
            "Build secrets: NAME = \"ssm:/param\" or \"secretsmanager:NAME-or-ARN\", fetched at boot into root-only files and exported to each job; only names reach the template, the plan and logs; the agent redacts the values from job logs.",
        )
        .default(DefaultValue::EmptyMap),
        Attr::new("scale_in_idle", Ty::String, "Surplus time before the scaler removes instances.").default(DefaultValue::Str(scaler_defaults::SCALE_IN_IDLE)),
        Attr::new("tags", Ty::MapOfString, "Tags on the stack and its resources.").default(DefaultValue::EmptyMap),
    ],
    blocks: &[
        NestedBlock { name: "ingress", schema: &INGRESS, repeated: true, implied: false, doc: "Security group ingress rules (none by default)." },
        NestedBlock {
            name: "github",
            schema: &github::GITHUB,
            repeated: false,
            implied: false,
            doc: "The agents are GitHub Actions runners: one just-in-time runner per instance, registered by the scaler with a GitHub App (see agent_queue::github).",
        },
        NestedBlock {
            name: "scaler",
            schema: &SCALER,
            repeated: false,
            implied: true,
            doc: "The scaler Lambda: tuning, and a zip to deploy instead of the bundled one.",
        },
    ],
};

pub(super) static FIELDS: &[Field] = &[
    Field::replace("region"),
    Field::replace("stack_name"),
    Field::replace("stack_status"),
    Field::new("template"),
    Field::new("tags"),
    Field::new("function"),
];
