//! Where instances pick up their runner configuration: one SSM
//! SecureString per instance, `JIT_CONFIG_PATH/INSTANCE_ID`, tagged
//! `gantry:instance` with the instance's ARN. The scaler writes it, the
//! instance reads it at boot (its role may read only a configuration tagged
//! with its own ARN), and the scaler deletes it once the runner is online or the
//! instance is gone. A configuration works once, so a copy left behind is
//! useless to anyone who reads it later.

use super::GithubError;
use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use std::collections::BTreeMap;
use std::time::UNIX_EPOCH;

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

fn ssm_err<E>(op: &str) -> impl Fn(aws_sdk_ssm::error::SdkError<E, aws_sdk_ssm::config::http::HttpResponse>) -> GithubError + '_
where
    E: aws_sdk_ssm::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| GithubError::Http(0, format!("SSM {op}: {}", aws_sdk_ssm::error::DisplayErrorContext(&e)))
}

/// SSM Parameter Store.
pub struct SsmJitStore {
    client: aws_sdk_ssm::Client,
    path: String,
    instance_arn_prefix: String,
}

impl SsmJitStore {
    /// A store of parameters under `path`; instance ARNs start with `instance_arn_prefix`.
    pub fn new(client: aws_sdk_ssm::Client, path: &str, instance_arn_prefix: &str) -> Self {
        SsmJitStore { client, path: path.to_string(), instance_arn_prefix: instance_arn_prefix.to_string() }
    }
}

/// Every parameter directly under `path`, decrypted, by last path segment.
pub async fn read_path(client: &aws_sdk_ssm::Client, path: &str) -> Result<BTreeMap<String, String>, GithubError> {
    let mut out = BTreeMap::new();
    let mut pages = client.get_parameters_by_path().path(path).with_decryption(true).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ssm_err("GetParametersByPath"))?;
        for p in page.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                out.insert(name.rsplit('/').next().unwrap_or(name).to_string(), value.to_string());
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl JitStore for SsmJitStore {
    async fn list(&self) -> Result<BTreeMap<String, u64>, GithubError> {
        // Names and dates only: DescribeParameters never returns values.
        let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
            .key("Path")
            .option("OneLevel")
            .values(&self.path)
            .build()
            .map_err(|e| GithubError::Http(0, e.to_string()))?;
        let mut out = BTreeMap::new();
        let mut pages = self.client.describe_parameters().parameter_filters(filter).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(ssm_err("DescribeParameters"))?;
            for p in page.parameters() {
                let Some(name) = p.name() else { continue };
                let at = p
                    .last_modified_date()
                    .and_then(|d| std::time::SystemTime::try_from(*d).ok())
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                out.insert(name.rsplit('/').next().unwrap_or(name).to_string(), at);
            }
        }
        Ok(out)
    }

    async fn put(&self, instance_id: &str, config: &str) -> Result<(), GithubError> {
        let tier = if config.len() > STANDARD_MAX { ParameterTier::Advanced } else { ParameterTier::Standard };
        let tag = aws_sdk_ssm::types::Tag::builder()
            .key(gantry_scaler_env::github::INSTANCE_TAG)
            .value(format!("{}{instance_id}", self.instance_arn_prefix))
            .build()
            .map_err(|e| GithubError::Http(0, e.to_string()))?;
        // Tags are given on create only: PutParameter refuses them with
        // Overwrite. A configuration left from an earlier round is deleted
        // first (it works once; this one replaces it).
        let put = || {
            self.client
                .put_parameter()
                .name(format!("{}/{instance_id}", self.path))
                .value(config)
                .r#type(ParameterType::SecureString)
                .tier(tier.clone())
                .tags(tag.clone())
                .send()
        };
        match put().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_already_exists()) => {
                self.delete(instance_id).await?;
                put().await.map(|_| ()).map_err(ssm_err("PutParameter"))
            }
            Err(e) => Err(ssm_err("PutParameter")(e)),
        }
    }

    async fn delete(&self, instance_id: &str) -> Result<(), GithubError> {
        match self.client.delete_parameter().name(format!("{}/{instance_id}", self.path)).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => Ok(()),
            Err(e) => Err(ssm_err("DeleteParameter")(e)),
        }
    }
}
