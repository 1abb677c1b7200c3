//! The shared lock for CI: an S3 object created with a conditional PUT
//! (`If-None-Match: *`), so exactly one writer wins. It records who holds
//! it, since when and for what; a lock older than [`STALE_AFTER`] is
//! reported as probably stale, and `force-unlock ID` removes it.

use crate::cloud::aws::classify;
use crate::core::error::ProviderError;
use crate::engine::lock::{LockError, LockInfo};
use aws_sdk_s3::primitives::ByteStream;
use std::time::{Duration, SystemTime};

/// Age after which a held lock is reported as probably stale.
pub const STALE_AFTER: Duration = Duration::from_secs(2 * 3600);

/// Where the lock object lives.
#[derive(Debug, Clone, PartialEq)]
pub struct S3LockConfig {
    pub bucket: String,
    pub key: String,
}

/// An S3 lock handle.
pub struct S3Lock {
    client: aws_sdk_s3::Client,
    cfg: S3LockConfig,
}

fn io(e: impl std::fmt::Display) -> LockError {
    LockError::Io(std::path::PathBuf::from("s3"), std::io::Error::other(e.to_string()))
}

fn provider(e: ProviderError) -> LockError {
    io(format!("{e}{}", e.hint().map(|h| format!(" ({h})")).unwrap_or_default()))
}

impl S3Lock {
    pub fn new(client: aws_sdk_s3::Client, cfg: S3LockConfig) -> Self {
        S3Lock { client, cfg }
    }

    /// Reads the current holder, if any.
    pub async fn read(&self) -> Result<Option<LockInfo>, LockError> {
        match self.client.get_object().bucket(&self.cfg.bucket).key(&self.cfg.key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(io)?.into_bytes();
                Ok(serde_json::from_slice(&bytes).ok())
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(provider(classify("s3", "GetObject", e))),
        }
    }

    /// Takes the lock for `operation`, or says who holds it (and whether it looks stale).
    pub async fn acquire(&self, operation: &str) -> Result<LockInfo, LockError> {
        let info = LockInfo::new(operation);
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        let put = self
            .client
            .put_object()
            .bucket(&self.cfg.bucket)
            .key(&self.cfg.key)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(_) => Ok(info),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412 || r.status().as_u16() == 409) => {
                let held = self.read().await?.unwrap_or_else(LockInfo::unknown);
                let stale =
                    humantime::parse_rfc3339(&held.created).ok().and_then(|t| SystemTime::now().duration_since(t).ok()).is_some_and(|age| age > STALE_AFTER);
                Err(LockError::Held(Box::new(held), stale))
            }
            Err(e) => Err(provider(classify("s3", "PutObject", e))),
        }
    }

    /// Releases the lock if it is still the one we took.
    pub async fn release(&self, id: &str) -> Result<(), LockError> {
        if self.read().await?.is_some_and(|h| h.id == id) {
            self.client.delete_object().bucket(&self.cfg.bucket).key(&self.cfg.key).send().await.map_err(|e| provider(classify("s3", "DeleteObject", e)))?;
        }
        Ok(())
    }

    /// Removes the lock if its id matches.
    pub async fn force_unlock(&self, id: &str) -> Result<LockInfo, LockError> {
        let held = self.read().await?.ok_or(LockError::NotLocked)?;
        if held.id != id {
            return Err(LockError::WrongId { given: id.to_string(), held: held.id });
        }
        self.client.delete_object().bucket(&self.cfg.bucket).key(&self.cfg.key).send().await.map_err(|e| provider(classify("s3", "DeleteObject", e)))?;
        Ok(held)
    }
}
