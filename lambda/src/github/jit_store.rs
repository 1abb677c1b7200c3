//! Where instances pick up their runner configuration: one SSM
//! SecureString per instance, `JIT_CONFIG_PATH/INSTANCE_ID`, tagged
//! `gantry:instance` with the instance's ARN. The scaler writes it, the
//! instance reads it at boot (its role may read only a configuration tagged
//! with its own ARN), and the scaler deletes it once the runner is online or the
//! instance is gone. A configuration works once, so a copy left behind is
//! useless to anyone who reads it later.

use super::GithubError;
use async_trait::async_trait;
use gantry_aws_wire::ssm::{ParameterFilter, PutParameter, Ssm, Tag};
use gantry_aws_wire::CallError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Standard parameters hold 4 KB; a configuration larger than that needs
/// the Advanced tier (SSM "Parameter tiers").
const STANDARD_MAX: usize = 4096;

/// The configuration store.
#[async_trait]
pub trait JitStore: Send + Sync {
    /// Instance id → when its configuration was written (unix seconds).
    async fn list(&self) -> Result<BTreeMap<String, u64>, GithubError>;
    /// Writes an instance's runner configuration.
    async fn put(&self, instance_id: &str, config: &str) -> Result<(), GithubError>;
    /// Removes an instance's configuration (absent is fine).
    async fn delete(&self, instance_id: &str) -> Result<(), GithubError>;
}

fn ssm_err(op: &str) -> impl Fn(CallError) -> GithubError + '_ {
    move |e| GithubError::Http(0, format!("SSM {op}: {e}"))
}

/// SSM Parameter Store.
pub struct SsmJitStore {
    client: Arc<Ssm>,
    path: String,
    instance_arn_prefix: String,
}

impl SsmJitStore {
    /// A store of parameters under `path`; instance ARNs start with `instance_arn_prefix`.
    pub fn new(client: Arc<Ssm>, path: &str, instance_arn_prefix: &str) -> Self {
        SsmJitStore { client, path: path.to_string(), instance_arn_prefix: instance_arn_prefix.to_string() }
    }
}

/// Every parameter directly under `path`, decrypted, by last path segment.
pub async fn read_path(client: &Ssm, path: &str) -> Result<BTreeMap<String, String>, GithubError> {
    let found = client.parameters_by_path(path).await.map_err(ssm_err("GetParametersByPath"))?;
    Ok(found.into_iter().map(|p| (last_segment(&p.name), p.value)).collect())
}

/// `/a/b/c` → `c`.
fn last_segment(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

#[async_trait]
impl JitStore for SsmJitStore {
    async fn list(&self) -> Result<BTreeMap<String, u64>, GithubError> {
        // Names and dates only: DescribeParameters never returns values.
        let filter = ParameterFilter { key: "Path".into(), option: "OneLevel".into(), values: vec![self.path.clone()] };
        let found = self.client.describe(&[filter]).await.map_err(ssm_err("DescribeParameters"))?;
        Ok(found.into_iter().map(|p| (last_segment(&p.name), p.last_modified_date.map(|t| t.max(0.0) as u64).unwrap_or(0))).collect())
    }

    async fn put(&self, instance_id: &str, config: &str) -> Result<(), GithubError> {
        let put = PutParameter {
            name: format!("{}/{instance_id}", self.path),
            value: config.to_string(),
            kind: "SecureString".into(),
            tier: Some(if config.len() > STANDARD_MAX { "Advanced" } else { "Standard" }.into()),
            overwrite: false,
            tags: vec![Tag { key: gantry_scaler_env::github::INSTANCE_TAG.into(), value: format!("{}{instance_id}", self.instance_arn_prefix) }],
        };
        // Tags are given on create only: PutParameter refuses them with
        // Overwrite. A configuration left from an earlier round is deleted
        // first (it works once; this one replaces it).
        match self.client.put_parameter(&put).await {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("ParameterAlreadyExists") => {
                self.delete(instance_id).await?;
                self.client.put_parameter(&put).await.map_err(ssm_err("PutParameter"))
            }
            Err(e) => Err(ssm_err("PutParameter")(e)),
        }
    }

    async fn delete(&self, instance_id: &str) -> Result<(), GithubError> {
        match self.client.delete_parameter(&format!("{}/{instance_id}", self.path)).await {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("ParameterNotFound") => Ok(()),
            Err(e) => Err(ssm_err("DeleteParameter")(e)),
        }
    }
}
