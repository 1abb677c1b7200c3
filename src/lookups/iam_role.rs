//! `data "iam_role"`: an existing IAM role by name (e.g. a permissions
//! boundary owner's role, or a role another team manages), for its ARN.

use super::{given, read_args, DataSource, LookupApis, LookupError};
use crate::core::schema::{Attr, HasSchema, Schema, Ty};
use crate::core::DataSchema;
use crate::core::State;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::Deserialize;
use serde_json::json;

pub(super) struct IamRole;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
struct Args {
    /// The role's name (without its path).
    #[schema(required)]
    name: Option<String>,
}

static ATTRIBUTES: &[Attr] = &[
    Attr::new("arn", Ty::String, "The role's ARN (with its path)."),
    Attr::new("name", Ty::String, "The role's name."),
    Attr::new("path", Ty::String, "The role's path, e.g. /gantry/."),
    Attr::new("unique_id", Ty::String, "IAM's stable id for this role (AROA...)."),
    Attr::new("max_session_duration", Ty::Int, "Longest session, in seconds."),
];

impl DataSchema for IamRole {
    fn name(&self) -> &'static str {
        "iam_role"
    }
    fn doc(&self) -> &'static str {
        "An existing IAM role, by name."
    }
    fn schema(&self) -> &'static Schema {
        &Args::SCHEMA
    }
    fn attributes(&self) -> &'static [Attr] {
        ATTRIBUTES
    }
}

#[async_trait]
impl DataSource for IamRole {
    async fn read(&self, args: &State, apis: &LookupApis) -> Result<State, LookupError> {
        let a: Args = read_args(args);
        let name = given(&a.name).unwrap_or_default();
        let Some(r) = apis.aws(self.name())?.role(name).await? else {
            return Err(LookupError::Missing(format!("no IAM role named \"{name}\" in account {}", apis.account_id)));
        };
        let mut out = State::new();
        out.insert("arn".into(), json!(r.arn));
        out.insert("name".into(), json!(name));
        out.insert("path".into(), json!(r.path));
        out.insert("unique_id".into(), json!(r.unique_id));
        out.insert("max_session_duration".into(), json!(r.max_session_duration));
        Ok(out)
    }
}
