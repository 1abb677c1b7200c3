//! `data "iam_role"`: an existing IAM role by name (e.g. a permissions
//! boundary owner's role, or a role another team manages), for its ARN.

use super::{given, LookupApis, LookupError, TypedRead};
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

pub(super) struct IamRole;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// The role's name (without its path).
    #[schema(required)]
    name: Option<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The role's ARN (with its path).
    arn: String,
    /// The role's name.
    name: String,
    /// The role's path, e.g. /gantry/.
    path: String,
    /// IAM's stable id for this role (AROA...).
    unique_id: String,
    /// Longest session, in seconds.
    max_session_duration: i64,
}

impl TypedDataSchema for IamRole {
    const NAME: &'static str = "iam_role";
    const DOC: &'static str = "An existing IAM role, by name.";
    type Args = Args;
    type Found = Found;
}

#[async_trait]
impl TypedRead for IamRole {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let name = given(&a.name).unwrap_or_default();
        let Some(r) = apis.aws(Self::NAME)?.role(name).await? else {
            return Err(LookupError::Missing(format!("no IAM role named \"{name}\" in account {}", apis.account_id)));
        };
        Ok(Found { arn: r.arn, name: name.to_string(), path: r.path, unique_id: r.unique_id, max_session_duration: r.max_session_duration })
    }
}
