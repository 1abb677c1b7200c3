//! The Auto Scaling group behind a narrow trait: read its size limits,
//! desired capacity, protected instances and the persisted surplus clock;
//! set desired capacity; persist the clock (as a group tag, so it survives
//! cold starts and is shared by overlapping invocations).

use crate::decide::Group;
use async_trait::async_trait;
use gantry_aws_wire::autoscaling::{AutoScaling, GroupTag};
use gantry_aws_wire::CallError;
use thiserror::Error;

/// Tag holding the unix time surplus capacity was first seen.
pub const SURPLUS_TAG: &str = "gantry:scaler:surplus-since";

/// Auto Scaling failures (all fail the invocation).
#[derive(Debug, Error)]
pub enum GroupError {
    /// No group of that name.
    #[error("Auto Scaling group {0} does not exist")]
    NotFound(String),
    /// An Auto Scaling call failed.
    #[error("Auto Scaling {op}: {message}")]
    Api {
        /// The operation.
        op: &'static str,
        /// What the API said.
        message: String,
    },
}

/// One instance of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The instance id.
    pub id: String,
    /// `Pending`, `Pending:Wait`, `InService`, `Terminating:Wait`, …
    pub lifecycle: String,
    /// Auto Scaling holds it healthy.
    pub healthy: bool,
}

impl Member {
    /// Booting or serving: it should have (or be getting) a runner.
    pub fn active(&self) -> bool {
        self.healthy && (self.lifecycle == "InService" || self.lifecycle.starts_with("Pending"))
    }
}

/// What one describe returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    /// Its sizes and settings.
    pub group: Group,
    /// The persisted surplus clock.
    pub surplus_since: Option<u64>,
    /// Its instances.
    pub members: Vec<Member>,
}

/// The group operations the scaler needs.
#[async_trait]
pub trait GroupApi: Send + Sync {
    /// Current state, the persisted surplus clock and the instances.
    async fn describe(&self) -> Result<GroupState, GroupError>;
    /// Sets desired capacity (no cooldown: bursts are served at once).
    async fn set_desired(&self, desired: u32) -> Result<(), GroupError>;
    /// Persists (or clears) the surplus clock.
    async fn set_surplus_since(&self, since: Option<u64>) -> Result<(), GroupError>;
    /// Suspends the group's AZRebalance process (CloudFormation cannot).
    async fn suspend_az_rebalance(&self) -> Result<(), GroupError>;
    /// Marks an instance Unhealthy, so Auto Scaling replaces it.
    async fn set_unhealthy(&self, instance_id: &str) -> Result<(), GroupError>;
}

/// The real group, through the Auto Scaling API.
pub struct AwsGroup {
    client: AutoScaling,
    name: String,
}

impl AwsGroup {
    /// The group `name`.
    pub fn new(client: AutoScaling, name: String) -> Self {
        AwsGroup { client, name }
    }
}

fn api(op: &'static str) -> impl Fn(CallError) -> GroupError {
    move |e| GroupError::Api { op, message: e.to_string() }
}

#[async_trait]
impl GroupApi for AwsGroup {
    async fn describe(&self) -> Result<GroupState, GroupError> {
        let g =
            self.client.describe_group(&self.name).await.map_err(api("DescribeAutoScalingGroups"))?.ok_or_else(|| GroupError::NotFound(self.name.clone()))?;
        let since = g.tags.iter().find(|t| t.key == SURPLUS_TAG).and_then(|t| t.value.parse().ok());
        let group = Group {
            desired: g.desired_capacity.max(0) as u32,
            min: g.min_size.max(0) as u32,
            max: g.max_size.max(0) as u32,
            protected: g.instances.iter().filter(|i| i.protected_from_scale_in).count() as u32,
            az_rebalance_suspended: g.suspended_processes.iter().any(|p| p == "AZRebalance"),
            unhealthy: g.instances.iter().filter(|i| i.health_status == "Unhealthy").count() as u32,
        };
        let members = g
            .instances
            .iter()
            .map(|i| Member { id: i.instance_id.clone(), lifecycle: i.lifecycle_state.clone(), healthy: i.health_status != "Unhealthy" })
            .collect();
        Ok(GroupState { group, surplus_since: since, members })
    }

    async fn set_unhealthy(&self, instance_id: &str) -> Result<(), GroupError> {
        self.client.set_instance_health(instance_id, "Unhealthy", false).await.map_err(api("SetInstanceHealth"))
    }

    async fn set_desired(&self, desired: u32) -> Result<(), GroupError> {
        self.client.set_desired_capacity(&self.name, desired, false).await.map_err(api("SetDesiredCapacity"))
    }

    async fn suspend_az_rebalance(&self) -> Result<(), GroupError> {
        self.client.suspend_processes(&self.name, &["AZRebalance"]).await.map_err(api("SuspendProcesses"))
    }

    async fn set_surplus_since(&self, since: Option<u64>) -> Result<(), GroupError> {
        let tag = GroupTag {
            group: self.name.clone(),
            key: SURPLUS_TAG.to_string(),
            value: since.map(|s| s.to_string()).unwrap_or_default(),
            propagate_at_launch: false,
        };
        match since {
            Some(_) => self.client.create_or_update_tags(&[tag]).await.map_err(api("CreateOrUpdateTags")),
            None => self.client.delete_tags(&[tag]).await.map_err(api("DeleteTags")),
        }
    }
}
