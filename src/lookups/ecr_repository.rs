//! `data "ecr_repository"`: a repository another stack or team owns (e.g.
//! the base images CI pulls), for its URL and ARN.

use super::{given, LookupApis, LookupError, TypedRead};
use crate::core::Diagnostic;
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

pub(super) struct EcrRepository;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// Repository name, e.g. team/base.
    #[schema(required)]
    name: Option<String>,
    /// Account id of the registry (default: the stack's account).
    registry_id: Option<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The repository's ARN.
    arn: String,
    /// Repository name.
    name: String,
    /// ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME, for docker pull/push.
    repository_url: String,
    /// Account id of the registry.
    registry_id: String,
}

impl TypedDataSchema for EcrRepository {
    const NAME: &'static str = "ecr_repository";
    const DOC: &'static str = "An existing ECR repository the stack does not own.";
    type Args = Args;
    type Found = Found;
    fn check_args(&self, a: &Args) -> Vec<Diagnostic> {
        match given(&a.registry_id) {
            Some(id) if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) => {
                vec![Diagnostic::attr("registry_id", format!("\"{id}\" is not a 12-digit AWS account id"))]
            }
            _ => Vec::new(),
        }
    }
}

#[async_trait]
impl TypedRead for EcrRepository {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let name = given(&a.name).unwrap_or_default();
        let registry = given(&a.registry_id);
        let Some(r) = apis.aws(Self::NAME)?.repository(name, registry).await? else {
            let account = registry.unwrap_or(&apis.account_id);
            return Err(LookupError::Missing(format!("no ECR repository named \"{name}\" in registry {account} ({})", apis.region)));
        };
        Ok(Found { arn: r.arn, name: name.to_string(), repository_url: r.uri, registry_id: r.registry_id })
    }
}
