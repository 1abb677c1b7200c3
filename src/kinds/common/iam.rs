//! Helpers shared by the IAM kinds: ownership tags and tag maps.

use crate::core::{owned_tags, Owner, State};
use aws_sdk_iam::types::Tag;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Tags as a sorted map.
pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

/// The user's tags (without gantry's) as a JSON object.
pub fn user_tags(tags: &BTreeMap<String, String>) -> Value {
    Value::Object(tags.iter().filter(|(k, _)| !k.starts_with("gantry:")).map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
}

/// Every tag gantry writes: the user's plus ownership.
pub fn all_tags(desired: &State, owner: &Owner) -> Vec<Tag> {
    owned_tags(desired, owner).into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

/// Keys present now that the wanted set no longer has.
pub fn stale_keys(current: &BTreeMap<String, String>, want: &[Tag]) -> Vec<String> {
    current.keys().filter(|k| !want.iter().any(|t| t.key() == k.as_str())).cloned().collect()
}

/// A sorted, de-duplicated list of strings from a JSON value.
pub fn sorted_strings(v: Option<&Value>) -> Value {
    let mut items: Vec<String> = v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}
