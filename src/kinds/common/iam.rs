//! Helpers shared by the IAM kinds: tag lists and sorted string lists.

use aws_sdk_iam::types::Tag;
use serde_json::Value;
use std::collections::BTreeMap;

/// Tags as IAM takes them.
pub fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

/// A sorted, de-duplicated list of strings from a JSON value.
pub fn sorted_strings(v: Option<&Value>) -> Value {
    let mut items: Vec<String> = v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}
