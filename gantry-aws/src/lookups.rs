//! The data sources' AWS reads: [`AwsLookupApi`] over the AWS SDK
//! (describe/get calls only), clients built once per plan in the stack's
//! region.

use crate::cloud::aws::{classify, AwsContext};
use crate::cloud::ec2::{tag_filters, Ec2, Filter};
use crate::core::{ErrorClass, ProviderError};
use crate::lookup_api::*;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// The clients data sources read through.
pub struct AwsLookups {
    ec2: Ec2,
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    ecr: aws_sdk_ecr::Client,
    region: String,
}

impl AwsLookups {
    /// The clients, in the context's region.
    pub fn new(ctx: &AwsContext) -> Self {
        let region = ctx.config.region().map(|r| r.to_string()).unwrap_or_default();
        AwsLookups { ec2: Ec2::new(ctx, &region), s3: ctx.s3(), iam: ctx.iam(), ecr: ctx.ecr(), region }
    }
}

/// A not-found error as "no such thing"; anything else stays an error.
fn absent<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl AwsLookupApi for AwsLookups {
    async fn vpcs(&self, q: &VpcQuery) -> Result<Vec<Vpc>, ProviderError> {
        let mut filters: Vec<Filter> = tag_filters(&q.tags).collect();
        if let Some(id) = &q.id {
            filters.push(Filter::new("vpc-id", [id.as_str()]));
        }
        if q.default {
            filters.push(Filter::new("is-default", ["true"]));
        }
        self.ec2.vpcs(&filters).await
    }

    async fn subnets(&self, vpc_id: Option<&str>, tags: &BTreeMap<String, String>, zones: &[String]) -> Result<Vec<Subnet>, ProviderError> {
        let mut filters: Vec<Filter> = tag_filters(tags).collect();
        if let Some(v) = vpc_id {
            filters.push(Filter::new("vpc-id", [v]));
        }
        if !zones.is_empty() {
            filters.push(Filter::new("availability-zone", zones));
        }
        self.ec2.subnets(&filters).await
    }

    async fn bucket(&self, name: &str) -> Result<Option<Bucket>, ProviderError> {
        match self.s3.head_bucket().bucket(name).send().await {
            // HeadBucket answers with the bucket's region (x-amz-bucket-region).
            Ok(out) => Ok(Some(Bucket { region: out.bucket_region().unwrap_or(&self.region).to_string() })),
            Err(e) => {
                let raw = e.raw_response();
                let status = raw.map(|r| r.status().as_u16());
                let header_region = raw.and_then(|r| r.headers().get("x-amz-bucket-region")).map(String::from);
                match (status, header_region) {
                    // HEAD has no body, so S3's error code is lost: the status says it.
                    (Some(404), _) => Ok(None),
                    // A bucket in another region answers 301 with its region.
                    (Some(301), Some(region)) => Ok(Some(Bucket { region })),
                    (Some(403), _) => Err(ProviderError::aws(
                        ErrorClass::AccessDenied,
                        "s3",
                        "HeadBucket",
                        format!("bucket \"{name}\" exists but the credentials in use may not read it (s3:ListBucket)"),
                    )),
                    _ => Err(classify("s3", "HeadBucket", e)),
                }
            }
        }
    }

    async fn role(&self, name: &str) -> Result<Option<RoleFacts>, ProviderError> {
        let got = absent(self.iam.get_role().role_name(name).send().await.map_err(|e| classify("iam", "GetRole", e)))?;
        Ok(got.and_then(|out| out.role).map(|r| RoleFacts {
            arn: r.arn,
            path: r.path,
            unique_id: r.role_id,
            max_session_duration: r.max_session_duration.map(i64::from).unwrap_or(3600),
        }))
    }

    async fn repository(&self, name: &str, registry_id: Option<&str>) -> Result<Option<RepositoryFacts>, ProviderError> {
        let req = self.ecr.describe_repositories().repository_names(name).set_registry_id(registry_id.map(String::from));
        let got = absent(req.send().await.map_err(|e| classify("ecr", "DescribeRepositories", e)))?;
        Ok(got.and_then(|out| {
            out.repositories().first().map(|r| RepositoryFacts {
                arn: r.repository_arn().unwrap_or_default().to_string(),
                uri: r.repository_uri().unwrap_or_default().to_string(),
                registry_id: r.registry_id().unwrap_or_default().to_string(),
            })
        }))
    }

    async fn oidc_provider(&self, host: &str) -> Result<Option<OidcProviderFacts>, ProviderError> {
        let list = self.iam.list_open_id_connect_providers().send().await.map_err(|e| classify("iam", "ListOpenIDConnectProviders", e))?;
        let suffix = format!(":oidc-provider/{host}");
        let Some(arn) = list.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).find(|a| a.ends_with(&suffix)) else {
            return Ok(None);
        };
        let got = self.iam.get_open_id_connect_provider().open_id_connect_provider_arn(arn).send().await;
        let Some(p) = absent(got.map_err(|e| classify("iam", "GetOpenIDConnectProvider", e)))? else { return Ok(None) };
        Ok(Some(OidcProviderFacts {
            arn: arn.to_string(),
            url: p.url().unwrap_or(host).to_string(),
            client_ids: p.client_id_list().to_vec(),
            thumbprints: p.thumbprint_list().to_vec(),
        }))
    }
}
