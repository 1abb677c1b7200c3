//! The Resource Groups Tagging API: what a stack owns of one resource type
//! in a region, found by its ownership tags in one paged call — the way a
//! plan finds what the stack still owns of a kind whose last block was
//! removed, without listing every resource of the account. (IAM is not
//! served by it: IAM kinds find theirs by path or by their own listing.)

use crate::cloud::aws::{classify, AwsContext};
pub(crate) use crate::cloud::tagged_cache::Tagged;
use crate::core::error::ProviderError;
use crate::core::TAG_STACK;
use async_trait::async_trait;

/// The narrow API discovery needs.
#[async_trait]
pub trait TaggedApi: Send + Sync {
    /// Resources of `resource_type` (`ecr:repository`, `cloudformation:stack`)
    /// in `region` whose `gantry:stack` tag is `stack` (the owner key's
    /// stack label: the caller compares the whole owner from the tags).
    async fn tagged(&self, region: &str, resource_type: &str, stack: &str) -> Result<Tagged, ProviderError>;
}

/// Every resource type gantry's AWS kinds discover through this API: one
/// GetResources asks for all of them (the API takes up to 100 type
/// filters), so a plan pays one call per region, not one per kind.
pub(crate) const DISCOVERED_TYPES: &[&str] = &["ecr:repository", "s3:bucket", "cloudformation:stack"];

/// Whether an ARN is of `resource_type` (`service:type`). S3 bucket ARNs
/// carry no type (`arn:aws:s3:::name`).
pub(crate) fn arn_is(arn: &str, resource_type: &str) -> bool {
    let (service, ty) = resource_type.split_once(':').unwrap_or((resource_type, ""));
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, arn_service, _, _, resource] = parts[..] else { return false };
    arn_service == service && (resource.split(['/', ':']).next() == Some(ty) || (service == "s3" && ty == "bucket" && !resource.contains('/')))
}

/// The real API, sharing its answers through the context's cache.
pub(crate) struct AwsTagged {
    ctx: AwsContext,
}

impl AwsTagged {
    pub(crate) fn new(ctx: AwsContext) -> Self {
        AwsTagged { ctx }
    }

    /// Every discovered type the stack tagged in `region` (all pages).
    async fn fetch(&self, region: &str, stack: &str) -> Result<Tagged, ProviderError> {
        use aws_sdk_resourcegroupstagging::types::TagFilter;
        let conf = aws_sdk_resourcegroupstagging::config::Builder::from(&self.ctx.config)
            .region(aws_sdk_resourcegroupstagging::config::Region::new(region.to_string()))
            .interceptor(self.ctx.counter())
            .build();
        let client = aws_sdk_resourcegroupstagging::Client::from_conf(conf);
        let filter = TagFilter::builder().key(TAG_STACK).values(stack).build();
        let types = DISCOVERED_TYPES.iter().map(|t| t.to_string()).collect();
        let mut pages = client.get_resources().set_resource_type_filters(Some(types)).tag_filters(filter).into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("tagging", "GetResources", e))?;
            for m in page.resource_tag_mapping_list() {
                let tags = m.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
                out.push((m.resource_arn().unwrap_or_default().to_string(), tags));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl TaggedApi for AwsTagged {
    async fn tagged(&self, region: &str, resource_type: &str, stack: &str) -> Result<Tagged, ProviderError> {
        let cell = self.ctx.tagged.0.lock().await.entry((region.to_string(), stack.to_string())).or_default().clone();
        let all = cell.get_or_try_init(|| self.fetch(region, stack)).await?;
        Ok(all.iter().filter(|(arn, _)| arn_is(arn, resource_type)).cloned().collect())
    }
}

/// Whether `owner` (an owner key) owns a `resource_type` resource in any
/// of `regions`: one GetResources per region, concurrently.
pub(crate) async fn owned_in(api: &dyn TaggedApi, regions: &[String], resource_type: &str, owner: &str) -> Result<bool, ProviderError> {
    let stack = owner.split_once('@').map_or(owner, |(s, _)| s);
    let calls = regions.iter().map(|r| api.tagged(r, resource_type, stack));
    let found = futures::future::try_join_all(calls).await?;
    Ok(found.iter().flatten().any(|(_, tags)| crate::core::owner_of(tags).as_deref() == Some(owner)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Answers what a region holds; records the calls.
    struct Fake(BTreeMap<String, Tagged>, Mutex<Vec<String>>);

    #[async_trait]
    impl TaggedApi for Fake {
        async fn tagged(&self, region: &str, resource_type: &str, stack: &str) -> Result<Tagged, ProviderError> {
            self.1.lock().unwrap().push(format!("{region} {resource_type} {stack}"));
            Ok(self.0.get(region).cloned().unwrap_or_default().into_iter().filter(|(_, t)| t.get(TAG_STACK).map(String::as_str) == Some(stack)).collect())
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[tokio::test]
    async fn the_whole_owner_decides_with_one_call_per_region() {
        let workspace = ("arn:aws:ecr:eu-west-1:1:repository/a".to_string(), tags(&[("gantry:stack", "ow"), ("gantry:workspace", "dev")]));
        let fake = Fake([("eu-west-1".to_string(), vec![workspace])].into(), Mutex::new(Vec::new()));
        let regions = ["us-west-2".to_string(), "eu-west-1".to_string()];
        assert!(owned_in(&fake, &regions, "ecr:repository", "ow@dev").await.unwrap());
        assert!(!owned_in(&fake, &regions, "ecr:repository", "ow").await.unwrap(), "the default workspace does not own dev's");
        assert_eq!(fake.1.lock().unwrap().len(), 4, "one call per region and question");
    }

    #[test]
    fn arns_are_told_apart_by_type() {
        assert!(arn_is("arn:aws:ecr:eu-west-1:1:repository/a/b", "ecr:repository"));
        assert!(arn_is("arn:aws:s3:::models", "s3:bucket"));
        assert!(!arn_is("arn:aws:s3:::models/key", "s3:bucket"));
        assert!(arn_is("arn:aws:cloudformation:us-west-2:1:stack/gantry-x/123", "cloudformation:stack"));
        assert!(!arn_is("arn:aws:cloudformation:us-west-2:1:stack/gantry-x/123", "ecr:repository"));
    }
}
