//! Managed policy documents, read at plan time so the security lint judges
//! a managed policy by what it grants, not by its name. A version of a
//! policy never changes (IAM: "you cannot edit a version"), so documents
//! are cached on disk by ARN and version: a plan pays one GetPolicy per
//! policy, and GetPolicyVersion only for a version it has not seen.

use crate::cloud::aws::{classify, AwsContext};
use crate::core::error::ProviderError;
use crate::engine::managed_lint::ManagedPolicyApi;
use async_trait::async_trait;
use serde_json::Value;
use std::path::PathBuf;

/// IAM, with the on-disk cache.
pub struct AwsManagedPolicies {
    iam: aws_sdk_iam::Client,
    cache: Option<PathBuf>,
}

impl AwsManagedPolicies {
    /// Over the account's IAM client, with the per-user document cache.
    pub fn new(ctx: &AwsContext) -> Self {
        AwsManagedPolicies { iam: ctx.iam(), cache: cache_dir() }
    }
}

/// `$XDG_CACHE_HOME/gantry/managed-policies` (or `~/.cache/…`); none when
/// neither is set (then every document is read).
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("gantry").join("managed-policies"))
}

/// A file name for (ARN, version): only safe characters.
fn cache_name(arn: &str, version: &str) -> String {
    let safe = |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect::<String>();
    format!("{}@{}.json", safe(arn), safe(version))
}

#[async_trait]
impl ManagedPolicyApi for AwsManagedPolicies {
    async fn document(&self, arn: &str) -> Result<Option<Value>, ProviderError> {
        let policy = match self.iam.get_policy().policy_arn(arn).send().await {
            Ok(p) => p,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => return Ok(None),
            Err(e) => return Err(classify("iam", "GetPolicy", e)),
        };
        let Some(version) = policy.policy().and_then(|p| p.default_version_id()).map(String::from) else { return Ok(None) };
        let cached = self.cache.as_ref().map(|d| d.join(cache_name(arn, &version)));
        if let Some(doc) = cached
            .as_ref()
            .and_then(|p| crate::core::bounded::read_limited(p, crate::core::bounded::TEXT_LIMIT).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            return Ok(Some(doc));
        }
        let out = self.iam.get_policy_version().policy_arn(arn).version_id(&version).send().await.map_err(|e| classify("iam", "GetPolicyVersion", e))?;
        let text = out.policy_version().and_then(|v| v.document()).unwrap_or_default();
        let Ok(doc) = crate::policy::parse_document(text) else { return Ok(None) };
        if let Some(path) = cached {
            // Best effort: a cache that cannot be written only costs a call next time.
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let written = path.parent().map(std::fs::create_dir_all).transpose().is_ok() && std::fs::write(&tmp, doc.to_string()).is_ok();
            if written {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
        Ok(Some(doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_are_plain_file_names() {
        let n = cache_name("arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole", "v12");
        assert_eq!(n, "arn_aws_iam__aws_policy_service-role_AmazonElasticMapReduceRole@v12.json");
        assert!(!cache_name("../../etc", "../x").contains('/'));
    }
}
