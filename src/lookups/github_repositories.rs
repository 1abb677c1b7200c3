//! `data "github_repositories"`: an owner's repositories chosen by topic
//! and/or name prefix, as explicit `OWNER/NAME` names for `ci_role` allow
//! rules (`repos = data.github_repositories.models.full_names`). The owner
//! is fixed and every repository is named in the trust policy, so the plan
//! shows each one gained or lost (a new one as broadening), where a
//! wildcard in `sub` would let in any repository created later.

use super::{given, LookupApis, LookupError, TypedRead};
use crate::core::Diagnostic;
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

pub(super) struct GithubRepositories;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// The organisation or user.
    #[schema(required)]
    owner: Option<String>,
    /// Only repositories carrying this topic.
    topic: Option<String>,
    /// Only repositories whose name starts with this.
    name_prefix: Option<String>,
    /// Keep archived repositories (they run no workflows).
    #[schema(default = false)]
    include_archived: bool,
    /// Keep forks.
    #[schema(default = false)]
    include_forks: bool,
    /// Names (without the owner) to leave out, e.g. a template repository.
    #[schema(default = empty)]
    exclude: Vec<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The owner.
    owner: String,
    /// OWNER/NAME of every repository chosen, sorted.
    full_names: Vec<String>,
    /// NAME of every repository chosen, sorted.
    names: Vec<String>,
}

impl TypedDataSchema for GithubRepositories {
    const NAME: &'static str = "github_repositories";
    const DOC: &'static str =
        "An owner's GitHub repositories, chosen by topic and/or name prefix (REST API; GITHUB_TOKEN if set, GANTRY_GITHUB_API for GitHub Enterprise Server).";
    type Args = Args;
    type Found = Found;
    fn check_args(&self, a: &Args) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if given(&a.topic).is_none() && given(&a.name_prefix).is_none() {
            out.push(Diagnostic::attr(
                "owner",
                "choose the repositories with topic and/or name_prefix: every repository of an owner is rarely what a role should trust",
            ));
        }
        let owner = given(&a.owner).unwrap_or_default();
        if owner.is_empty() || !owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            out.push(Diagnostic::attr("owner", format!("\"{owner}\" is not a GitHub owner name (letters, digits and hyphens)")));
        }
        out
    }
}

#[async_trait]
impl TypedRead for GithubRepositories {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let owner = given(&a.owner).unwrap_or_default();
        let topic = given(&a.topic);
        let prefix = given(&a.name_prefix);
        let excluded: Vec<&str> = a.exclude.iter().map(String::as_str).collect();
        let Some(repos) = apis.github()?.repositories(owner).await? else {
            return Err(LookupError::Missing(format!("no GitHub organisation or user named \"{owner}\"")));
        };
        let mut chosen: Vec<String> = repos
            .into_iter()
            .filter(|r| a.include_archived || !r.archived)
            .filter(|r| a.include_forks || !r.fork)
            .filter(|r| topic.is_none_or(|t| r.topics.iter().any(|x| x == t)))
            .filter(|r| prefix.is_none_or(|p| r.full_name.split_once('/').is_some_and(|(_, n)| n.starts_with(p))))
            .filter(|r| r.full_name.split_once('/').is_none_or(|(_, n)| !excluded.contains(&n)))
            .map(|r| r.full_name)
            .collect();
        chosen.sort();
        let names: Vec<String> = chosen.iter().filter_map(|f| f.split_once('/').map(|(_, n)| n.to_string())).collect();
        Ok(Found { owner: owner.to_string(), full_names: chosen, names })
    }
}
