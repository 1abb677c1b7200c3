//! The Auto Scaling group behind a narrow trait: read its size limits,
//! desired capacity, protected instances and the persisted surplus clock;
//! set desired capacity; persist the clock (as a group tag, so it survives
//! cold starts and is shared by overlapping invocations).

use crate::decide::Group;
use async_trait::async_trait;
use aws_sdk_autoscaling::types::Tag;
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
    client: aws_sdk_autoscaling::Client,
    name: String,
}

impl AwsGroup {
    /// The group `name`.
    pub fn new(client: aws_sdk_autoscaling::Client, name: String) -> Self {
        AwsGroup { client, name }
    }
}

fn api<E: std::fmt::Display>(op: &'static str) -> impl Fn(E) -> GroupError {
    move |e| GroupError::Api { op, message: e.to_string() }
}

fn err_text<E, R>(e: aws_sdk_autoscaling::error::SdkError<E, R>) -> String
where
    E: aws_sdk_autoscaling::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(s) => format!("{}: {}", s.code().unwrap_or("Unknown"), s.message().unwrap_or("")),
        None => aws_sdk_autoscaling::error::DisplayErrorContext(&e).to_string(),
    }
}

#[async_trait]
impl GroupApi for AwsGroup {
    async fn describe(&self) -> Result<GroupState, GroupError> {
        let out = self
            .client
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(&self.name)
            .send()
            .await
            .map_err(|e| GroupError::Api { op: "DescribeAutoScalingGroups", message: err_text(e) })?;
        let g = out.auto_scaling_groups().first().ok_or_else(|| GroupError::NotFound(self.name.clone()))?;
        let protected = g.instances().iter().filter(|i| i.protected_from_scale_in() == Some(true)).count() as u32;
        let since = g.tags().iter().find(|t| t.key() == Some(SURPLUS_TAG)).and_then(|t| t.value()).and_then(|v| v.parse().ok());
        let group = Group {
            desired: g.desired_capacity().unwrap_or(0).max(0) as u32,
            min: g.min_size().unwrap_or(0).max(0) as u32,
            max: g.max_size().unwrap_or(0).max(0) as u32,
            protected,
            az_rebalance_suspended: g.suspended_processes().iter().any(|p| p.process_name() == Some("AZRebalance")),
            unhealthy: g.instances().iter().filter(|i| i.health_status() == Some("Unhealthy")).count() as u32,
        };
        let members = g
            .instances()
            .iter()
            .map(|i| Member {
                id: i.instance_id().unwrap_or_default().to_string(),
                lifecycle: i.lifecycle_state().map(|l| l.as_str().to_string()).unwrap_or_default(),
                healthy: i.health_status() != Some("Unhealthy"),
            })
            .collect();
        Ok(GroupState { group, surplus_since: since, members })
    }

    async fn set_unhealthy(&self, instance_id: &str) -> Result<(), GroupError> {
        self.client
            .set_instance_health()
            .instance_id(instance_id)
            .health_status("Unhealthy")
            .should_respect_grace_period(false)
            .send()
            .await
            .map_err(|e| GroupError::Api { op: "SetInstanceHealth", message: err_text(e) })?;
        Ok(())
    }

    async fn set_desired(&self, desired: u32) -> Result<(), GroupError> {
        self.client
            .set_desired_capacity()
            .auto_scaling_group_name(&self.name)
            .desired_capacity(desired as i32)
            .honor_cooldown(false)
            .send()
            .await
            .map_err(|e| GroupError::Api { op: "SetDesiredCapacity", message: err_text(e) })?;
        Ok(())
    }

    async fn suspend_az_rebalance(&self) -> Result<(), GroupError> {
        self.client
            .suspend_processes()
            .auto_scaling_group_name(&self.name)
            .scaling_processes("AZRebalance")
            .send()
            .await
            .map_err(|e| GroupError::Api { op: "SuspendProcesses", message: err_text(e) })?;
        Ok(())
    }

    async fn set_surplus_since(&self, since: Option<u64>) -> Result<(), GroupError> {
        let tag = Tag::builder()
            .resource_id(&self.name)
            .resource_type("auto-scaling-group")
            .key(SURPLUS_TAG)
            .value(since.map(|s| s.to_string()).unwrap_or_default())
            .propagate_at_launch(false)
            .build();
        match since {
            Some(_) => self.client.create_or_update_tags().tags(tag).send().await.map(|_| ()).map_err(api("CreateOrUpdateTags")),
            None => self.client.delete_tags().tags(tag).send().await.map(|_| ()).map_err(api("DeleteTags")),
        }
    }
}
