//! A queue's evaluated attributes as a typed spec, and the names of the
//! cloud resources derived from it (deterministic, within AWS length limits).

use crate::core::{text, Env, State};
use gantry_scaler_env::{EnvError, ScalerEnv};
use serde_json::Value;
use sha2::Digest;
use std::collections::BTreeMap;

/// Where the AMI comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    Id(String),
    /// An SSM parameter resolved by CloudFormation at deploy time.
    Parameter(String),
}

/// One security-group ingress rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    pub protocol: String,
    pub from_port: i64,
    pub to_port: i64,
    pub cidr: String,
}

/// Names of everything one queue creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Names {
    pub cfn_stack: String,
    pub asg: String,
    pub function: String,
    pub scaler_role: String,
    pub instance_role: String,
    pub rule: String,
    /// IAM path of the roles.
    pub path: String,
}

/// Scaler function settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    pub architecture: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    /// The scaler's environment contract.
    pub env: ScalerEnv,
    /// `{"path", "sha256", "size"}` of the zip, when given.
    pub zip: Option<Value>,
}

/// Everything the template and the deployment need.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    pub queue: String,
    pub stack: String,
    pub region: String,
    pub account_id: String,
    pub names: Names,
    pub instance_types: Vec<String>,
    pub on_demand_percentage: i64,
    pub spot_allocation_strategy: String,
    pub min_size: i64,
    pub max_size: i64,
    pub agents_per_instance: i64,
    /// One job per instance, then the instance terminates itself.
    pub terminate_after_job: bool,
    /// How long a running job may take to finish when the instance goes away.
    pub drain_seconds: i64,
    /// Seconds after boot by which the agent must have registered.
    pub registration_grace_seconds: i64,
    /// Spot: replace instances at elevated interruption risk ahead of time.
    pub capacity_rebalance: bool,
    pub root_volume_gb: i64,
    pub root_volume_type: String,
    pub root_volume_iops: Option<i64>,
    /// MiB/s (gp3).
    pub root_volume_throughput: Option<i64>,
    /// Instance-store NVMe, when the type has it, holds Docker's data and the builds.
    pub use_instance_storage: bool,
    /// Below this much free space, Docker is pruned before a job (0: no guard).
    pub disk_min_free_gb: i64,
    pub image: Image,
    pub token_parameter: String,
    pub subnets: Vec<String>,
    pub vpc_id: Option<String>,
    pub ingress: Vec<Ingress>,
    pub instance_policies: Vec<(String, Value)>,
    pub managed_policy_arns: Vec<String>,
    pub extra_user_data: String,
    pub agent_tags: BTreeMap<String, String>,
    pub agent_env: BTreeMap<String, String>,
    /// Build secrets by environment variable name (values stay in the cloud).
    pub agent_secrets: super::secrets::Secrets,
    pub scaler: Scaler,
    pub tags: BTreeMap<String, String>,
    /// A GitHub Actions runner queue (`github { }`); `None`: Buildkite agents.
    pub github: Option<super::github::GithubSpec>,
}

/// `s` cut to `max` characters, with a short hash of the whole when cut so
/// distinct long names stay distinct.
pub fn limit(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let hash: String = sha2::Sha256::digest(s.as_bytes()).iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", &s[..max - 7])
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

fn s(a: &State, k: &str) -> String {
    text(a, k).to_string()
}
fn i(a: &State, k: &str) -> i64 {
    a.get(k).and_then(Value::as_i64).unwrap_or_default()
}
fn strings(a: &State, k: &str) -> Vec<String> {
    a.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
}
fn map(a: &State, k: &str) -> BTreeMap<String, String> {
    a.get(k).and_then(Value::as_object).map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()).unwrap_or_default()
}

/// Runners are named `PREFIX-INSTANCE_ID`; GitHub takes names up to 64 characters.
pub fn runner_prefix(stack: &str, queue: &str) -> String {
    limit(&dashed(&format!("gantry-{stack}-{queue}")), 40)
}

/// Whether the queue's types are Graviton (arm64).
pub fn arm64(attrs: &State) -> bool {
    strings(attrs, "instance_types").first().is_some_and(|t| super::graviton(t))
}

