//! List pagination of the fake Google Cloud APIs, as the real ones page:
//! `pageSize`/`maxResults` capped at 500, an opaque `nextPageToken`, and
//! optionally an empty page before each real one (AIP-158 allows "fewer
//! results than requested (including zero results), even if not at the end
//! of the collection"; callers must follow the token).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    #[serde(rename = "pageSize", alias = "maxResults")]
    pub page_size: Option<usize>,
    #[serde(rename = "pageToken")]
    pub page_token: Option<String>,
    #[serde(rename = "nodeId", alias = "instance")]
    pub node_id: Option<String>,
}

/// Marks a page token that leads past an injected empty page.
const EMPTY: &str = "empty~";

/// Pages through the values under `prefix`; the token is the last key.
pub(crate) fn page(map: &BTreeMap<String, Value>, prefix: &str, q: &PageQuery, empty_pages: bool) -> (Vec<Value>, Option<String>) {
    let token = q.page_token.clone().filter(|t| !t.is_empty());
    if empty_pages && !token.as_deref().is_some_and(|t| t.starts_with(EMPTY)) {
        return (Vec::new(), Some(format!("{EMPTY}{}", token.unwrap_or_default())));
    }
    let token = token.map(|t| t.trim_start_matches(EMPTY).to_string()).filter(|t| !t.is_empty());
    let size = q.page_size.unwrap_or(500).clamp(1, 500);
    let mut items: Vec<(&String, &Value)> = map.range(prefix.to_string()..).take_while(|(k, _)| k.starts_with(prefix)).collect();
    if let Some(t) = &token {
        items.retain(|(k, _)| k.as_str() > t.as_str());
    }
    let more = items.len() > size;
    items.truncate(size);
    let token = if more { items.last().map(|(k, _)| k.to_string()) } else { None };
    (items.into_iter().map(|(_, v)| v.clone()).collect(), token)
}

/// A list answer as the JSON APIs write it: the page's items under `key`
/// and `nextPageToken`, each left out when empty (proto3 JSON omits
/// defaults: an empty list has neither).
pub(crate) fn list_answer(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = serde_json::json!({});
    if !items.is_empty() {
        out[key] = Value::Array(items);
    }
    if let Some(t) = next {
        out["nextPageToken"] = Value::String(t);
    }
    out
}
