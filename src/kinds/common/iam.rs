//! Helpers shared by the IAM kinds: ownership tags and tag maps.

use aws_sdk_iam::types::Tag;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The user's tags (without gantry's) as a JSON object.
pub fn user_tags(tags: &BTreeMap<String, String>) -> Value {
    Value::Object(tags.iter().filter(|(k, _)| !k.starts_with("gantry:")).map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
}

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