/// The scaler's environment from a queue's attributes, validated by the
/// contract the scaler itself reads it with.
pub fn scaler_env(attrs: &State, asg_name: &str, stack: &str, instance_arn_prefix: &str) -> Result<ScalerEnv, EnvError> {
    let scaler = attrs.get("scaler").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (var, key) in [
        ("METRICS_ENDPOINT", "metrics_endpoint"),
        ("POLL_INTERVAL", "poll_interval"),
        ("SCALE_OUT_FACTOR", "scale_out_factor"),
        ("INSTANCE_BUFFER", "instance_buffer"),
        ("SCALE_IN_STEP", "scale_in_step"),
        ("DISABLE_SCALE_IN", "disable_scale_in"),
        ("INCLUDE_WAITING", "include_waiting"),
    ] {
        if let Some(v) = scaler.get(key).filter(|v| !v.is_null()) {
            given.insert(var.to_string(), text(v));
        }
    }
    for (var, key) in [("AGENTS_PER_INSTANCE", "agents_per_instance"), ("SCALE_IN_IDLE", "scale_in_idle")] {
        if let Some(v) = attrs.get(key).filter(|v| !v.is_null()) {
            given.insert(var.to_string(), text(v));
        }
    }
    let queue = s(attrs, "name");
    given.insert("ASG_NAME".into(), asg_name.to_string());
    given.insert("QUEUE".into(), queue.clone());
    match super::github::spec(attrs, stack, &queue, arm64(attrs)) {
        Some(g) => {
            let grace = registration_grace(attrs).unwrap_or(DEFAULT_REGISTRATION_GRACE) as u64;
            super::github::scaler_env(&g, &runner_prefix(stack, &queue), grace, instance_arn_prefix).write_vars(&mut given);
        }
        None => {
            given.insert("AGENT_TOKEN_PARAMETER".into(), s(attrs, "agent_token_parameter"));
        }
    }
    ScalerEnv::from_lookup(|k| given.get(k).cloned())
}

/// The disk guard's threshold when none is given.
pub const DEFAULT_DISK_MIN_FREE_GB: i64 = 20;

/// How long after boot an agent may take to register when nothing is said.
pub const DEFAULT_REGISTRATION_GRACE: i64 = 900;

/// A duration attribute in seconds, `default` when unset, within `[lo, hi]` seconds.
fn bounded_seconds(attrs: &State, key: &str, default: i64, (lo, hi): (i64, i64), example: &str, outside: &str) -> Result<i64, String> {
    let Some(text) = attrs.get(key).and_then(Value::as_str) else { return Ok(default) };
    let d = humantime::parse_duration(text).map_err(|e| format!("\"{text}\" is not a duration (e.g. {example}): {e}"))?;
    let secs = d.as_secs() as i64;
    if (lo..=hi).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("{text} is outside {outside}"))
    }
}

/// `registration_grace` in seconds (5m-1h: a boot installs Docker and the agent).
pub fn registration_grace(attrs: &State) -> Result<i64, String> {
    bounded_seconds(attrs, "registration_grace", DEFAULT_REGISTRATION_GRACE, (300, 3600), "15m", "5m..1h")
}

/// The drain bound when none is given.
pub const DEFAULT_DRAIN_SECONDS: i64 = 1800;

/// `drain_timeout` in seconds: 1 minute to 118 minutes (a lifecycle hook's
/// heartbeat may last 7200 s, and the hook gets two more minutes).
pub fn drain_seconds(attrs: &State) -> Result<i64, String> {
    bounded_seconds(attrs, "drain_timeout", DEFAULT_DRAIN_SECONDS, (60, 7080), "30m", "1m..1h58m (a lifecycle hook waits at most 2h)")
}

