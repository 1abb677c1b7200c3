//! The lock object in S3: a conditional PUT (`If-None-Match: *`) creates it
//! only when absent; S3 answers 412 Precondition Failed (or 409 while a
//! concurrent conditional write is in flight) when another writer won.

use crate::cloud::aws::classify;
use crate::core::error::ProviderError;
use crate::engine::s3_lock::{LockStore, S3LockConfig};
use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;

/// One object of a bucket.
pub struct S3Object {
    client: aws_sdk_s3::Client,
    cfg: S3LockConfig,
}

impl S3Object {
    /// The lock object `cfg` names, through `client`.
    pub fn new(client: aws_sdk_s3::Client, cfg: S3LockConfig) -> Self {
        S3Object { client, cfg }
    }
}

#[async_trait]
impl LockStore for S3Object {
    async fn get(&self) -> Result<Option<Vec<u8>>, ProviderError> {
        match self.client.get_object().bucket(&self.cfg.bucket).key(&self.cfg.key).send().await {
            Ok(out) => {
                let body = out.body.collect().await.map_err(|e| ProviderError::aws(crate::core::ErrorClass::Network, "s3", "GetObject", e.to_string()))?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(classify("s3", "GetObject", e)),
        }
    }

    async fn create_if_absent(&self, body: Vec<u8>) -> Result<bool, ProviderError> {
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
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412 || r.status().as_u16() == 409) => Ok(false),
            Err(e) => Err(classify("s3", "PutObject", e)),
        }
    }

    async fn delete(&self) -> Result<(), ProviderError> {
        self.client.delete_object().bucket(&self.cfg.bucket).key(&self.cfg.key).send().await.map(drop).map_err(|e| classify("s3", "DeleteObject", e))
    }
}
