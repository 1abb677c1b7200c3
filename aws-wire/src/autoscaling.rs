//! The Auto Scaling calls the scaler makes on its queue's group: one
//! describe, the desired capacity, an instance's health, the suspended
//! AZRebalance process and the group tag that holds the surplus clock.
//! Shapes: Amazon EC2 Auto Scaling API Reference (API version 2011-01-01),
//! each action's "Request Parameters" and "Response Elements" and the data
//! types AutoScalingGroup, Instance, SuspendedProcess and TagDescription.

use crate::error::CallError;
use crate::query_service::QueryService;
use crate::xml::Element;
use aws_types::SdkConfig;

/// The API version every request names.
const VERSION: &str = "2011-01-01";

/// One Auto Scaling group, as DescribeAutoScalingGroups returns it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutoScalingGroup {
    /// `AutoScalingGroupName`.
    pub name: String,
    /// `MinSize`.
    pub min_size: i64,
    /// `MaxSize`.
    pub max_size: i64,
    /// `DesiredCapacity`.
    pub desired_capacity: i64,
    /// `Instances`.
    pub instances: Vec<GroupInstance>,
    /// The names of its `SuspendedProcesses` (`AZRebalance`, ...).
    pub suspended_processes: Vec<String>,
    /// `Tags`.
    pub tags: Vec<GroupTag>,
}

/// One instance of a group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupInstance {
    /// `InstanceId`.
    pub instance_id: String,
    /// `LifecycleState`: `Pending`, `InService`, `Terminating:Wait`, ...
    pub lifecycle_state: String,
    /// `HealthStatus`: `Healthy` or `Unhealthy`.
    pub health_status: String,
    /// `ProtectedFromScaleIn`.
    pub protected_from_scale_in: bool,
}

/// A tag of a group (`ResourceType` is always `auto-scaling-group`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupTag {
    /// The group's name (`ResourceId`).
    pub group: String,
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
    /// `PropagateAtLaunch`: instances launched get it too.
    pub propagate_at_launch: bool,
}

/// The Auto Scaling API of one region.
pub struct AutoScaling {
    query: QueryService,
}

impl AutoScaling {
    /// A client for `region` with `config`'s credentials and endpoint
    /// (`AWS_ENDPOINT_URL_AUTO_SCALING`, else the configured one), retried
    /// as the SDKs' standard mode.
    pub fn new(config: &SdkConfig, region: &str) -> AutoScaling {
        AutoScaling { query: QueryService::new(config, "autoscaling", VERSION, region) }
    }

    /// The Query service underneath, for actions this client does not wrap.
    pub fn query(&self) -> &QueryService {
        &self.query
    }

    /// The group `name`, or None when there is none.
    pub async fn describe_group(&self, name: &str) -> Result<Option<AutoScalingGroup>, CallError> {
        let params = [("AutoScalingGroupNames.member.1".to_string(), name.to_string())];
        let xml = self.query.call("DescribeAutoScalingGroups", &params).await?;
        let groups = read_groups(&xml)?;
        Ok(groups.into_iter().find(|g| g.name == name))
    }

    /// Sets the group's desired capacity; `honor_cooldown` false serves a
    /// burst at once.
    pub async fn set_desired_capacity(&self, name: &str, desired: u32, honor_cooldown: bool) -> Result<(), CallError> {
        let params = [
            ("AutoScalingGroupName".to_string(), name.to_string()),
            ("DesiredCapacity".to_string(), desired.to_string()),
            ("HonorCooldown".to_string(), honor_cooldown.to_string()),
        ];
        self.query.call("SetDesiredCapacity", &params).await.map(drop)
    }

    /// Sets an instance's health (`Healthy`, `Unhealthy`).
    pub async fn set_instance_health(&self, instance_id: &str, health: &str, respect_grace_period: bool) -> Result<(), CallError> {
        let params = [
            ("InstanceId".to_string(), instance_id.to_string()),
            ("HealthStatus".to_string(), health.to_string()),
            ("ShouldRespectGracePeriod".to_string(), respect_grace_period.to_string()),
        ];
        self.query.call("SetInstanceHealth", &params).await.map(drop)
    }

    /// Suspends `processes` (`AZRebalance`, ...) of the group.
    pub async fn suspend_processes(&self, name: &str, processes: &[&str]) -> Result<(), CallError> {
        let mut params = vec![("AutoScalingGroupName".to_string(), name.to_string())];
        params.extend(processes.iter().enumerate().map(|(i, p)| (format!("ScalingProcesses.member.{}", i + 1), p.to_string())));
        self.query.call("SuspendProcesses", &params).await.map(drop)
    }

    /// Creates or overwrites `tags`.
    pub async fn create_or_update_tags(&self, tags: &[GroupTag]) -> Result<(), CallError> {
        self.query.call("CreateOrUpdateTags", &tag_params(tags)).await.map(drop)
    }

    /// Deletes `tags` (matched by group and key).
    pub async fn delete_tags(&self, tags: &[GroupTag]) -> Result<(), CallError> {
        self.query.call("DeleteTags", &tag_params(tags)).await.map(drop)
    }
}

/// `Tags.member.N.*` of CreateOrUpdateTags and DeleteTags.
fn tag_params(tags: &[GroupTag]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let p = |field: &str| format!("Tags.member.{}.{field}", i + 1);
        out.push((p("ResourceId"), t.group.clone()));
        out.push((p("ResourceType"), "auto-scaling-group".to_string()));
        out.push((p("Key"), t.key.clone()));
        out.push((p("Value"), t.value.clone()));
        out.push((p("PropagateAtLaunch"), t.propagate_at_launch.to_string()));
    }
    out
}

/// The groups of a DescribeAutoScalingGroups answer.
pub(crate) fn read_groups(xml: &str) -> Result<Vec<AutoScalingGroup>, CallError> {
    let containers = ["DescribeAutoScalingGroupsResult", "AutoScalingGroups", "member", "Instances", "SuspendedProcesses", "Tags"];
    let doc = Element::parse(xml, &containers)?;
    let result =
        doc.child("DescribeAutoScalingGroupsResult").ok_or_else(|| CallError::Decode(format!("DescribeAutoScalingGroups: no result in <{}>", doc.name)))?;
    Ok(result.members("AutoScalingGroups").map(read_group).collect())
}

fn read_group(g: &Element) -> AutoScalingGroup {
    let text = |e: &Element, name: &str| e.text_of(name).unwrap_or_default().to_string();
    let number = |name: &str| g.text_of(name).and_then(|v| v.parse().ok()).unwrap_or(0);
    AutoScalingGroup {
        name: text(g, "AutoScalingGroupName"),
        min_size: number("MinSize"),
        max_size: number("MaxSize"),
        desired_capacity: number("DesiredCapacity"),
        instances: g
            .members("Instances")
            .map(|i| GroupInstance {
                instance_id: text(i, "InstanceId"),
                lifecycle_state: text(i, "LifecycleState"),
                health_status: text(i, "HealthStatus"),
                protected_from_scale_in: i.text_of("ProtectedFromScaleIn") == Some("true"),
            })
            .collect(),
        suspended_processes: g.members("SuspendedProcesses").map(|p| text(p, "ProcessName")).collect(),
        tags: g
            .members("Tags")
            .map(|t| GroupTag {
                group: text(t, "ResourceId"),
                key: text(t, "Key"),
                value: text(t, "Value"),
                propagate_at_launch: t.text_of("PropagateAtLaunch") == Some("true"),
            })
            .collect(),
    }
}
