//! `data "vpc"`: one existing VPC, by id, tags or as the region's default,
//! e.g. the network team's CI VPC a queue's subnets come from.

use super::{given, LookupApis, LookupError, TypedRead, VpcQuery};
use crate::core::Diagnostic;
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(super) struct VpcSource;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// The VPC id (vpc-...).
    id: Option<String>,
    /// Tags the VPC must have (all of them).
    #[schema(default = empty)]
    tags: BTreeMap<String, String>,
    /// The region's default VPC.
    #[schema(default = false)]
    default: bool,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The VPC id.
    id: String,
    /// arn:aws:ec2:REGION:OWNER:vpc/ID.
    arn: String,
    /// Primary IPv4 CIDR block.
    cidr_block: String,
    /// Whether it is the region's default VPC.
    default: bool,
    /// Account that owns it (another account's for a shared VPC).
    owner_id: String,
    /// Its tags.
    tags: BTreeMap<String, String>,
}

fn query(a: &Args) -> VpcQuery {
    VpcQuery { id: given(&a.id).map(String::from), tags: a.tags.clone(), default: a.default }
}

/// What the query asked for, for messages.
fn describe(q: &VpcQuery) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &q.id {
        parts.push(format!("id {id}"));
    }
    if q.default {
        parts.push("default = true".into());
    }
    if !q.tags.is_empty() {
        parts.push(format!("tags {}", q.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")));
    }
    parts.join(" and ")
}

impl TypedDataSchema for VpcSource {
    const NAME: &'static str = "vpc";
    const DOC: &'static str = "One existing VPC in the stack's region. Exactly one must match.";
    type Args = Args;
    type Found = Found;
    fn check_args(&self, a: &Args) -> Vec<Diagnostic> {
        let q = query(a);
        let mut out = Vec::new();
        if q.id.is_none() && q.tags.is_empty() && !q.default {
            out.push(Diagnostic::attr("id", "say which VPC: set id, tags, or default = true"));
        }
        if q.id.as_deref().is_some_and(|id| !id.starts_with("vpc-")) {
            out.push(Diagnostic::attr("id", format!("\"{}\" is not a VPC id (vpc-...)", q.id.unwrap_or_default())));
        }
        out
    }
}

#[async_trait]
impl TypedRead for VpcSource {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let q = query(a);
        let found = apis.aws(Self::NAME)?.vpcs(&q).await?;
        let v = match found.as_slice() {
            [one] => one,
            [] => return Err(LookupError::Missing(format!("no VPC in {} matches {}", apis.region, describe(&q)))),
            many => {
                let ids: Vec<&str> = many.iter().map(|v| v.id.as_str()).collect();
                return Err(LookupError::Missing(format!("{} VPCs match {}: {}; narrow it down (id or more tags)", many.len(), describe(&q), ids.join(", "))));
            }
        };
        Ok(Found {
            id: v.id.clone(),
            arn: format!("arn:aws:ec2:{}:{}:vpc/{}", apis.region, v.owner_id, v.id),
            cidr_block: v.cidr_block.clone(),
            default: v.is_default,
            owner_id: v.owner_id.clone(),
            tags: v.tags.clone(),
        })
    }
}
