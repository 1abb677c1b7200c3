//! In-memory [`AwsLookupApi`], [`GcpLookupApi`] and [`GithubLookupApi`] for
//! unit tests: they filter the way the real describe calls do (every filter
//! must match); an owner with no repository is one GitHub answers 404 for.

use super::api::*;
use crate::core::ProviderError;
use async_trait::async_trait;
use std::collections::BTreeMap;

#[derive(Default)]
pub(super) struct FakeLookups {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub buckets: BTreeMap<String, Bucket>,
    pub roles: BTreeMap<String, RoleFacts>,
    pub repositories: BTreeMap<String, RepositoryFacts>,
    pub providers: Vec<OidcProviderFacts>,
    pub networks: BTreeMap<(String, String), Network>,
    pub github_repos: Vec<RepositoryListing>,
}

fn tags_match(have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

#[async_trait]
impl AwsLookupApi for FakeLookups {
    async fn vpcs(&self, q: &VpcQuery) -> Result<Vec<Vpc>, ProviderError> {
        Ok(self
            .vpcs
            .iter()
            .filter(|v| q.id.as_ref().is_none_or(|id| &v.id == id) && (!q.default || v.is_default) && tags_match(&v.tags, &q.tags))
            .cloned()
            .collect())
    }
    async fn subnets(&self, vpc_id: Option<&str>, tags: &BTreeMap<String, String>, zones: &[String]) -> Result<Vec<Subnet>, ProviderError> {
        Ok(self
            .subnets
            .iter()
            .filter(|s| vpc_id.is_none_or(|v| s.vpc_id == v) && tags_match(&s.tags, tags) && (zones.is_empty() || zones.contains(&s.availability_zone)))
            .cloned()
            .collect())
    }
    async fn bucket(&self, name: &str) -> Result<Option<Bucket>, ProviderError> {
        Ok(self.buckets.get(name).cloned())
    }
    async fn role(&self, name: &str) -> Result<Option<RoleFacts>, ProviderError> {
        Ok(self.roles.get(name).cloned())
    }
    async fn repository(&self, name: &str, _registry_id: Option<&str>) -> Result<Option<RepositoryFacts>, ProviderError> {
        Ok(self.repositories.get(name).cloned())
    }
    async fn oidc_provider(&self, host: &str) -> Result<Option<OidcProviderFacts>, ProviderError> {
        Ok(self.providers.iter().find(|p| p.url == host).cloned())
    }
}

#[async_trait]
impl GcpLookupApi for FakeLookups {
    async fn network(&self, project: &str, name: &str) -> Result<Option<Network>, ProviderError> {
        Ok(self.networks.get(&(project.to_string(), name.to_string())).cloned())
    }
}

#[async_trait]
impl GithubLookupApi for FakeLookups {
    async fn repositories(&self, owner: &str) -> Result<Option<Vec<RepositoryListing>>, ProviderError> {
        let mine: Vec<RepositoryListing> = self.github_repos.iter().filter(|r| r.full_name.split('/').next() == Some(owner)).cloned().collect();
        Ok((!mine.is_empty()).then_some(mine))
    }
}
