//! `data "github_oidc_provider"`: the account's GitHub OIDC provider, made
//! by another stack (there is one per account and URL), for `ci_role`
//! blocks to trust: `provider = data.github_oidc_provider.github`.

use super::{given, LookupApis, LookupError, TypedRead};
use crate::core::TypedDataSchema;
use crate::kinds::oidc_provider::host_of;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

pub(super) struct GithubOidcProvider;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// Issuer URL of the provider to find.
    #[schema(default = "https://token.actions.githubusercontent.com")]
    url: Option<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The provider's ARN.
    arn: String,
    /// Issuer URL (https://...).
    url: String,
    /// Issuer host and path, as IAM names the provider.
    host: String,
    /// Audiences it accepts.
    client_ids: Vec<String>,
    /// Certificate thumbprints IAM stores (filled by IAM when none were given).
    thumbprints: Vec<String>,
}

impl TypedDataSchema for GithubOidcProvider {
    const NAME: &'static str = "github_oidc_provider";
    const DOC: &'static str = "The account's GitHub Actions OIDC provider when another stack owns it (IAM allows one per URL per account).";
    type Args = Args;
    type Found = Found;
}

#[async_trait]
impl TypedRead for GithubOidcProvider {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let url = given(&a.url).unwrap_or("https://token.actions.githubusercontent.com");
        let host = host_of(url);
        let Some(p) = apis.aws(Self::NAME)?.oidc_provider(&host).await? else {
            return Err(LookupError::Missing(format!(
                "no IAM OIDC provider for {host} in account {}: create it once (a github_oidc_provider block in one stack), then look it up",
                apis.account_id
            )));
        };
        let mut client_ids = p.client_ids;
        client_ids.sort();
        let mut thumbprints: Vec<String> = p.thumbprints.iter().map(|t| t.to_lowercase()).collect();
        thumbprints.sort();
        Ok(Found { arn: p.arn, url: format!("https://{}", p.url.trim_start_matches("https://")), host: host_of(&p.url), client_ids, thumbprints })
    }
}
