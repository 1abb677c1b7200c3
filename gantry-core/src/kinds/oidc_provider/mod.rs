//! `github_oidc_provider`: the IAM OpenID Connect provider that lets GitHub
//! Actions jobs exchange their OIDC token for AWS credentials.
//!
//! ```hcl
//! github_oidc_provider "github" {}   # https://token.actions.githubusercontent.com, aud sts.amazonaws.com
//! ```
//! The URL forces replacement; client ids, thumbprints and tags are updated
//! in place.

use crate::core::schema::{HasSchema, Schema};
use crate::core::{Compare, Diagnostic, Env, Field, State};
use serde_json::json;

pub mod spec;
use spec::Spec;

/// The `github_oidc_provider` kind.
pub struct GithubOidcProvider;

// IAM computes a thumbprint from the issuer's certificate chain when none is
// given (IAM API reference, CreateOpenIDConnectProvider: "If you don't
// provide a thumbprint, IAM automatically retrieves and uses the top
// intermediate CA thumbprint"): unset thumbprints accept what IAM stored.
static FIELDS: &[Field] =
    &[Field::replace("host"), Field::new("client_ids"), Field::new("thumbprints").server_filled().compare(Compare::CaseInsensitive), Field::new("tags")];

/// The host part of an issuer URL, which IAM uses as the provider's identity.
pub fn host_of(url: &str) -> String {
    url.trim_start_matches("https://").trim_end_matches('/').to_string()
}

impl crate::core::TypedKind for GithubOidcProvider {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "github_oidc_provider"
    }
    fn doc(&self) -> &'static str {
        "The IAM OIDC identity provider for GitHub Actions. One per account and URL; ci_role blocks reference it."
    }
    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let url = &spec.url;
        if !url.starts_with("https://") || host_of(url).is_empty() || host_of(url).contains(' ') {
            out.push(Diagnostic::attr("url", format!("\"{url}\" must be an https:// URL")));
        }
        for s in spec.thumbprints.iter().flatten() {
            if s.len() != 40 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push(Diagnostic::attr("thumbprints", format!("\"{s}\" is not a 40-character hex SHA-1 thumbprint")));
            }
        }
        out
    }
    fn identity(&self, spec: &Spec) -> String {
        host_of(&spec.url)
    }
    fn outputs(&self, spec: &Spec, attrs: &State, env: &Env) -> State {
        let host = host_of(&spec.url);
        let mut out = attrs.clone();
        out.insert("host".into(), json!(host));
        out.insert("arn".into(), json!(format!("arn:aws:iam::{}:oidc-provider/{host}", env.account_id)));
        out
    }
    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }
}
