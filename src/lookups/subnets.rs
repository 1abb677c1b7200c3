//! `data "subnets"`: the subnets of a VPC that match tags (and zones), for
//! a queue's `subnets` — ids sorted, so the plan is stable across reads.

use super::{tags_arg, DataSource, LookupApis, LookupError};
use crate::core::schema::{Attr, DefaultValue, Schema, Ty};
use crate::core::DataSchema;
use crate::core::{Diagnostic, State};
use async_trait::async_trait;
use serde_json::{json, Value};

pub(super) struct Subnets;

static SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("vpc_id", Ty::String, "Only subnets of this VPC (e.g. data.vpc.ci.id)."),
        Attr::new("tags", Ty::MapOfString, "Tags each subnet must have (all of them).").default(DefaultValue::EmptyMap),
        Attr::new("availability_zones", Ty::ListOfString, "Only subnets in these zones.").default(DefaultValue::EmptyList),
    ],
    blocks: &[],
};

static ATTRIBUTES: &[Attr] = &[
    Attr::new("ids", Ty::ListOfString, "Subnet ids, sorted."),
    Attr::new("availability_zones", Ty::ListOfString, "Zone of each subnet, in the order of ids."),
    Attr::new("cidr_blocks", Ty::ListOfString, "CIDR block of each subnet, in the order of ids."),
    Attr::new("vpc_ids", Ty::ListOfString, "The distinct VPCs they belong to."),
];

fn strings(args: &State, name: &str) -> Vec<String> {
    args.get(name).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
}

impl DataSchema for Subnets {
    fn name(&self) -> &'static str {
        "subnets"
    }
    fn doc(&self) -> &'static str {
        "Existing subnets that match a VPC, tags and zones. At least one must match (an empty list would put a queue in the default VPC)."
    }
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }
    fn attributes(&self) -> &'static [Attr] {
        ATTRIBUTES
    }
    fn check(&self, args: &State) -> Vec<Diagnostic> {
        if !args.contains_key("vpc_id") && tags_arg(args, "tags").is_empty() {
            return vec![Diagnostic::attr("vpc_id", "say which subnets: set vpc_id, tags, or both (every subnet in the region is rarely meant)")];
        }
        Vec::new()
    }
}

#[async_trait]
impl DataSource for Subnets {
    async fn read(&self, args: &State, apis: &LookupApis) -> Result<State, LookupError> {
        let vpc = args.get("vpc_id").and_then(Value::as_str);
        let tags = tags_arg(args, "tags");
        let zones = strings(args, "availability_zones");
        let mut found = apis.aws(self.name())?.subnets(vpc, &tags, &zones).await?;
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
        let mut out = State::new();
        out.insert("ids".into(), json!(found.iter().map(|s| &s.id).collect::<Vec<_>>()));
        out.insert("availability_zones".into(), json!(found.iter().map(|s| &s.availability_zone).collect::<Vec<_>>()));
        out.insert("cidr_blocks".into(), json!(found.iter().map(|s| &s.cidr_block).collect::<Vec<_>>()));
        out.insert("vpc_ids".into(), json!(vpcs));
        Ok(out)
    }
}