/// Builds the spec from evaluated attributes. `queue` is the queue name.
pub fn spec(attrs: &State, env: &Env) -> QueueSpec {
    let queue = s(attrs, "name");
    let region = attrs.get("region").and_then(Value::as_str).map(String::from).unwrap_or_else(|| env.region.clone());
    let scaler_block = attrs.get("scaler").and_then(Value::as_object).cloned().unwrap_or_default();
    let names = names(&env.stack, &queue);
    let types = strings(attrs, "instance_types");
    let image = match (attrs.get("image_id").and_then(Value::as_str), attrs.get("image_ssm_parameter").and_then(Value::as_str)) {
        (Some(id), _) => Image::Id(id.to_string()),
        (None, Some(p)) => Image::Parameter(p.to_string()),
        (None, None) => {
            let arm64 = arm64(attrs);
            let nvidia = types.iter().any(|t| super::images::accelerator(t) == super::images::Accelerator::Nvidia);
            Image::Parameter(super::images::default_parameter(arm64, nvidia).to_string())
        }
    };
    let ingress = attrs
        .get("ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|r| Ingress {
            protocol: r.get("protocol").and_then(Value::as_str).unwrap_or("tcp").to_string(),
            from_port: r.get("port").and_then(Value::as_i64).unwrap_or(0),
            to_port: r.get("to_port").and_then(Value::as_i64).or_else(|| r.get("port").and_then(Value::as_i64)).unwrap_or(0),
            cidr: r.get("cidr").and_then(Value::as_str).unwrap_or_default().to_string(),
        })
        .collect();
    let instance_policies = attrs
        .get("instance_policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("name")?.as_str()?.to_string(), p.get("document")?.clone())))
        .collect();
    let sc = |k: &str| scaler_block.get(k).cloned().unwrap_or(Value::Null);
    let text = |v: Value| match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    // check() has reported any value the contract refuses; what is left is valid.
    let arn_prefix = super::github::instance_arn_prefix(&region, &env.account_id);
    let env_vars =
        scaler_env(attrs, &names.asg, &env.stack, &arn_prefix).unwrap_or_else(|_| ScalerEnv::new(&names.asg, &queue, &s(attrs, "agent_token_parameter")));
    let github = super::github::spec(attrs, &env.stack, &queue, arm64(attrs));
    QueueSpec {
        queue,
        stack: env.stack.clone(),
        region,
        account_id: env.account_id.clone(),
        names,
        instance_types: types,
        on_demand_percentage: i(attrs, "on_demand_percentage"),
        spot_allocation_strategy: s(attrs, "spot_allocation_strategy"),
        min_size: i(attrs, "min_size"),
        max_size: i(attrs, "max_size"),
        agents_per_instance: i(attrs, "agents_per_instance"),
        // A just-in-time runner takes one job: its instance always goes after it.
        terminate_after_job: github.is_some() || attrs.get("terminate_after_job").and_then(Value::as_bool).unwrap_or(false),
        drain_seconds: drain_seconds(attrs).unwrap_or(DEFAULT_DRAIN_SECONDS),
        registration_grace_seconds: registration_grace(attrs).unwrap_or(DEFAULT_REGISTRATION_GRACE),
        capacity_rebalance: attrs.get("capacity_rebalance").and_then(Value::as_bool).unwrap_or(false),
        root_volume_gb: i(attrs, "root_volume_gb"),
        root_volume_type: s(attrs, "root_volume_type"),
        root_volume_iops: attrs.get("root_volume_iops").and_then(Value::as_i64),
        root_volume_throughput: attrs.get("root_volume_throughput").and_then(Value::as_i64),
        use_instance_storage: attrs.get("use_instance_storage").and_then(Value::as_bool).unwrap_or(true),
        disk_min_free_gb: attrs.get("disk_min_free_gb").and_then(Value::as_i64).unwrap_or(DEFAULT_DISK_MIN_FREE_GB),
        image,
        token_parameter: s(attrs, "agent_token_parameter"),
        subnets: strings(attrs, "subnets"),
        vpc_id: attrs.get("vpc_id").and_then(Value::as_str).map(String::from),
        ingress,
        instance_policies,
        managed_policy_arns: strings(attrs, "managed_policy_arns"),
        extra_user_data: s(attrs, "extra_user_data"),
        agent_tags: map(attrs, "agent_tags"),
        agent_env: map(attrs, "agent_env"),
        // check() refused sources that do not parse.
        agent_secrets: map(attrs, "agent_secrets").into_iter().filter_map(|(k, v)| super::secrets::parse(&v).ok().map(|s| (k, s))).collect(),
        scaler: Scaler {
            architecture: text(sc("architecture")),
            memory_mb: sc("memory_mb").as_i64().unwrap_or(128),
            timeout_s: sc("timeout_s").as_i64().unwrap_or(60),
            env: env_vars,
            zip: scaler_block.get("zip").cloned(),
        },
        tags: map(attrs, "tags"),
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
