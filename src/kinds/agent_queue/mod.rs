//! `agent_queue`: an autoscaling pool of CI agents for one queue — one
//! CloudFormation stack (instance role/profile, security group, launch
//! template, Auto Scaling group, scaler role, one-minute schedule) plus the
//! scaler Lambda deployed through the Lambda API.
//!
//! ```hcl
//! agent_queue "gpu_1_queue" {
//!   instance_types        = ["g6.4xlarge"]
//!   max_size              = 208
//!   root_volume_gb        = 512
//!   image_ssm_parameter   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
//!   agent_token_parameter = "/bk_agent_token_cluster_ci"
//!   scale_in_idle         = "20m"
//! }
//! ```
//! The scaler deployed is the one bundled with gantry (see [`bundled`]);
//! `scaler { zip = "..." }` deploys another build instead.
//! Region and name force replacement; everything else is an in-place
//! CloudFormation update (through a change set) and/or a Lambda update.
//! Desired capacity belongs to the scaler: the template never sets it.

mod access;
mod api;
mod aws;
pub mod bundled;
mod capacity;
mod change_set;
mod driver;
#[cfg(test)]
mod fake;
mod function;
pub mod github;
pub mod images;
mod preflight;
#[cfg(test)]
mod script_tests;
mod secrets;
pub use secrets::{hook_exports, redacted_vars_line, valid_name as env_name_ok, SECRETS_DIR};
pub mod spec;
mod state;
pub mod template;
#[cfg(test)]
mod tests;

pub use api::{FunctionApi, LookupApi, QueueApi, StackApi};
pub use aws::AwsQueueApi;
pub use driver::QueueDriver;
// The scaler's own defaults and ranges (one definition for both sides).
use gantry_scaler_env::{defaults as scaler_defaults, ranges as scaler_ranges};
pub use state::{Desired, Facts, FunctionState};

use crate::core::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::core::AttrChange;
use crate::core::{default_attr, AttrProblem, Env, Field, Kind, LiveResource, State};
use serde_json::{json, Value};

/// The `agent_queue` kind.
pub struct AgentQueue;

static INGRESS: Schema = Schema {
    attrs: &[
        Attr::new("port", Ty::Int, "First port.").required().range(-1, 65535),
        Attr::new("to_port", Ty::Int, "Last port (default: port).").range(-1, 65535),
        Attr::new("protocol", Ty::String, "tcp, udp, icmp or -1 (all).").default(DefaultValue::Str("tcp")).one_of(&["tcp", "udp", "icmp", "-1"]),
        Attr::new("cidr", Ty::String, "Source CIDR, e.g. 10.0.0.0/8.").required(),
    ],
    blocks: &[],
};

