//! `data "s3_bucket"`: a bucket another team owns (artifacts, caches), for
//! its ARN, region and endpoint, so policies name it exactly.

use super::{given, LookupApis, LookupError, TypedRead};
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

pub(super) struct S3Bucket;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// The bucket's name.
    #[schema(required)]
    bucket: Option<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The bucket's name.
    bucket: String,
    /// arn:aws:s3:::NAME.
    arn: String,
    /// The region the bucket lives in.
    region: String,
    /// NAME.s3.REGION.amazonaws.com.
    bucket_regional_domain_name: String,
}

impl TypedDataSchema for S3Bucket {
    const NAME: &'static str = "s3_bucket";
    const DOC: &'static str = "An existing S3 bucket (it must be visible to the credentials in use).";
    type Args = Args;
    type Found = Found;
}

#[async_trait]
impl TypedRead for S3Bucket {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let name = given(&a.bucket).unwrap_or_default();
        let Some(b) = apis.aws(Self::NAME)?.bucket(name).await? else {
            return Err(LookupError::Missing(format!("no S3 bucket named \"{name}\"")));
        };
        Ok(Found {
            bucket: name.to_string(),
            arn: format!("arn:aws:s3:::{name}"),
            region: b.region.clone(),
            bucket_regional_domain_name: format!("{name}.s3.{}.amazonaws.com", b.region),
        })
    }
}
