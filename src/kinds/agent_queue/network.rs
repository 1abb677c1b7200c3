//! Where a queue's instances run: the default VPC's default-for-AZ subnets
//! when the stack names none (resolved at plan time and written into the
//! template, never `Fn::GetAZs`), and checks of subnets it does name.

use crate::cloud::aws::classify;
use crate::core::error::ProviderError;
use aws_sdk_ec2::types::Filter;

/// The default VPC of a region and its default-for-AZ subnets (sorted), or
/// `None` when the region has no default VPC. One DescribeVpcs and one
/// paged DescribeSubnets.
pub async fn default_subnets(ec2: &aws_sdk_ec2::Client) -> Result<Option<(String, Vec<String>)>, ProviderError> {
    let vpcs = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .map_err(|e| classify("ec2", "DescribeVpcs", e))?;
    let Some(vpc) = vpcs.vpcs().first().and_then(|v| v.vpc_id()).map(String::from) else { return Ok(None) };
    let pages: Vec<_> = ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("default-for-az").values("true").build())
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("ec2", "DescribeSubnets", e))?;
    let mut subnets: Vec<String> = pages.iter().flat_map(|p| p.subnets()).filter_map(|s| s.subnet_id().map(String::from)).collect();
    subnets.sort();
    Ok(Some((vpc, subnets)))
}