static SCALER: Schema = Schema {
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

static SCHEMA: Schema = Schema {
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

static FIELDS: &[Field] = &[
    Field::replace("region"),
    Field::replace("stack_name"),
    Field::replace("stack_status"),
    Field::new("template"),
    Field::new("tags"),
    Field::new("function"),
];

/// Stack states from which CloudFormation cannot update: the stack must be
/// deleted and created again.
pub const REPLACE_STATES: &[&str] = &["ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "REVIEW_IN_PROGRESS"];

fn graviton(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or("");
    let letters_then_digits = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let after_digits = letters_then_digits.trim_start_matches(|c: char| c.is_ascii_digit());
    letters_then_digits.len() != after_digits.len() && after_digits.starts_with('g')
}

fn valid_instance_type(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else { return false };
    family.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && family.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && family.chars().any(|c| c.is_ascii_digit())
        && !size.is_empty()
        && size.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// IOPS and throughput only where the volume type takes them (EC2
/// CreateVolume: gp3 3000-16000 IOPS and 125-1000 MiB/s; io1 up to 64000,
/// io2 up to 256000 IOPS, both required; gp2 takes neither).
fn root_volume_problems(a: &State) -> Vec<AttrProblem> {
    let ty = a.get("root_volume_type").and_then(Value::as_str).unwrap_or("gp3");
    let iops = a.get("root_volume_iops").and_then(Value::as_i64);
    let throughput = a.get("root_volume_throughput").and_then(Value::as_i64);
    let mut out = Vec::new();
    let iops_range = match ty {
        "gp3" => Some((3000, 16000)),
        "io1" => Some((100, 64000)),
        "io2" => Some((100, 256000)),
        _ => None,
    };
    match (iops, iops_range) {
        (Some(_), None) => out.push(AttrProblem::new("root_volume_iops", format!("{ty} volumes take no IOPS setting (use gp3, io1 or io2)"))),
        (Some(i), Some((lo, hi))) if i < lo || i > hi => out.push(AttrProblem::new("root_volume_iops", format!("{ty} takes {lo}-{hi} IOPS, not {i}"))),
        (None, _) if ty == "io1" || ty == "io2" => out.push(AttrProblem::new("root_volume_iops", format!("{ty} volumes need root_volume_iops"))),
        _ => {}
    }
    if throughput.is_some() && ty != "gp3" {
        out.push(AttrProblem::new("root_volume_throughput", format!("only gp3 volumes take a throughput setting, not {ty}")));
    }
    out
}

/// The function part of the desired state.
fn function_state(q: &spec::QueueSpec) -> FunctionState {
    FunctionState {
        name: q.names.function.clone(),
        runtime: "provided.al2023".into(),
        architecture: q.scaler.architecture.clone(),
        memory_mb: q.scaler.memory_mb,
        timeout_s: q.scaler.timeout_s,
        environment: q.scaler.env.to_vars(),
        code_sha256: q.scaler.zip.as_ref().and_then(|z| z.get("sha256")).and_then(Value::as_str).map(String::from),
        role: format!("arn:aws:iam::{}:role{}{}", q.account_id, q.names.path, q.names.scaler_role),
        invoked_by: Some(format!("arn:aws:events:{}:{}:rule/{}", q.region, q.account_id, q.names.rule)),
        webhook: q.github.as_ref().is_some_and(|g| g.webhook),
    }
}

/// Leaf-level differences between two JSON values, as dotted paths.
pub fn json_leaf_diff(path: &str, before: &Value, after: &Value, out: &mut Vec<(String, Value, Value)>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                json_leaf_diff(&p, a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (a, b) if a != b => out.push((path.to_string(), a.clone(), b.clone())),
        _ => {}
    }
}

/// The size of the launch template's user data in a queue template.
fn user_data_len(template: &Value) -> Option<usize> {
    let resources = template.get("Resources")?.as_object()?;
    resources.values().find_map(|r| r.pointer("/Properties/LaunchTemplateData/UserData/Fn::Base64")?.as_str().map(str::len))
}

/// User data over EC2's 16 KB makes the stack roll back at launch: refused
/// at validate, saying what made it large.
fn user_data_size_problem(q: &spec::QueueSpec) -> Option<AttrProblem> {
    let n = template::user_data(q).len();
    if n <= template::USER_DATA_LIMIT {
        return None;
    }
    let env: usize = q.agent_env.iter().map(|(k, v)| k.len() + v.len() + 16).sum();
    Some(AttrProblem::new(
        if q.extra_user_data.is_empty() { "agent_env" } else { "extra_user_data" },
        format!(
            "the instances' user data would be {n} bytes, over EC2's limit of {} (extra_user_data {} bytes, agent_env about {env}); move long set-up into a script the instances fetch (e.g. from S3) or into the image",
            template::USER_DATA_LIMIT,
            q.extra_user_data.len()
        ),
    ))
}

impl Kind for AgentQueue {
    fn name(&self) -> &'static str {
        "agent_queue"
    }
    fn doc(&self) -> &'static str {
        "An autoscaling pool of CI agents for one queue: a CloudFormation stack plus its scaler Lambda."
    }
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    /// `name` defaults to the block label, `region` to the stack's.
    fn fill_defaults(&self, label: &str, env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
        default_attr(attrs, "region", &env.region);
    }
    fn check(&self, a: &State) -> Vec<AttrProblem> {
        let mut out = Vec::new();
        let name = a.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            out.push(AttrProblem::new("name", format!("queue name \"{name}\" must be 1-64 letters, digits, _ and -")));
        }
        let (min, max) = (a.get("min_size").and_then(Value::as_i64).unwrap_or(0), a.get("max_size").and_then(Value::as_i64).unwrap_or(0));
        if max < min {
            out.push(AttrProblem::new("max_size", format!("max_size {max} is below min_size {min}")));
        }
        if a.get("terminate_after_job").and_then(Value::as_bool).unwrap_or(false) && a.get("agents_per_instance").and_then(Value::as_i64).unwrap_or(1) > 1 {
            out.push(AttrProblem::new(
                "terminate_after_job",
                "one job per instance needs agents_per_instance = 1 (two agents would run two jobs side by side)",
            ));
        }
        out.extend(root_volume_problems(a));
        if let Err(e) = spec::registration_grace(a) {
            out.push(AttrProblem::new("registration_grace", e));
        }
        if let Err(e) = spec::drain_seconds(a) {
            out.push(AttrProblem::new("drain_timeout", e));
        }
        let types: Vec<&str> = a.get("instance_types").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        if types.is_empty() {
            out.push(AttrProblem::new("instance_types", "list at least one instance type"));
        }
        for t in &types {
            if !valid_instance_type(t) {
                out.push(AttrProblem::new("instance_types", format!("\"{t}\" is not an instance type (FAMILY.SIZE, e.g. c7i.2xlarge)")));
            }
        }
        if types.iter().any(|t| graviton(t)) && types.iter().any(|t| !graviton(t)) {
            out.push(AttrProblem::new("instance_types", "mixes arm64 (Graviton) and x86_64 types; one image serves one architecture"));
        }
        let nvidia = types.iter().filter(|t| images::accelerator(t) == images::Accelerator::Nvidia).count();
        if nvidia > 0 && nvidia < types.len() {
            out.push(AttrProblem::new("instance_types", "mixes NVIDIA GPU and other types; a GPU job must land on a GPU (use one queue for each)"));
        }
        let plain = a.get("image_ssm_parameter").and_then(Value::as_str).filter(|p| images::is_plain_amazon_linux(p));
        if let (Some(p), true, true) = (plain, nvidia > 0, a.get("gpu_image_check").and_then(Value::as_bool).unwrap_or(true)) {
            out.push(AttrProblem::new(
                "image_ssm_parameter",
                format!("{p} has no NVIDIA driver, so jobs on {} cannot see the GPU; omit image_ssm_parameter for the Deep Learning Base GPU AMI, or set gpu_image_check = false if extra_user_data installs the driver", types[0]),
            ));
        }
        match (a.get("image_id"), a.get("image_ssm_parameter")) {
            (Some(_), Some(_)) => out.push(AttrProblem::new("image_id", "set at most one of image_id and image_ssm_parameter")),
            (Some(Value::String(id)), None) if !(id.starts_with("ami-") && id.len() >= 12 && id[4..].chars().all(|c| c.is_ascii_hexdigit())) => {
                out.push(AttrProblem::new("image_id", format!("\"{id}\" is not an AMI id (ami-xxxxxxxx)")))
            }
            _ => {}
        }
        out.extend(github::check(a));
        let string_map = |k: &str| -> std::collections::BTreeMap<String, String> {
            a.get(k).and_then(Value::as_object).into_iter().flatten().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()
        };
        for p in secrets::check(&string_map("agent_secrets"), &string_map("agent_env")) {
            out.push(AttrProblem::new("agent_secrets", p));
        }
        let subnets = a.get("subnets").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
        if (subnets > 0) != a.contains_key("vpc_id") {
            out.push(AttrProblem::new("subnets", "subnets and vpc_id go together (omit both for the default VPC)"));
        }
        for s in a.get("subnets").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !s.starts_with("subnet-") {
                out.push(AttrProblem::new("subnets", format!("\"{s}\" is not a subnet id")));
            }
        }
        match spec::scaler_env(a, "asg", "stack", &github::instance_arn_prefix("us-east-1", crate::core::OFFLINE_ACCOUNT_ID)) {
            // A missing token was reported above, by name.
            Err(e) if e.0.starts_with("AGENT_TOKEN_PARAMETER") => {}
            Err(e) => {
                // The same contract the scaler reads its environment with.
                let attr = if e.0.starts_with("SCALE_IN_IDLE") { "scale_in_idle" } else { "scaler" };
                out.push(AttrProblem::new(attr, e.0));
            }
            Ok(_) => {}
        }
        out
    }
    fn local_inputs(&self, a: &mut State) -> Vec<AttrProblem> {
        bundled::fill_scaler_zip(a)
    }
    /// New grants of its roles, managed policies, boundaries and ingress,
    /// read from the template before and after.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let old = before.and_then(|b| b.get("template"));
        crate::policy::access::widening(&access::of_template(old, false), &access::of_template(after.get("template"), old.is_none()))
    }
    /// Says which scaler build a create or code update deploys.
    fn change_notes(&self, action: crate::core::Action, changes: &[AttrChange], desired: &State) -> Vec<String> {
        let code_changes =
            action != crate::core::Action::Update || changes.iter().any(|c| c.name == "function" && c.before.get("code_sha256") != c.after.get("code_sha256"));
        let mut notes = match desired.get("zip_source").and_then(Value::as_str) {
            Some(source) if code_changes => vec![format!("scaler code: {source}")],
            _ => Vec::new(),
        };
        // The machines' bootstrap is bounded by EC2: say how close it is.
        let template_changes = action != crate::core::Action::Update || changes.iter().any(|c| c.name == "template");
        if let Some(n) = desired.get("template").and_then(user_data_len).filter(|_| template_changes) {
            notes.push(format!("user data: {n} of {} bytes", template::USER_DATA_LIMIT));
        }
        notes
    }
    fn check_env(&self, a: &State, env: &Env) -> Vec<AttrProblem> {
        let mut out = match a.get("region").and_then(Value::as_str) {
            Some(r) if !env.regions.iter().any(|x| x == r) => vec![AttrProblem::new(
                "region",
                format!("region {r} is not one of the stack's regions ({}); add it to aws {{ extra_regions = [...] }}", env.regions.join(", ")),
            )],
            _ => Vec::new(),
        };
        out.extend(user_data_size_problem(&spec::spec(a, env)));
        out
    }
    /// `region/name`, as the driver reads it: the same queue name may be
    /// used in two regions.
    fn identity(&self, a: &State) -> String {
        let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default();
        format!("{}/{}", text("region"), text("name"))
    }
    fn cloud_names(&self, a: &State, env: &Env) -> Vec<String> {
        let queue = a.get("name").and_then(Value::as_str).unwrap_or_default();
        let region = a.get("region").and_then(Value::as_str).unwrap_or(&env.region);
        let n = spec::names(&env.stack, queue);
        vec![
            format!("CloudFormation stack {region}/{}", n.cfn_stack),
            format!("Lambda function {region}/{}", n.function),
            format!("IAM role {}", n.scaler_role),
            format!("IAM role {}", n.instance_role),
        ]
    }
    fn outputs(&self, a: &State, env: &Env) -> State {
        let q = spec::spec(a, env);
        let mut out = State::new();
        out.insert("name".into(), json!(q.queue));
        out.insert("region".into(), json!(q.region));
        out.insert("stack_name".into(), json!(q.names.cfn_stack));
        out.insert("asg_name".into(), json!(q.names.asg));
        out.insert("function_name".into(), json!(q.names.function));
        out
    }
    fn capacity(&self, state: &State) -> Option<crate::core::Capacity> {
        capacity::capacity(state)
    }
    fn desired_state(&self, a: &State, env: &Env) -> State {
        let q = spec::spec(a, env);
        Desired {
            region: q.region.clone(),
            stack_name: q.names.cfn_stack.clone(),
            stack_status: "usable".into(),
            // Parameters are never passed: their defaults live in the template, so
            // CloudFormation re-resolves an image SSM parameter on every update.
            template: template::render(&q),
            tags: q.tags.clone(),
            function: function_state(&q),
            zip_path: q.scaler.zip.as_ref().and_then(|z| z.get("path")).and_then(Value::as_str).map(String::from),
            zip_source: q.scaler.zip.as_ref().and_then(|z| z.get("source")).and_then(Value::as_str).map(String::from),
            facts: Facts {
                queue: q.queue.clone(),
                image_parameter: match &q.image {
                    spec::Image::Parameter(p) => Some(p.clone()),
                    spec::Image::Id(_) => None,
                },
                token_parameter: q.token_parameter.clone(),
                secret_parameters: q
                    .agent_secrets
                    .values()
                    .filter_map(|s| match s {
                        secrets::SecretSource::Ssm(p) => Some(p.clone()),
                        secrets::SecretSource::SecretsManager(_) => None,
                    })
                    .collect(),
                github_credentials: q
                    .github
                    .iter()
                    .flat_map(|g| gantry_scaler_env::github::CREDENTIAL_PARAMETERS.iter().map(move |n| format!("{}/{n}", g.credentials)))
                    .collect(),
                subnets: q.subnets.clone(),
                vpc_id: q.vpc_id.clone(),
            },
        }
        .to_state()
    }
    fn lint(&self, a: &State, _env: &Env) -> Vec<crate::lint::Finding> {
        let mut out = Vec::new();
        let policies: Vec<(&str, &Value)> = a
            .get("instance_policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get("file").and_then(Value::as_str)?, p.get("document")?)))
            .collect();
        for (file, doc) in &policies {
            out.extend(crate::lint::lint_permissions(doc, "instance_policies", Some(file)));
        }
        let managed: Vec<&str> =
            a.get("managed_policy_arns").and_then(Value::as_array).map(|v| v.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        out.extend(crate::lint::lint_managed(&managed, "managed_policy_arns"));
        if a.get("untrusted_code").and_then(Value::as_bool).unwrap_or(false) {
            let names = |k: &str| a.get(k).and_then(Value::as_object).map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
            out.extend(crate::lint::lint_untrusted(&crate::lint::UntrustedQueue {
                policies,
                secrets: names("agent_secrets"),
                terminate_after_job: a.get("github").is_some_and(Value::is_object) || a.get("terminate_after_job").and_then(Value::as_bool).unwrap_or(false),
                managed_policy_arns: managed,
            }));
        }
        out
    }
    fn explain(&self, changes: Vec<AttrChange>) -> Vec<AttrChange> {
        let mut out = Vec::new();
        for c in changes {
            if (c.name == "template" || c.name == "function") && c.before.is_object() && c.after.is_object() {
                let mut leaves = Vec::new();
                json_leaf_diff(&c.name, &c.before, &c.after, &mut leaves);
                out.extend(leaves.into_iter().map(|(name, before, after)| AttrChange {
                    name,
                    before,
                    after,
                    forces_replacement: false,
                    sensitive: false,
                    known_after_apply: false,
                }));
            } else {
                out.push(c);
            }
        }
        out
    }
    fn live_problem(&self, live: &LiveResource) -> Option<String> {
        let mut taken = Vec::new();
        if let Some(f) = live.state.get("foreign_function").and_then(Value::as_str) {
            taken.push(format!(
                "the Lambda function {f} has the name this queue's scaler needs but is not this queue's; gantry never changes or deletes it: rename or delete it, then plan again"
            ));
        }
        if let Some(roles) = live.state.get("foreign_roles").and_then(Value::as_array) {
            let list: Vec<&str> = roles.iter().filter_map(Value::as_str).collect();
            taken.push(format!(
                "IAM role(s) {} already exist, and this queue's CloudFormation stack (which creates them by these names) does not: creating it would fail half-way; delete or rename the role(s), or rename the queue, then plan again",
                list.join(", ")
            ));
        }
        if !taken.is_empty() {
            return Some(taken.join("; "));
        }
        let status = live.state.get("raw_status").and_then(Value::as_str).unwrap_or("");
        if status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS" {
            return Some(format!("stack {} is {status}; wait for it to finish, then plan again", live.identity));
        }
        if status == "UPDATE_ROLLBACK_FAILED" {
            return Some(format!(
                "stack {} is UPDATE_ROLLBACK_FAILED; fix the cause shown in its events, then run `aws cloudformation continue-update-rollback --stack-name {}` and plan again",
                live.identity,
                live.state.get("stack_name").and_then(Value::as_str).unwrap_or_default()
            ));
        }
        if status == "DELETE_FAILED" {
            return Some(format!("stack {} is DELETE_FAILED; remove what blocks deletion (see its events) and run gantry destroy again", live.identity));
        }
        None
    }
}
