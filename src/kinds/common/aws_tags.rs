//! The user's `tags` on an AWS resource: keys gantry or AWS reserve, and
//! the limits ECR, S3 and IAM share (50 tags per resource, keys of 1-128
//! characters, values of at most 256).

use crate::core::AttrProblem;
use serde_json::Value;

/// AWS allows 50 tags per resource; gantry writes up to 5 of its own
/// (stack, workspace, address, protect, force-delete).
pub const MAX_USER_TAGS: usize = 45;

/// Problems with the evaluated `tags` attribute, if any.
pub fn check(tags: Option<&Value>) -> Vec<AttrProblem> {
    let mut out = Vec::new();
    let Some(tags) = tags.and_then(Value::as_object) else { return out };
    for (k, v) in tags {
        if k.starts_with("gantry:") || k.starts_with("aws:") {
            out.push(AttrProblem::new("tags", format!("tag key \"{k}\" is reserved")));
        }
        if k.is_empty() || k.len() > 128 || v.as_str().map(str::len).unwrap_or(0) > 256 {
            out.push(AttrProblem::new("tags", format!("tag \"{k}\": keys are 1-128 characters, values at most 256")));
        }
    }
    if tags.len() > MAX_USER_TAGS {
        out.push(AttrProblem::new("tags", format!("at most {MAX_USER_TAGS} tags (AWS allows 50; gantry uses up to 5)")));
    }
    out
}
