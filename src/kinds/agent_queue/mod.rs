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
//!   scaler {
//!     zip = "../../target/lambda/bootstrap/bootstrap.zip"
//!   }
//! }
//! ```
//! Region and name force replacement; everything else is an in-place
//! CloudFormation update (through a change set) and/or a Lambda update.
//! Desired capacity belongs to the scaler: the template never sets it.

mod deploy;
mod function;
mod network;
pub mod spec;
pub mod template;

pub use deploy::QueueDriver;

use crate::core::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::core::AttrChange;
use crate::core::{AttrProblem, Env, Field, Kind, LiveResource, State};
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
        Attr::new("zip", Ty::BinaryFile, "Scaler Lambda zip (build: scripts/build-scaler.sh).").required(),
        Attr::new("architecture", Ty::String, "Lambda architecture of the zip.").default(DefaultValue::Str("arm64")).one_of(&["arm64", "x86_64"]),
        Attr::new("memory_mb", Ty::Int, "Lambda memory.").default(DefaultValue::Int(128)).range(128, 10240),
        Attr::new("timeout_s", Ty::Int, "Lambda timeout; the scaler polls until shortly before it.").default(DefaultValue::Int(60)).range(10, 900),
        Attr::new("poll_interval", Ty::String, "Time between polls within one invocation.").default(DefaultValue::Str("10s")),
        Attr::new("scale_out_factor", Ty::Number, "Fraction of missing capacity added per decision (0.01-1).").default(DefaultValue::Int(1)),
        Attr::new("instance_buffer", Ty::Int, "Spare instances while there is work.").default(DefaultValue::Int(0)).range(0, 1000),
        Attr::new("scale_in_step", Ty::Int, "Most instances removed per step.").default(DefaultValue::Int(1)).range(1, 1000),
        Attr::new("disable_scale_in", Ty::Bool, "Never lower desired capacity.").default(DefaultValue::Bool(false)),
        Attr::new("include_waiting", Ty::Bool, "Count waiting jobs as needing agents.").default(DefaultValue::Bool(false)),
        Attr::new("metrics_endpoint", Ty::String, "Agent metrics API.").default(DefaultValue::Str("https://agent.buildkite.com/v3")),
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
        Attr::new("agents_per_instance", Ty::Int, "Agents per instance.").default(DefaultValue::Int(1)).range(1, 64),
        Attr::new("root_volume_gb", Ty::Int, "Root volume size.").default(DefaultValue::Int(250)).range(8, 16384),
        Attr::new("root_volume_type", Ty::String, "Root volume type.").default(DefaultValue::Str("gp3")).one_of(&["gp3", "gp2", "io2", "io1"]),
        Attr::new("image_id", Ty::String, "AMI id (or image_ssm_parameter)."),
        Attr::new("image_ssm_parameter", Ty::String, "SSM parameter holding the AMI id, resolved at deploy."),
        Attr::new("agent_token_parameter", Ty::String, "SSM parameter (SecureString) with the agent token; never read into the plan.").required(),
        Attr::new("subnets", Ty::ListOfString, "Subnets (default: the default VPC's, one per AZ).").default(DefaultValue::EmptyList),
        Attr::new("vpc_id", Ty::String, "VPC of the subnets (required with subnets)."),
        Attr::new("instance_policies", Ty::PolicyFiles, "Inline policies for the agent instances.").default(DefaultValue::EmptyList),
        Attr::new("policy_vars", Ty::Object, "Values for ${policy.NAME} in instance_policies."),
        Attr::new("managed_policy_arns", Ty::ListOfString, "Managed policies for the agent instances.").default(DefaultValue::EmptyList),
        Attr::new("extra_user_data", Ty::String, "Shell appended to the agent bootstrap.").default(DefaultValue::Str("")),
        Attr::new("agent_tags", Ty::MapOfString, "Agent tags besides queue=NAME.").default(DefaultValue::EmptyMap),
        Attr::new("agent_env", Ty::MapOfString, "Environment of the agent service.").default(DefaultValue::EmptyMap),
        Attr::new("scale_in_idle", Ty::String, "Surplus time before the scaler removes instances.").default(DefaultValue::Str("10m")),
        Attr::new("tags", Ty::MapOfString, "Tags on the stack and its resources.").default(DefaultValue::EmptyMap),
    ],
    blocks: &[
        NestedBlock { name: "ingress", schema: &INGRESS, repeated: true, doc: "Security group ingress rules (none by default)." },
        NestedBlock { name: "scaler", schema: &SCALER, repeated: false, doc: "The scaler Lambda (required)." },
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

/// The function part of the desired state.
fn function_state(q: &spec::QueueSpec) -> Value {
    json!({
        "name": q.names.function,
        "runtime": "provided.al2023",
        "architecture": q.scaler.architecture,
        "memory_mb": q.scaler.memory_mb,
        "timeout_s": q.scaler.timeout_s,
        "environment": q.scaler.env,
        "code_sha256": q.scaler.zip.as_ref().and_then(|z| z.get("sha256")).cloned().unwrap_or(Value::Null),
        "role": format!("arn:aws:iam::{}:role{}{}", q.account_id, q.names.path, q.names.scaler_role),
        "invoked_by": format!("arn:aws:events:{}:{}:rule/{}", q.region, q.account_id, q.names.rule),
    })
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
        match (a.get("image_id"), a.get("image_ssm_parameter")) {
            (Some(_), Some(_)) | (None, None) => out.push(AttrProblem::new("image_id", "set exactly one of image_id and image_ssm_parameter")),
            (Some(Value::String(id)), None) if !(id.starts_with("ami-") && id.len() >= 12 && id[4..].chars().all(|c| c.is_ascii_hexdigit())) => {
                out.push(AttrProblem::new("image_id", format!("\"{id}\" is not an AMI id (ami-xxxxxxxx)")))
            }
            _ => {}
        }
        let token = a.get("agent_token_parameter").and_then(Value::as_str).unwrap_or("");
        if token.is_empty() || !token.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)) {
            out.push(AttrProblem::new("agent_token_parameter", format!("\"{token}\" is not an SSM parameter name")));
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
        for key in ["scale_in_idle"] {
            if let Some(Err(e)) = a.get(key).and_then(Value::as_str).map(humantime::parse_duration) {
                out.push(AttrProblem::new(key, format!("{e} (write e.g. \"10m\")")));
            }
        }
        match a.get("scaler").and_then(Value::as_object) {
            None => out.push(AttrProblem::new("scaler", "add a scaler { zip = \"...\" } block (build the zip with scripts/build-scaler.sh)")),
            Some(s) => {
                if let Some(Err(e)) = s.get("poll_interval").and_then(Value::as_str).map(humantime::parse_duration) {
                    out.push(AttrProblem::new("scaler", format!("poll_interval: {e}")));
                }
                let f = s.get("scale_out_factor").and_then(Value::as_f64).unwrap_or(1.0);
                if !(0.01..=1.0).contains(&f) {
                    out.push(AttrProblem::new("scaler", format!("scale_out_factor {f} must be from 0.01 to 1")));
                }
            }
        }
        out
    }
    fn check_env(&self, a: &State, env: &Env) -> Vec<AttrProblem> {
        match a.get("region").and_then(Value::as_str) {
            Some(r) if !env.regions.iter().any(|x| x == r) => vec![AttrProblem::new(
                "region",
                format!("region {r} is not one of the stack's regions ({}); add it to aws {{ extra_regions = [...] }}", env.regions.join(", ")),
            )],
            _ => Vec::new(),
        }
    }
    fn identity(&self, a: &State) -> String {
        a.get("name").and_then(Value::as_str).unwrap_or_default().to_string()
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
    fn desired_state(&self, a: &State, env: &Env) -> State {
        let q = spec::spec(a, env);
        let mut s = State::new();
        s.insert("region".into(), json!(q.region));
        s.insert("stack_name".into(), json!(q.names.cfn_stack));
        s.insert("stack_status".into(), json!("usable"));
        // Parameters are never passed: their defaults live in the template, so
        // CloudFormation re-resolves an image SSM parameter on every update.
        s.insert("template".into(), template::render(&q));
        s.insert("tags".into(), json!(q.tags));
        s.insert("function".into(), function_state(&q));
        // Not compared: where the driver finds the zip to upload.
        s.insert("zip_path".into(), q.scaler.zip.as_ref().and_then(|z| z.get("path")).cloned().unwrap_or(Value::Null));
        s
    }
    fn lint(&self, a: &State, _env: &Env) -> Vec<crate::lint::Finding> {
        let mut out = Vec::new();
        for p in a.get("instance_policies").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(doc), Some(file)) = (p.get("document"), p.get("file").and_then(Value::as_str)) {
                out.extend(crate::lint::lint_permissions(doc, "instance_policies", Some(file)));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_type_rules() {
        assert!(valid_instance_type("g6.4xlarge") && valid_instance_type("c7gn.16xlarge") && valid_instance_type("u-6tb1.metal"));
        assert!(!valid_instance_type("g6") && !valid_instance_type("G6.large") && !valid_instance_type("large.g6") && !valid_instance_type("x.large"));
        assert!(graviton("c7g.large") && graviton("g5g.xlarge") && graviton("m6gd.large") && graviton("t4g.small"));
        assert!(!graviton("g6.4xlarge") && !graviton("c7i.large") && !graviton("p4d.24xlarge"));
    }

    #[test]
    fn stuck_stacks_are_reported_with_the_way_out() {
        let live = |status: &str| LiveResource {
            identity: "us-west-2/q".into(),
            owner_stack: Some("s".into()),
            owner_address: Some("agent_queue.q".into()),
            state: json!({"raw_status": status, "stack_name": "gantry-s-q"}).as_object().unwrap().clone(),
        };
        assert!(AgentQueue.live_problem(&live("UPDATE_ROLLBACK_FAILED")).unwrap().contains("continue-update-rollback --stack-name gantry-s-q"));
        assert!(AgentQueue.live_problem(&live("UPDATE_IN_PROGRESS")).unwrap().contains("wait for it to finish"));
        assert!(AgentQueue.live_problem(&live("DELETE_FAILED")).is_some());
        assert!(AgentQueue.live_problem(&live("UPDATE_COMPLETE")).is_none());
        // A failed create cannot be updated: it is planned for replacement instead.
        assert!(AgentQueue.live_problem(&live("ROLLBACK_COMPLETE")).is_none());
        assert!(REPLACE_STATES.contains(&"ROLLBACK_COMPLETE"));
        assert!(FIELDS.iter().any(|f| f.name == "stack_status" && f.forces_replacement));
    }

    #[test]
    fn leaf_diff_names_paths() {
        let mut out = Vec::new();
        json_leaf_diff("t", &json!({"a": {"b": 1, "c": [1]}}), &json!({"a": {"b": 2, "c": [1], "d": true}}), &mut out);
        let paths: Vec<&str> = out.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(paths, vec!["t.a.b", "t.a.d"]);
    }
}
