//! Everything a queue's template and deployment need ([`QueueSpec`]),
//! built from its typed block ([`super::block::Spec`]) and the stack's
//! environment, and the names of the cloud resources derived from it
//! (deterministic, within AWS length limits).

use super::block::{ScalerZip, Spec, DEFAULT_DISK_MIN_FREE_GB};
use crate::core::Env;
use crate::kinds::common::limit;
use gantry_scaler_env::{EnvError, ScalerEnv};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where the AMI comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// An AMI ID.
    Id(String),
    /// An SSM parameter resolved by CloudFormation at deploy time.
    Parameter(String),
}

/// One security-group ingress rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    /// IP protocol: tcp, udp, icmp or -1 (all).
    pub protocol: String,
    /// The first port of the range.
    pub from_port: i64,
    /// The last port of the range.
    pub to_port: i64,
    /// The source CIDR.
    pub cidr: String,
}

/// Names of everything one queue creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Names {
    /// The CloudFormation stack.
    pub cfn_stack: String,
    /// The Auto Scaling group.
    pub asg: String,
    /// The scaler Lambda function.
    pub function: String,
    /// The scaler's IAM role.
    pub scaler_role: String,
    /// The instances' IAM role.
    pub instance_role: String,
    /// The EventBridge rule that runs the scaler on a schedule.
    pub rule: String,
    /// IAM path of the roles.
    pub path: String,
}

/// Scaler function settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    /// arm64 or x86_64.
    pub architecture: String,
    /// Lambda memory, MB.
    pub memory_mb: i64,
    /// Lambda timeout, seconds.
    pub timeout_s: i64,
    /// The scaler's environment contract.
    pub env: ScalerEnv,
    /// The zip to deploy (given, or bundled), when known.
    pub zip: Option<ScalerZip>,
}

/// Everything the template and the deployment need.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    /// The queue's block label.
    pub queue: String,
    /// The stack the queue belongs to.
    pub stack: String,
    /// The AWS region.
    pub region: String,
    /// The AWS account.
    pub account_id: String,
    /// Every resource name the queue derives.
    pub names: Names,
    /// EC2 instance types, in priority order.
    pub instance_types: Vec<String>,
    /// Share of on-demand instances above the base (0-100).
    pub on_demand_percentage: i64,
    /// The Spot allocation strategy.
    pub spot_allocation_strategy: String,
    /// The group's smallest size.
    pub min_size: i64,
    /// The group's largest size.
    pub max_size: i64,
    /// Agents (or runners) per instance.
    pub agents_per_instance: i64,
    /// One job per instance, then the instance terminates itself.
    pub terminate_after_job: bool,
    /// How long a running job may take to finish when the instance goes away.
    pub drain_seconds: i64,
    /// Seconds after boot by which the agent must have registered.
    pub registration_grace_seconds: i64,
    /// Spot: replace instances at elevated interruption risk ahead of time.
    pub capacity_rebalance: bool,
    /// Root volume size, GiB.
    pub root_volume_gb: i64,
    /// Root volume type (gp3, gp2, io1, io2).
    pub root_volume_type: String,
    /// Root volume IOPS (gp3, io1, io2).
    pub root_volume_iops: Option<i64>,
    /// MiB/s (gp3).
    pub root_volume_throughput: Option<i64>,
    /// Instance-store NVMe, when the type has it, holds Docker's data and the builds.
    pub use_instance_storage: bool,
    /// Below this much free space, Docker is pruned before a job (0: no guard).
    pub disk_min_free_gb: i64,
    /// The AMI.
    pub image: Image,
    /// SSM parameter with the Buildkite agent token.
    pub token_parameter: String,
    /// Subnets the instances launch in.
    pub subnets: Vec<String>,
    /// The subnets' VPC (the security group's).
    pub vpc_id: Option<String>,
    /// Security-group ingress rules.
    pub ingress: Vec<Ingress>,
    /// Inline policies of the instance role: (name, document).
    pub instance_policies: Vec<(String, Value)>,
    /// Managed policies attached to the instance role.
    pub managed_policy_arns: Vec<String>,
    /// Shell appended to the agent bootstrap.
    pub extra_user_data: String,
    /// Agent tags besides queue=NAME.
    pub agent_tags: BTreeMap<String, String>,
    /// Environment of the agent service (plain text in the launch template).
    pub agent_env: BTreeMap<String, String>,
    /// Build secrets by environment variable name (values stay in the cloud).
    pub agent_secrets: super::secrets::Secrets,
    /// The scaler function.
    pub scaler: Scaler,
    /// Tags on every resource.
    pub tags: BTreeMap<String, String>,
    /// A GitHub Actions runner queue (`github { }`); `None`: Buildkite agents.
    pub github: Option<super::github::GithubSpec>,
}

