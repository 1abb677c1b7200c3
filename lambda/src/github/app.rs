//! The GitHub App's identity: its credentials (read once per cold start
//! from an SSM path), the short-lived JWT it signs, and the installation
//! token the REST calls use (cached, renewed before it expires).
//!
//! GitHub's rules ("Generating a JSON Web Token for a GitHub App"): RS256,
//! `iss` = the app id, `iat` 60 s in the past against clock drift, `exp` at
//! most 10 minutes after `iat`. Installation tokens last one hour.

use super::GithubError;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::collections::BTreeMap;
use std::fmt;

/// The names under the credentials path (the contract's list).
pub use gantry_scaler_env::github::CREDENTIAL_PARAMETERS as PARAMETERS;

/// The app's credentials. Never printed: `Debug` shows the ids only.
#[derive(Clone)]
pub struct AppCredentials {
    /// The GitHub App's id.
    pub app_id: u64,
    /// Its installation on the account or organisation.
    pub installation_id: u64,
    key: EncodingKey,
    /// The secret webhook deliveries are signed with.
    pub webhook_secret: String,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppCredentials {{ app_id: {}, installation_id: {}, .. }}", self.app_id, self.installation_id)
    }
}

#[derive(serde::Serialize)]
struct Claims {
    iat: u64,
    exp: u64,
    iss: String,
}

impl AppCredentials {
    /// From the parameters under the credentials path, by their last path segment.
    pub fn from_parameters(values: &BTreeMap<String, String>, path: &str) -> Result<AppCredentials, GithubError> {
        let get = |k: &str| {
            values
                .get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| GithubError::Credentials(format!("SSM parameter {path}/{k} is missing or empty")))
        };
        let number = |k: &str| get(k)?.parse::<u64>().map_err(|_| GithubError::Credentials(format!("SSM parameter {path}/{k} is not a number")));
        let pem = get("private_key")?;
        let key = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| GithubError::Credentials(format!("SSM parameter {path}/private_key is not an RSA private key in PEM form ({e})")))?;
        Ok(AppCredentials { app_id: number("app_id")?, installation_id: number("installation_id")?, key, webhook_secret: get("webhook_secret")? })
    }

    /// A JWT valid for nine minutes from `now` (unix seconds).
    pub fn jwt(&self, now: u64) -> Result<String, GithubError> {
        let claims = Claims { iat: now.saturating_sub(60), exp: now + 540, iss: self.app_id.to_string() };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key).map_err(|e| GithubError::Credentials(format!("signing the app JWT: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const TEST_KEY: &str = include_str!("../../tests/fixtures/github-app-test-key.pem");

    fn values(key: &str) -> BTreeMap<String, String> {
        [("app_id", "123"), ("installation_id", "456"), ("private_key", key), ("webhook_secret", "s3cret")].map(|(k, v)| (k.to_string(), v.to_string())).into()
    }

    #[test]
    fn the_jwt_carries_githubs_claims() {
        let c = AppCredentials::from_parameters(&values(TEST_KEY), "/gh").unwrap();
        let jwt = c.jwt(1_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        use base64::Engine;
        let claims: serde_json::Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "123");
        assert_eq!(claims["iat"], 999_940);
        assert!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap() <= 600, "GitHub refuses JWTs living over 10 minutes");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn missing_or_bad_parameters_are_named() {
        let mut v = values(TEST_KEY);
        v.remove("webhook_secret");
        assert!(AppCredentials::from_parameters(&v, "/gh").unwrap_err().to_string().contains("/gh/webhook_secret"));
        let e = AppCredentials::from_parameters(&values("not a key"), "/gh").unwrap_err().to_string();
        assert!(e.contains("/gh/private_key is not an RSA private key"), "{e}");
    }
}
