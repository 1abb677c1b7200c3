//! `data "s3_bucket"`: a bucket another team owns (artifacts, caches), for
//! its ARN, region and endpoint, so policies name it exactly.

use super::{given, read_args, DataSource, LookupApis, LookupError};
use crate::core::schema::{Attr, HasSchema, Schema, Ty};
use crate::core::DataSchema;
use crate::core::State;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::Deserialize;
use serde_json::json;

pub(super) struct S3Bucket;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
struct Args {
    /// The bucket's name.
    #[schema(required)]
    bucket: Option<String>,
}

static ATTRIBUTES: &[Attr] = &[
    Attr::new("bucket", Ty::String, "The bucket's name."),
    Attr::new("arn", Ty::String, "arn:aws:s3:::NAME."),
    Attr::new("region", Ty::String, "The region the bucket lives in."),
    Attr::new("bucket_regional_domain_name", Ty::String, "NAME.s3.REGION.amazonaws.com."),
];

impl DataSchema for S3Bucket {
    fn name(&self) -> &'static str {
        "s3_bucket"
    }
    fn doc(&self) -> &'static str {
        "An existing S3 bucket (it must be visible to the credentials in use)."
    }
    fn schema(&self) -> &'static Schema {
        &Args::SCHEMA
    }
    fn attributes(&self) -> &'static [Attr] {
        ATTRIBUTES
    }
}

#[async_trait]
impl DataSource for S3Bucket {
    async fn read(&self, args: &State, apis: &LookupApis) -> Result<State, LookupError> {
        let a: Args = read_args(args);
        let name = given(&a.bucket).unwrap_or_default();
        let Some(b) = apis.aws(self.name())?.bucket(name).await? else {
            return Err(LookupError::Missing(format!("no S3 bucket named \"{name}\"")));
        };
        let mut out = State::new();
        out.insert("bucket".into(), json!(name));
        out.insert("arn".into(), json!(format!("arn:aws:s3:::{name}")));
        out.insert("bucket_regional_domain_name".into(), json!(format!("{name}.s3.{}.amazonaws.com", b.region)));
        out.insert("region".into(), json!(b.region));
        Ok(out)
    }
}
