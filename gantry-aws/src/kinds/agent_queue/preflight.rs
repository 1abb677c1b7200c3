//! Plan-time work against the cloud, through [`LookupApi`]: queues given no
//! subnets go into the default VPC's default-for-AZ subnets (resolved once
//! per region and written into the template, never `Fn::GetAZs`), and
//! named subnets, the image parameter, the token parameter and the
//! agent_secrets parameters are checked to exist (no value is ever read).

use super::api::LookupApi;
use super::state::Desired;
use crate::core::error::ProviderError;
use crate::core::Diagnostic;
use std::collections::{BTreeMap, BTreeSet};

/// Problems by address, as the planner reports them.
pub(super) type Problems = Vec<Diagnostic>;

/// Fills in the default VPC's subnets for queues that name none.
pub(super) async fn resolve(api: &dyn LookupApi, queues: &mut [(String, Desired)]) -> Result<Problems, ProviderError> {
    let mut problems = Vec::new();
    let mut by_region: BTreeMap<String, Option<(String, Vec<String>)>> = BTreeMap::new();
    for (address, d) in queues.iter_mut().filter(|(_, d)| d.facts.subnets.is_empty()) {
        let found = match by_region.get(&d.region) {
            Some(f) => f.clone(),
            None => {
                let f = api.default_subnets(&d.region).await?;
                by_region.insert(d.region.clone(), f.clone());
                f
            }
        };
        match found {
            Some((vpc, mut subnets)) if !subnets.is_empty() => {
                // EC2 lists in no set order; a stable order keeps re-plans empty.
                subnets.sort();
                super::template::place_in_subnets(&mut d.template, &vpc, &subnets);
                d.facts.subnets = subnets;
                d.facts.vpc_id = Some(vpc);
            }
            _ => problems
                .push(Diagnostic::at(address.clone(), format!("{} has no default VPC with default subnets; set subnets and vpc_id on the queue", d.region))),
        }
    }
    Ok(problems)
}

/// Named subnets must exist in the queue's region and belong to its
/// `vpc_id`: one filtered DescribeSubnets per region.
async fn check_subnets(api: &dyn LookupApi, queues: &[(String, Desired)]) -> Result<Problems, ProviderError> {
    let mut out = Vec::new();
    let mut by_region: BTreeMap<&str, Vec<&(String, Desired)>> = BTreeMap::new();
    for q in queues.iter().filter(|(_, d)| !d.facts.subnets.is_empty()) {
        by_region.entry(q.1.region.as_str()).or_default().push(q);
    }
    for (region, items) in by_region {
        let ids: BTreeSet<String> = items.iter().flat_map(|(_, d)| d.facts.subnets.iter().cloned()).collect();
        let vpc_of = api.subnet_vpcs(region, &ids.into_iter().collect::<Vec<_>>()).await?;
        for (address, d) in items {
            let vpc = d.facts.vpc_id.as_deref().unwrap_or_default();
            for sn in &d.facts.subnets {
                match vpc_of.get(sn) {
                    None => {
                        out.push(Diagnostic::at(address.clone(), format!("subnet {sn} does not exist in {region} (a subnet of another region or account?)")))
                    }
                    Some(v) if !vpc.is_empty() && v != vpc => out.push(Diagnostic::at(address.clone(), format!("subnet {sn} is in {v}, not in vpc_id {vpc}"))),
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

/// Checks subnets and parameters, batched per region: GetParameters in
/// tens, DescribeParameters in fifties.
pub(super) async fn check(api: &dyn LookupApi, queues: &[(String, Desired)]) -> Result<Problems, ProviderError> {
    let mut out = check_subnets(api, queues).await?;
    let mut by_region: BTreeMap<&str, Vec<&(String, Desired)>> = BTreeMap::new();
    for q in queues {
        by_region.entry(q.1.region.as_str()).or_default().push(q);
    }
    for (region, items) in by_region {
        let images: Vec<String> = items.iter().filter_map(|(_, d)| d.facts.image_parameter.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut missing_images = Vec::new();
        for chunk in images.chunks(10) {
            missing_images.extend(api.missing_parameters(region, chunk).await?);
        }
        // The token and the agent_secrets parameters: names only, values never read.
        let tokens: Vec<String> = items
            .iter()
            .flat_map(|(_, d)| {
                std::iter::once(d.facts.token_parameter.clone())
                    .filter(|t| !t.is_empty())
                    .chain(d.facts.secret_parameters.iter().cloned())
                    .chain(d.facts.github_credentials.iter().cloned())
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut found_tokens = BTreeSet::new();
        for chunk in tokens.chunks(50) {
            found_tokens.extend(api.existing_parameters(region, chunk).await?);
        }
        for (address, d) in items {
            if let Some(i) = d.facts.image_parameter.as_ref().filter(|i| missing_images.contains(i)) {
                out.push(Diagnostic::at(address.clone(), format!("image parameter {i} does not exist in {region}")));
            }
            let token = &d.facts.token_parameter;
            if !token.is_empty() && !found_tokens.contains(token) {
                out.push(Diagnostic::at(
                    address.clone(),
                    format!("agent token parameter {token} does not exist in {region}; create it (aws ssm put-parameter --type SecureString) before the queue"),
                ));
            }
            let missing: Vec<&str> = d.facts.github_credentials.iter().filter(|p| !found_tokens.contains(*p)).map(String::as_str).collect();
            if !missing.is_empty() {
                out.push(Diagnostic::at(
                    address.clone(),
                    format!(
                        "GitHub App parameter(s) {} do not exist in {region}; create them (aws ssm put-parameter --type SecureString): the scaler reads app_id, installation_id, private_key and webhook_secret",
                        missing.join(", ")
                    ),
                ));
            }
            for p in d.facts.secret_parameters.iter().filter(|p| !found_tokens.contains(*p)) {
                out.push(Diagnostic::at(
                    address.clone(),
                    format!("agent_secrets parameter {p} does not exist in {region}; create it (aws ssm put-parameter --type SecureString)"),
                ));
            }
        }
    }
    Ok(out)
}