/// Characters CloudFormation stack names allow.
fn dashed(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

/// Derives every resource name of a queue.
pub fn names(stack: &str, queue: &str) -> Names {
    let base = dashed(&format!("gantry-{stack}-{queue}"));
    Names {
        cfn_stack: limit(&base, 128),
        asg: limit(&base, 255),
        function: limit(&format!("{base}-scaler"), 64),
        scaler_role: limit(&dashed(&format!("{stack}-{queue}-scaler")), 64),
        instance_role: limit(&dashed(&format!("{stack}-{queue}-agent")), 64),
        rule: limit(&format!("{base}-scaler"), 64),
        // Outside /gantry/<stack>/, which belongs to ci_role.
        path: format!("/gantry-agents/{stack}/"),
    }
}

/// Runners are named `PREFIX-INSTANCE_ID`; GitHub takes names up to 64 characters.
pub fn runner_prefix(stack: &str, queue: &str) -> String {
    limit(&dashed(&format!("gantry-{stack}-{queue}")), 40)
}

/// The scaler's environment from a queue's attributes, validated by the
/// contract the scaler itself reads it with.
pub fn scaler_env(block: &Spec, asg_name: &str, stack: &str, instance_arn_prefix: &str) -> Result<ScalerEnv, EnvError> {
    let scaler = block.scaler();
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    let mut give = |var: &str, value: Option<String>| {
        if let Some(v) = value {
            given.insert(var.to_string(), v);
        }
    };
    give("METRICS_ENDPOINT", scaler.metrics_endpoint.clone());
    give("POLL_INTERVAL", scaler.poll_interval.clone());
    give("SCALE_OUT_FACTOR", scaler.scale_out_factor.map(|f| f.to_string()));
    give("INSTANCE_BUFFER", scaler.instance_buffer.map(|n| n.to_string()));
    give("SCALE_IN_STEP", scaler.scale_in_step.map(|n| n.to_string()));
    give("DISABLE_SCALE_IN", scaler.disable_scale_in.map(|b| b.to_string()));
    give("INCLUDE_WAITING", scaler.include_waiting.map(|b| b.to_string()));
    give("AGENTS_PER_INSTANCE", block.agents_per_instance.map(|n| n.to_string()));
    give("SCALE_IN_IDLE", block.scale_in_idle.clone());
    let queue = block.name.clone();
    given.insert("ASG_NAME".into(), asg_name.to_string());
    given.insert("QUEUE".into(), queue.clone());
    match super::github::spec(block, stack, &queue) {
        Some(g) => {
            let grace = registration_grace(block).unwrap_or(DEFAULT_REGISTRATION_GRACE) as u64;
            super::github::scaler_env(&g, &runner_prefix(stack, &queue), grace, instance_arn_prefix).write_vars(&mut given);
        }
        None => {
            given.insert("AGENT_TOKEN_PARAMETER".into(), block.agent_token_parameter.clone().unwrap_or_default());
        }
    }
    ScalerEnv::from_lookup(|k| given.get(k).cloned())
}

/// How long after boot an agent may take to register when nothing is said.
pub const DEFAULT_REGISTRATION_GRACE: i64 = 900;

/// A duration attribute in seconds, `default` when unset, within `[lo, hi]` seconds.
fn bounded_seconds(given: Option<&str>, default: i64, (lo, hi): (i64, i64), example: &str, outside: &str) -> Result<i64, String> {
    let Some(text) = given else { return Ok(default) };
    let d = humantime::parse_duration(text).map_err(|e| format!("\"{text}\" is not a duration (e.g. {example}): {e}"))?;
    let secs = d.as_secs() as i64;
    if (lo..=hi).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("{text} is outside {outside}"))
    }
}

/// `registration_grace` in seconds (5m-1h: a boot installs Docker and the agent).
pub fn registration_grace(block: &Spec) -> Result<i64, String> {
    bounded_seconds(block.registration_grace.as_deref(), DEFAULT_REGISTRATION_GRACE, (300, 3600), "15m", "5m..1h")
}

/// The drain bound when none is given.
pub const DEFAULT_DRAIN_SECONDS: i64 = 1800;

/// `drain_timeout` in seconds: 1 minute to 118 minutes (a lifecycle hook's
/// heartbeat may last 7200 s, and the hook gets two more minutes).
pub fn drain_seconds(block: &Spec) -> Result<i64, String> {
    bounded_seconds(block.drain_timeout.as_deref(), DEFAULT_DRAIN_SECONDS, (60, 7080), "30m", "1m..1h58m (a lifecycle hook waits at most 2h)")
}

