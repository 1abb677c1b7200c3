//! SigV4 signing of one service's requests with the `SdkConfig`'s
//! credentials, resolved once and again only near their expiry.

use crate::error::CallError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_types::SdkConfig;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Signs requests to one service in one region.
pub(crate) struct Signer {
    provider: Option<SharedCredentialsProvider>,
    /// Credentials resolved once and reused until they near their expiry.
    cached: Mutex<Option<Credentials>>,
    service: &'static str,
    region: String,
}

impl Signer {
    /// A signer for `service` (its signing name, e.g. `ec2`, `ssm`) in `region`.
    pub(crate) fn new(config: &SdkConfig, service: &'static str, region: &str) -> Signer {
        Signer { provider: config.credentials_provider(), cached: Mutex::new(None), service, region: region.to_string() }
    }

    /// The headers of a signed `POST` of `body` to `url`: `headers` (which
    /// are signed too), then what SigV4 adds (`x-amz-date`,
    /// `authorization`, `x-amz-security-token`).
    pub(crate) async fn sign(&self, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Vec<(String, String)>, CallError> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let creds = self.credentials().await.map_err(CallError::Credentials)?;
        let failed = |e: &dyn std::fmt::Display| CallError::Credentials(format!("cannot sign the request: {e}"));
        let identity = creds.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let signable = SignableRequest::new("POST", url, headers.iter().copied(), SignableBody::Bytes(body)).map_err(|e| failed(&e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| failed(&e))?.into_parts();
        let mut out: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
        Ok(out)
    }

    /// The credentials, resolved once and again only within five minutes
    /// of their expiry (the SDK's identity cache does the same).
    async fn credentials(&self) -> Result<Credentials, String> {
        let fresh = |c: &Credentials| c.expiry().is_none_or(|t| t > SystemTime::now() + Duration::from_secs(300));
        if let Some(c) = self.cached.lock().unwrap_or_else(|e| e.into_inner()).clone().filter(fresh) {
            return Ok(c);
        }
        let provider = self.provider.as_ref().ok_or("no AWS credentials are configured")?;
        let c =
            provider.provide_credentials().await.map_err(|e| format!("no AWS credentials: {}", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        Ok(c)
    }
}
