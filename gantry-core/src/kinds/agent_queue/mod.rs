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

pub mod access;
pub mod block;
pub mod capacity;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod github;
pub mod images;
#[cfg(test)]
mod rules_tests;
pub mod scaler_zip;
pub mod schema;
#[cfg(test)]
mod script_tests;
pub mod secrets;
pub mod spec;
pub mod state;
pub mod template;

use block::Spec;
use state::Marks;
pub use state::{Desired, Facts, FunctionState};

use crate::core::schema::{HasSchema, Schema};
use crate::core::AttrChange;
use crate::core::{default_attr, Diagnostic, Env, Field, LiveResource, State};
use schema::FIELDS;
use serde_json::{json, Value};

/// The `agent_queue` kind.
pub struct AgentQueue;

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
fn root_volume_problems(a: &Spec) -> Vec<Diagnostic> {
    let ty = a.root_volume_type.as_deref().unwrap_or("gp3");
    let (iops, throughput) = (a.root_volume_iops, a.root_volume_throughput);
    let mut out = Vec::new();
    let iops_range = match ty {
        "gp3" => Some((3000, 16000)),
        "io1" => Some((100, 64000)),
        "io2" => Some((100, 256000)),
        _ => None,
    };
    match (iops, iops_range) {
        (Some(_), None) => out.push(Diagnostic::attr("root_volume_iops", format!("{ty} volumes take no IOPS setting (use gp3, io1 or io2)"))),
        (Some(i), Some((lo, hi))) if i < lo || i > hi => out.push(Diagnostic::attr("root_volume_iops", format!("{ty} takes {lo}-{hi} IOPS, not {i}"))),
        (None, _) if ty == "io1" || ty == "io2" => out.push(Diagnostic::attr("root_volume_iops", format!("{ty} volumes need root_volume_iops"))),
        _ => {}
    }
    if throughput.is_some() && ty != "gp3" {
        out.push(Diagnostic::attr("root_volume_throughput", format!("only gp3 volumes take a throughput setting, not {ty}")));
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
        code_sha256: q.scaler.zip.as_ref().and_then(|z| z.sha256.clone()),
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
fn user_data_size_problem(q: &spec::QueueSpec) -> Option<Diagnostic> {
    let n = template::user_data(q).len();
    if n <= template::USER_DATA_LIMIT {
        return None;
    }
    let env: usize = q.agent_env.iter().map(|(k, v)| k.len() + v.len() + 16).sum();
    Some(Diagnostic::attr(
        if q.extra_user_data.is_empty() { "agent_env" } else { "extra_user_data" },
        format!(
            "the instances' user data would be {n} bytes, over EC2's limit of {} (extra_user_data {} bytes, agent_env about {env}); move long set-up into a script the instances fetch (e.g. from S3) or into the image",
            template::USER_DATA_LIMIT,
            q.extra_user_data.len()
        ),
    ))
}

impl crate::core::TypedKind for AgentQueue {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "agent_queue"
    }
    fn doc(&self) -> &'static str {
        "An autoscaling pool of CI agents for one queue: a CloudFormation stack plus its scaler Lambda."
    }
    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    /// `name` defaults to the block label, `region` to the stack's.
    fn fill_defaults(&self, label: &str, env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
        default_attr(attrs, "region", &env.region);
    }
    fn check(&self, a: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let name = a.name.as_str();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            out.push(Diagnostic::attr("name", format!("queue name \"{name}\" must be 1-64 letters, digits, _ and -")));
        }
        let (min, max) = (a.min_size, a.max_size);
        if max < min {
            out.push(Diagnostic::attr("max_size", format!("max_size {max} is below min_size {min}")));
        }
        if a.terminate_after_job && a.agents_per_instance.unwrap_or(1) > 1 {
            out.push(Diagnostic::attr(
                "terminate_after_job",
                "one job per instance needs agents_per_instance = 1 (two agents would run two jobs side by side)",
            ));
        }
        out.extend(root_volume_problems(a));
        if let Err(e) = spec::registration_grace(a) {
            out.push(Diagnostic::attr("registration_grace", e));
        }
        if let Err(e) = spec::drain_seconds(a) {
            out.push(Diagnostic::attr("drain_timeout", e));
        }
        let types: Vec<&str> = a.instance_types.iter().map(String::as_str).collect();
        if types.is_empty() {
            out.push(Diagnostic::attr("instance_types", "list at least one instance type"));
        }
        for t in &types {
            if !valid_instance_type(t) {
                out.push(Diagnostic::attr("instance_types", format!("\"{t}\" is not an instance type (FAMILY.SIZE, e.g. c7i.2xlarge)")));
            }
        }
        if types.iter().any(|t| graviton(t)) && types.iter().any(|t| !graviton(t)) {
            out.push(Diagnostic::attr("instance_types", "mixes arm64 (Graviton) and x86_64 types; one image serves one architecture"));
        }
        let nvidia = types.iter().filter(|t| images::accelerator(t) == images::Accelerator::Nvidia).count();
        if nvidia > 0 && nvidia < types.len() {
            out.push(Diagnostic::attr("instance_types", "mixes NVIDIA GPU and other types; a GPU job must land on a GPU (use one queue for each)"));
        }
        let plain = a.image_ssm_parameter.as_deref().filter(|p| images::is_plain_amazon_linux(p));
        if let (Some(p), true, true) = (plain, nvidia > 0, a.gpu_image_check.unwrap_or(true)) {
            out.push(Diagnostic::attr(
                "image_ssm_parameter",
                format!("{p} has no NVIDIA driver, so jobs on {} cannot see the GPU; omit image_ssm_parameter for the Deep Learning Base GPU AMI, or set gpu_image_check = false if extra_user_data installs the driver", types[0]),
            ));
        }
        match (&a.image_id, &a.image_ssm_parameter) {
            (Some(_), Some(_)) => out.push(Diagnostic::attr("image_id", "set at most one of image_id and image_ssm_parameter")),
            (Some(id), None) if !(id.starts_with("ami-") && id.len() >= 12 && id[4..].chars().all(|c| c.is_ascii_hexdigit())) => {
                out.push(Diagnostic::attr("image_id", format!("\"{id}\" is not an AMI id (ami-xxxxxxxx)")))
            }
            _ => {}
        }
        out.extend(github::check(a));
        for p in secrets::check(&a.agent_secrets, &a.agent_env) {
            out.push(Diagnostic::attr("agent_secrets", p));
        }
        if a.subnets.is_empty() == a.vpc_id.is_some() {
            out.push(Diagnostic::attr("subnets", "subnets and vpc_id go together (omit both for the default VPC)"));
        }
        for s in a.subnets.iter().filter(|s| !s.starts_with("subnet-")) {
            out.push(Diagnostic::attr("subnets", format!("\"{s}\" is not a subnet id")));
        }
        match spec::scaler_env(a, "asg", "stack", &github::instance_arn_prefix("us-east-1", crate::core::OFFLINE_ACCOUNT_ID)) {
            // A missing token was reported above, by name.
            Err(e) if e.0.starts_with("AGENT_TOKEN_PARAMETER") => {}
            Err(e) => {
                // The same contract the scaler reads its environment with.
                let attr = if e.0.starts_with("SCALE_IN_IDLE") { "scale_in_idle" } else { "scaler" };
                out.push(Diagnostic::attr(attr, e.0));
            }
            Ok(_) => {}
        }
        out
    }
    fn local_inputs(&self, a: &mut State, bundled: &dyn crate::core::Bundled) -> Vec<Diagnostic> {
        scaler_zip::fill(a, bundled)
    }
    /// New grants of its roles, managed policies, boundaries and ingress,
    /// read from the template before and after.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let old = before.and_then(state::template_of);
        let new = state::template_of(after);
        crate::policy::access::widening(&access::of_template(old.as_ref(), false), &access::of_template(new.as_ref(), old.is_none()))
    }
    /// Says which scaler build a create or code update deploys.
    fn change_notes(&self, action: crate::core::Action, changes: &[AttrChange], desired: &State) -> Vec<String> {
        let Ok(desired) = Desired::parse(desired) else { return Vec::new() };
        let code = |v: &Value| serde_json::from_value::<FunctionState>(v.clone()).ok().and_then(|f| f.code_sha256);
        let code_changes = action != crate::core::Action::Update || changes.iter().any(|c| c.name == "function" && code(&c.before) != code(&c.after));
        let mut notes = match desired.zip_source {
            Some(source) if code_changes => vec![format!("scaler code: {source}")],
            _ => Vec::new(),
        };
        // The machines' bootstrap is bounded by EC2: say how close it is.
        let template_changes = action != crate::core::Action::Update || changes.iter().any(|c| c.name == "template");
        if let Some(n) = user_data_len(&desired.template).filter(|_| template_changes) {
            notes.push(format!("user data: {n} of {} bytes", template::USER_DATA_LIMIT));
        }
        notes
    }
    fn check_env(&self, a: &Spec, env: &Env) -> Vec<Diagnostic> {
        let mut out = match &a.region {
            Some(r) if !env.regions.iter().any(|x| x == r) => vec![Diagnostic::attr(
                "region",
                format!("region {r} is not one of the stack's regions ({}); add it to aws {{ extra_regions = [...] }}", env.regions.join(", ")),
            )],
            _ => Vec::new(),
        };
        out.extend(user_data_size_problem(&spec::build(a, env)));
        out
    }
    /// `region/name`, as the driver reads it: the same queue name may be
    /// used in two regions.
    fn identity(&self, a: &Spec) -> String {
        format!("{}/{}", a.region.as_deref().unwrap_or_default(), a.name)
    }
    fn cloud_names(&self, a: &Spec, env: &Env) -> Vec<String> {
        let region = a.region.as_deref().unwrap_or(&env.region);
        let n = spec::names(&env.stack, &a.name);
        vec![
            format!("CloudFormation stack {region}/{}", n.cfn_stack),
            format!("Lambda function {region}/{}", n.function),
            format!("IAM role {}", n.scaler_role),
            format!("IAM role {}", n.instance_role),
        ]
    }
    fn outputs(&self, a: &Spec, _attrs: &State, env: &Env) -> State {
        let q = spec::build(a, env);
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
    fn desired_state(&self, a: &Spec, env: &Env) -> State {
        let q = spec::build(a, env);
        Desired {
            region: q.region.clone(),
            stack_name: q.names.cfn_stack.clone(),
            stack_status: "usable".into(),
            // Parameters are never passed: their defaults live in the template, so
            // CloudFormation re-resolves an image SSM parameter on every update.
            template: template::render(&q),
            tags: q.tags.clone(),
            function: function_state(&q),
            zip_path: q.scaler.zip.as_ref().and_then(|z| z.path.clone()),
            zip_source: q.scaler.zip.as_ref().and_then(|z| z.source.clone()),
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
    fn managed_policy_arns(&self, a: &Spec) -> Vec<String> {
        a.managed_policy_arns.clone()
    }
    fn lint(&self, a: &Spec, _env: &Env) -> Vec<crate::lint::Finding> {
        let mut out = Vec::new();
        let policies: Vec<(&str, &Value)> = a.instance_policies.iter().map(|p| (p.file.as_str(), &p.document)).collect();
        for (file, doc) in &policies {
            out.extend(crate::lint::lint_permissions(doc, "instance_policies", Some(file)));
        }
        let managed: Vec<&str> = a.managed_policy_arns.iter().map(String::as_str).collect();
        out.extend(crate::lint::lint_managed(&managed, "managed_policy_arns"));
        if a.untrusted_code {
            out.extend(crate::lint::lint_untrusted(&crate::lint::UntrustedQueue {
                policies,
                secrets: a.agent_secrets.keys().map(String::as_str).collect(),
                terminate_after_job: a.github.is_some() || a.terminate_after_job,
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
        let marks = Marks::read(&live.state);
        let mut taken = Vec::new();
        if let Some(f) = &marks.foreign_function {
            taken.push(format!(
                "the Lambda function {f} has the name this queue's scaler needs but is not this queue's; gantry never changes or deletes it: rename or delete it, then plan again"
            ));
        }
        if !marks.foreign_roles.is_empty() {
            let list = &marks.foreign_roles;
            taken.push(format!(
                "IAM role(s) {} already exist, and this queue's CloudFormation stack (which creates them by these names) does not: creating it would fail half-way; delete or rename the role(s), or rename the queue, then plan again",
                list.join(", ")
            ));
        }
        if !taken.is_empty() {
            return Some(taken.join("; "));
        }
        let status = marks.raw_status.as_deref().unwrap_or("");
        if status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS" {
            return Some(format!("stack {} is {status}; wait for it to finish, then plan again", live.identity));
        }
        if status == "UPDATE_ROLLBACK_FAILED" {
            return Some(format!(
                "stack {} is UPDATE_ROLLBACK_FAILED; fix the cause shown in its events, then run `aws cloudformation continue-update-rollback --stack-name {}` and plan again",
                live.identity,
                marks.stack_name
            ));
        }
        if status == "DELETE_FAILED" {
            return Some(format!("stack {} is DELETE_FAILED; remove what blocks deletion (see its events) and run gantry destroy again", live.identity));
        }
        None
    }
}
