//! Tags on an AWS resource: the user's `tags` (keys gantry or AWS reserve,
//! and the limits ECR, S3 and IAM share: 50 tags per resource, keys of
//! 1-128 characters, values of at most 256), what gantry writes beside
//! them, and the user's part of what it reads back.

use crate::core::{Diagnostic, Owner, State};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Tag recording `force_delete = true` on the resource itself, so one
/// whose block was removed can still be deleted with its contents.
pub const TAG_FORCE_DELETE: &str = "gantry:force-delete";

/// Every tag gantry writes: the user's, ownership, and force-delete when
/// the desired state allows it.
pub fn written(user: &BTreeMap<String, String>, force_delete: bool, owner: &Owner) -> BTreeMap<String, String> {
    let mut tags = owner.with_ownership(user.clone());
    if force_delete {
        tags.insert(TAG_FORCE_DELETE.into(), "true".into());
    }
    tags
}

/// What an AWS driver reads back of a live state it wrote beside the
/// compared fields: the resource's ARN, and whether it may be deleted with
/// its contents.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LiveAws {
    /// The resource's ARN.
    pub arn: String,
    /// Whether the resource may be deleted with its contents.
    pub force_delete: bool,
}

impl LiveAws {
    /// Reads it from a live state (absent fields read as their defaults).
    pub fn of(state: &State) -> LiveAws {
        crate::kinds::common::read_desired(state).unwrap_or_default()
    }
}

/// Whether live tags record `force_delete = true`.
pub fn force_delete(tags: &BTreeMap<String, String>) -> bool {
    tags.get(TAG_FORCE_DELETE).is_some_and(|v| v == "true")
}

/// The user's tags (without gantry's) as a JSON object.
pub fn user_tags(tags: &BTreeMap<String, String>) -> Value {
    Value::Object(tags.iter().filter(|(k, _)| !k.starts_with("gantry:")).map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
}

/// AWS allows 50 tags per resource; gantry writes up to 5 of its own
/// (stack, workspace, address, protect, force-delete).
pub const MAX_USER_TAGS: usize = 45;

/// Problems with the evaluated `tags` attribute, if any.
pub fn check(tags: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (k, v) in tags {
        if k.starts_with("gantry:") || k.starts_with("aws:") {
            out.push(Diagnostic::attr("tags", format!("tag key \"{k}\" is reserved")));
        }
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            out.push(Diagnostic::attr("tags", format!("tag \"{k}\": keys are 1-128 characters, values at most 256")));
        }
    }
    if tags.len() > MAX_USER_TAGS {
        out.push(Diagnostic::attr("tags", format!("at most {MAX_USER_TAGS} tags (AWS allows 50; gantry uses up to 5)")));
    }
    out
}
