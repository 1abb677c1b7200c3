//! `github_oidc_provider`: the IAM OpenID Connect provider that lets GitHub
//! Actions jobs exchange their OIDC token for AWS credentials.
//!
//! ```hcl
//! github_oidc_provider "github" {}   # https://token.actions.githubusercontent.com, aud sts.amazonaws.com
//! ```
//! The URL forces replacement; client ids, thumbprints and tags are updated
//! in place.

use crate::core::schema::{Attr, DefaultValue, Schema, Ty};
use crate::core::{AttrProblem, Compare, Env, Field, Kind, State};
use crate::kinds::common::iam::sorted_strings;
use serde_json::{json, Value};

mod api;
mod driver;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
pub use api::{NewProvider, OidcApi, Provider};
pub use driver::OidcDriver;

/// The `github_oidc_provider` kind.
pub struct GithubOidcProvider;

static SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("url", Ty::String, "Issuer URL (GitHub Enterprise Server hosts allowed).")
            .default(DefaultValue::Str("https://token.actions.githubusercontent.com"))
            .forces_replacement(),
        Attr::new("client_ids", Ty::ListOfString, "Audiences accepted (default sts.amazonaws.com).").default(DefaultValue::EmptyList),
        Attr::new(
            "thumbprints",
            Ty::ListOfString,
            "Server certificate thumbprints (optional: when unset IAM computes and stores one, and AWS validates GitHub's certificate itself).",
        ),
        Attr::new("tags", Ty::MapOfString, "Tags.").default(DefaultValue::EmptyMap),
    ],
    blocks: &[],
};

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

fn client_ids(attrs: &State) -> Value {
    let v = sorted_strings(attrs.get("client_ids"));
    if v.as_array().is_some_and(|a| a.is_empty()) {
        json!(["sts.amazonaws.com"])
    } else {
        v
    }
}

impl Kind for GithubOidcProvider {
    fn name(&self) -> &'static str {
        "github_oidc_provider"
    }
    fn doc(&self) -> &'static str {
        "The IAM OIDC identity provider for GitHub Actions. One per account and URL; ci_role blocks reference it."
    }
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn check(&self, attrs: &State) -> Vec<AttrProblem> {
        let mut out = Vec::new();
        let url = attrs.get("url").and_then(Value::as_str).unwrap_or("");
        if !url.starts_with("https://") || host_of(url).is_empty() || host_of(url).contains(' ') {
            out.push(AttrProblem::new("url", format!("\"{url}\" must be an https:// URL")));
        }
        for t in attrs.get("thumbprints").and_then(Value::as_array).into_iter().flatten() {
            let s = t.as_str().unwrap_or("");
            if s.len() != 40 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push(AttrProblem::new("thumbprints", format!("\"{s}\" is not a 40-character hex SHA-1 thumbprint")));
            }
        }
        out
    }
    fn identity(&self, attrs: &State) -> String {
        host_of(attrs.get("url").and_then(Value::as_str).unwrap_or_default())
    }
    fn outputs(&self, attrs: &State, env: &Env) -> State {
        let host = self.identity(attrs);
        let mut out = attrs.clone();
        out.insert("host".into(), json!(host));
        out.insert("arn".into(), json!(format!("arn:aws:iam::{}:oidc-provider/{host}", env.account_id)));
        out
    }
    fn desired_state(&self, attrs: &State, _env: &Env) -> State {
        let mut s = State::new();
        s.insert("host".into(), json!(self.identity(attrs)));
        s.insert("client_ids".into(), client_ids(attrs));
        let mut thumbs: Vec<String> =
            attrs.get("thumbprints").and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_lowercase)).collect();
        thumbs.sort();
        // Unset (or empty: IAM cannot store an empty list) means "IAM's choice".
        s.insert("thumbprints".into(), if thumbs.is_empty() { Value::Null } else { json!(thumbs) });
        s.insert("tags".into(), attrs.get("tags").cloned().unwrap_or(json!({})));
        s
    }
}
