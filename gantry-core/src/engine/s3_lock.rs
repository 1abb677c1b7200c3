//! The shared lock for CI, over a [`LockStore`]: one object created with a
//! conditional write (S3's `If-None-Match: *`, see `crate::cloud::s3`), so
//! exactly one writer wins. It records who holds it, since when and for
//! what; a lock older than [`STALE_AFTER`] is reported as probably stale,
//! and `force-unlock ID` removes it.

use crate::core::error::ProviderError;
pub use crate::engine::lock::STALE_AFTER;
use crate::engine::lock::{looks_stale, LockError, LockInfo};
use async_trait::async_trait;
use std::sync::Arc;

/// Where the lock object lives.
#[derive(Debug, Clone, PartialEq)]
pub struct S3LockConfig {
    /// The bucket holding the lock object.
    pub bucket: String,
    /// The lock object's key.
    pub key: String,
}

/// One object that can be created only when absent.
#[async_trait]
pub trait LockStore: Send + Sync {
    /// The object's body, if it exists.
    async fn get(&self) -> Result<Option<Vec<u8>>, ProviderError>;
    /// Creates the object unless one exists; false when one does.
    async fn create_if_absent(&self, body: Vec<u8>) -> Result<bool, ProviderError>;
    /// Deletes the object (absent is fine).
    async fn delete(&self) -> Result<(), ProviderError>;
}

/// A shared lock handle.
pub struct S3Lock {
    store: Arc<dyn LockStore>,
}

fn provider(e: ProviderError) -> LockError {
    let text = format!("{e}{}", e.hint().map(|h| format!(" ({h})")).unwrap_or_default());
    LockError::Io(std::path::PathBuf::from("s3"), std::io::Error::other(text))
}

impl S3Lock {
    /// A lock over `store`.
    pub fn new(store: Arc<dyn LockStore>) -> Self {
        S3Lock { store }
    }

    /// Reads the current holder, if any.
    pub async fn read(&self) -> Result<Option<LockInfo>, LockError> {
        Ok(self.store.get().await.map_err(provider)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// Takes the lock for `operation`, or says who holds it (and whether it looks stale).
    pub async fn acquire(&self, operation: &str) -> Result<LockInfo, LockError> {
        let info = LockInfo::new(operation);
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        if self.store.create_if_absent(body).await.map_err(provider)? {
            return Ok(info);
        }
        let held = self.read().await?.unwrap_or_else(LockInfo::unknown);
        if held.id == info.id {
            // Our PUT was done but its answer lost; the SDK's retry then met our own lock.
            return Ok(info);
        }
        let stale = looks_stale(&held);
        Err(LockError::Held(Box::new(held), stale))
    }

    /// Releases the lock if it is still the one we took.
    pub async fn release(&self, id: &str) -> Result<(), LockError> {
        if self.read().await?.is_some_and(|h| h.id == id) {
            self.store.delete().await.map_err(provider)?;
        }
        Ok(())
    }

    /// Removes the lock if its id matches.
    pub async fn force_unlock(&self, id: &str) -> Result<LockInfo, LockError> {
        let held = self.read().await?.ok_or(LockError::NotLocked)?;
        if held.id != id {
            return Err(LockError::WrongId { given: id.to_string(), held: held.id });
        }
        self.store.delete().await.map_err(provider)?;
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Memory(Mutex<Option<Vec<u8>>>);

    #[async_trait]
    impl LockStore for Memory {
        async fn get(&self) -> Result<Option<Vec<u8>>, ProviderError> {
            Ok(self.0.lock().unwrap().clone())
        }
        async fn create_if_absent(&self, body: Vec<u8>) -> Result<bool, ProviderError> {
            let mut held = self.0.lock().unwrap();
            Ok(held.is_none() && held.replace(body).is_none())
        }
        async fn delete(&self) -> Result<(), ProviderError> {
            *self.0.lock().unwrap() = None;
            Ok(())
        }
    }

    /// A store whose conditional PUT is done but answered "exists" (the
    /// SDK retried after the first answer was lost).
    struct LostAnswer(Memory);

    #[async_trait]
    impl LockStore for LostAnswer {
        async fn get(&self) -> Result<Option<Vec<u8>>, ProviderError> {
            self.0.get().await
        }
        async fn create_if_absent(&self, body: Vec<u8>) -> Result<bool, ProviderError> {
            self.0.create_if_absent(body).await.map(|_| false)
        }
        async fn delete(&self) -> Result<(), ProviderError> {
            self.0.delete().await
        }
    }

    #[tokio::test]
    async fn a_lock_whose_answer_was_lost_is_recognised_as_ours() {
        let lock = S3Lock::new(Arc::new(LostAnswer(Memory::default())));
        let mine = lock.acquire("apply").await.expect("our own lock, not 'held by'");
        assert!(matches!(lock.acquire("apply").await, Err(LockError::Held(h, _)) if h.id == mine.id));
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_only_the_holder_releases() {
        let store = Arc::new(Memory::default());
        let lock = S3Lock::new(store.clone());
        let mine = lock.acquire("apply").await.unwrap();
        match lock.acquire("destroy").await {
            Err(LockError::Held(held, stale)) => assert!(held.id == mine.id && !stale),
            other => panic!("{other:?}"),
        }
        lock.release("someone-else").await.unwrap();
        assert!(lock.read().await.unwrap().is_some(), "a release with another id keeps the lock");
        assert!(matches!(lock.force_unlock("wrong").await, Err(LockError::WrongId { .. })));
        lock.release(&mine.id).await.unwrap();
        assert!(matches!(lock.force_unlock(&mine.id).await, Err(LockError::NotLocked)));
    }

    #[tokio::test]
    async fn an_old_lock_is_reported_as_stale() {
        let store = Arc::new(Memory::default());
        let mut old = LockInfo::new("apply");
        old.created = "2020-01-01T00:00:00Z".into();
        store.create_if_absent(serde_json::to_vec(&old).unwrap()).await.unwrap();
        match S3Lock::new(store).acquire("apply").await {
            Err(LockError::Held(_, stale)) => assert!(stale),
            other => panic!("{other:?}"),
        }
    }
}
