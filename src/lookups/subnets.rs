//! `data "subnets"`: the subnets of a VPC that match tags (and zones), for
//! a queue's `subnets` — ids sorted, so the plan is stable across reads.

use super::{LookupApis, LookupError, TypedRead};
use crate::core::Diagnostic;
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(super) struct Subnets;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// Only subnets of this VPC (e.g. data.vpc.ci.id).
    vpc_id: Option<String>,
    /// Tags each subnet must have (all of them).
    #[schema(default = empty)]
    tags: BTreeMap<String, String>,
    /// Only subnets in these zones.
    #[schema(default = empty)]
    availability_zones: Vec<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// Subnet ids, sorted.
    ids: Vec<String>,
    /// Zone of each subnet, in the order of ids.
    availability_zones: Vec<String>,
    /// CIDR block of each subnet, in the order of ids.
    cidr_blocks: Vec<String>,
    /// The distinct VPCs they belong to.
    vpc_ids: Vec<String>,
}

impl TypedDataSchema for Subnets {
    const NAME: &'static str = "subnets";
    const DOC: &'static str =
        "Existing subnets that match a VPC, tags and zones. At least one must match (an empty list would put a queue in the default VPC).";
    type Args = Args;
    type Found = Found;
    fn check_args(&self, a: &Args) -> Vec<Diagnostic> {
        if a.vpc_id.is_none() && a.tags.is_empty() {
            return vec![Diagnostic::attr("vpc_id", "say which subnets: set vpc_id, tags, or both (every subnet in the region is rarely meant)")];
        }
        Vec::new()
    }
}

#[async_trait]
impl TypedRead for Subnets {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let (vpc, tags, zones) = (a.vpc_id.as_deref(), &a.tags, &a.availability_zones);
        let mut found = apis.aws(Self::NAME)?.subnets(vpc, tags, zones).await?;
        if found.is_empty() {
            let mut what = vec![format!("in {}", apis.region)];
            what.extend(vpc.map(|v| format!("in {v}")));
            what.extend((!tags.is_empty()).then(|| format!("tagged {}", tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))));
            what.extend((!zones.is_empty()).then(|| format!("in zones {}", zones.join(", "))));
            return Err(LookupError::Missing(format!("no subnet {}", what.join(" "))));
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        let mut vpcs: Vec<&str> = found.iter().map(|s| s.vpc_id.as_str()).collect();
        vpcs.sort();
        vpcs.dedup();
        Ok(Found {
            ids: found.iter().map(|s| s.id.clone()).collect(),
            availability_zones: found.iter().map(|s| s.availability_zone.clone()).collect(),
            cidr_blocks: found.iter().map(|s| s.cidr_block.clone()).collect(),
            vpc_ids: vpcs.into_iter().map(String::from).collect(),
        })
    }
}