/// Everything the template and the deployment need, from the block.
pub fn build(block: &Spec, env: &Env) -> QueueSpec {
    let queue = block.name.clone();
    let region = block.region.clone().unwrap_or_else(|| env.region.clone());
    let scaler_block = block.scaler();
    let names = names(&env.stack, &queue);
    let types = block.instance_types.clone();
    let image = match (&block.image_id, &block.image_ssm_parameter) {
        (Some(id), _) => Image::Id(id.clone()),
        (None, Some(p)) => Image::Parameter(p.clone()),
        (None, None) => {
            let nvidia = types.iter().any(|t| super::images::accelerator(t) == super::images::Accelerator::Nvidia);
            Image::Parameter(super::images::default_parameter(block.arm64(), nvidia).to_string())
        }
    };
    let ingress = block
        .ingress
        .iter()
        .map(|r| Ingress {
            protocol: r.protocol.clone().unwrap_or_else(|| "tcp".into()),
            from_port: r.port,
            to_port: r.to_port.unwrap_or(r.port),
            cidr: r.cidr.clone(),
        })
        .collect();
    let instance_policies = block.instance_policies.iter().map(|p| (p.name.clone(), p.document.clone())).collect();
    let token = block.agent_token_parameter.clone().unwrap_or_default();
    // check() has reported any value the contract refuses; what is left is valid.
    let arn_prefix = super::github::instance_arn_prefix(&region, &env.account_id);
    let env_vars = scaler_env(block, &names.asg, &env.stack, &arn_prefix).unwrap_or_else(|_| ScalerEnv::new(&names.asg, &queue, &token));
    let github = super::github::spec(block, &env.stack, &queue);
    QueueSpec {
        queue,
        stack: env.stack.clone(),
        region,
        account_id: env.account_id.clone(),
        names,
        instance_types: types,
        on_demand_percentage: block.on_demand_percentage.unwrap_or(100),
        spot_allocation_strategy: block.spot_allocation_strategy.clone(),
        min_size: block.min_size,
        max_size: block.max_size,
        agents_per_instance: block.agents_per_instance.unwrap_or_default(),
        // A just-in-time runner takes one job: its instance always goes after it.
        terminate_after_job: github.is_some() || block.terminate_after_job,
        drain_seconds: drain_seconds(block).unwrap_or(DEFAULT_DRAIN_SECONDS),
        registration_grace_seconds: registration_grace(block).unwrap_or(DEFAULT_REGISTRATION_GRACE),
        capacity_rebalance: block.capacity_rebalance,
        root_volume_gb: block.root_volume_gb,
        root_volume_type: block.root_volume_type.clone().unwrap_or_default(),
        root_volume_iops: block.root_volume_iops,
        root_volume_throughput: block.root_volume_throughput,
        use_instance_storage: block.use_instance_storage.unwrap_or(true),
        disk_min_free_gb: block.disk_min_free_gb.unwrap_or(DEFAULT_DISK_MIN_FREE_GB),
        image,
        token_parameter: token,
        subnets: block.subnets.clone(),
        vpc_id: block.vpc_id.clone(),
        ingress,
        instance_policies,
        managed_policy_arns: block.managed_policy_arns.clone(),
        extra_user_data: block.extra_user_data.clone(),
        agent_tags: block.agent_tags.clone(),
        agent_env: block.agent_env.clone(),
        // check() refused sources that do not parse.
        agent_secrets: block.agent_secrets.iter().filter_map(|(k, v)| super::secrets::parse(v).ok().map(|s| (k.clone(), s))).collect(),
        scaler: Scaler {
            architecture: scaler_block.architecture.clone().unwrap_or_default(),
            memory_mb: scaler_block.memory_mb.unwrap_or(128),
            timeout_s: scaler_block.timeout_s.unwrap_or(60),
            env: env_vars,
            zip: scaler_block.zip.clone(),
        },
        tags: block.tags.clone(),
        github,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_bounded() {
        let n = names("ci", "gpu_1_queue");
        assert_eq!(n.cfn_stack, "gantry-ci-gpu-1-queue");
        assert_eq!(n.function, "gantry-ci-gpu-1-queue-scaler");
        let long = names("a-very-long-stack-name-for-testing", "an_even_longer_queue_name_that_goes_on");
        assert!(long.function.len() <= 64 && long.scaler_role.len() <= 64 && long.rule.len() <= 64);
        assert_ne!(long.function, names("a-very-long-stack-name-for-testing", "an_even_longer_queue_name_that_goes_on2").function);
    }
}
