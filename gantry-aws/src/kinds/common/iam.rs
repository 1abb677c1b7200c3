//! Helpers shared by the IAM kinds: tag lists.

use aws_sdk_iam::types::Tag;
use std::collections::BTreeMap;

/// Tags as IAM takes them.
pub(crate) fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}
