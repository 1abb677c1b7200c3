//! A queue's capacity for the cost ceiling, read from its template (the
//! desired one, or the one CloudFormation holds): the Auto Scaling group's
//! sizes and instance types, parsed into types.

use crate::core::{Capacity, State};
use serde::Deserialize;

#[derive(Deserialize)]
struct QueueState {
    region: String,
    template: Template,
}

#[derive(Deserialize)]
struct Template {
    #[serde(rename = "Resources")]
    resources: Resources,
}

#[derive(Deserialize)]
struct Resources {
    #[serde(rename = "AutoScalingGroup")]
    asg: Group,
}

#[derive(Deserialize)]
struct Group {
    #[serde(rename = "Properties")]
    props: GroupProps,
}

/// `AWS::AutoScaling::AutoScalingGroup` sizes are strings in templates.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupProps {
    min_size: String,
    max_size: String,
    mixed_instances_policy: Mixed,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Mixed {
    launch_template: LaunchTemplate,
    instances_distribution: Option<Distribution>,
}

/// Numbers in a template may come back from CloudFormation as strings.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Distribution {
    on_demand_percentage_above_base_capacity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LaunchTemplate {
    overrides: Vec<Override>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Override {
    instance_type: String,
}

/// None when the state holds no group gantry can read (a stack someone
/// else shaped): the plan then says the ceiling is unknown.
pub fn capacity(state: &State) -> Option<Capacity> {
    let q: QueueState = serde_json::from_value(serde_json::Value::Object(state.clone())).ok()?;
    let p = q.template.resources.asg.props;
    let percent = p.mixed_instances_policy.instances_distribution.as_ref().and_then(|d| d.on_demand_percentage_above_base_capacity.as_ref());
    let on_demand_percent = match percent {
        None => 100,
        Some(serde_json::Value::String(s)) => s.parse().ok()?,
        Some(v) => u32::try_from(v.as_u64()?).ok()?,
    };
    Some(Capacity {
        cloud: "aws".into(),
        location: q.region,
        types: p.mixed_instances_policy.launch_template.overrides.into_iter().map(|o| o.instance_type).collect(),
        parts: Vec::new(),
        min: p.min_size.parse().ok()?,
        max: p.max_size.parse().ok()?,
        on_demand_percent,
    })
}
