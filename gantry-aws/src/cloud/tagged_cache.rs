//! The Tagging API answers one command has fetched, shared by every driver
//! through the AWS context (so a plan pays one GetResources per region and
//! stack, whichever kind asks first).

use std::collections::BTreeMap;
use std::sync::Arc;

/// Tagged resources of one type: (ARN, tags).
pub(crate) type Tagged = Vec<(String, BTreeMap<String, String>)>;

/// One (region, stack)'s answer, fetched once by whoever asks first.
pub(crate) type Answer = Arc<tokio::sync::OnceCell<Tagged>>;

/// Answers already fetched in this command, by (region, stack).
#[derive(Debug, Default)]
pub struct TaggedCache(pub tokio::sync::Mutex<BTreeMap<(String, String), Answer>>);
