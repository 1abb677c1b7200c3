//! The project-level IAM kinds (service accounts, custom roles, workload
//! identity pools): the project they need, and their ownership. They have
//! no labels, so ownership is recorded at the end
//! of their description as `[gantry:OWNER ADDRESS]` (plus ` protected`),
//! hidden from the plan. Their descriptions hold 256 characters; a block's
//! own is kept to [`DESCRIPTION_MAX`] to leave room.

use crate::core::{Diagnostic, Owner};

/// The longest description a block may give.
pub const DESCRIPTION_MAX: usize = 180;

/// These kinds live in the stack's project: its `gcp { project }` is required.
pub fn check_project(env: &crate::core::Env, attr: &str, kind: &str) -> Vec<Diagnostic> {
    if env.gcp_project.is_empty() {
        return vec![Diagnostic::attr(attr, format!("a {kind} needs the stack's gcp {{ project = ... }}"))];
    }
    Vec::new()
}

/// The description rule shared by the kinds that carry the marker.
pub fn check_description(description: &str) -> Option<Diagnostic> {
    (description.chars().count() > DESCRIPTION_MAX || description.contains("[gantry:")).then(|| {
        Diagnostic::attr(
            "description",
            format!("at most {DESCRIPTION_MAX} characters, without \"[gantry:\" (gantry records ownership there; Google allows 256)"),
        )
    })
}

/// The ownership marker written at the end of the description.
pub fn marker(owner: &Owner) -> String {
    format!("[gantry:{} {}{}]", owner.stack, owner.address, if owner.protect { " protected" } else { "" })
}

/// The description IAM should hold: the block's, then the marker.
pub fn written_description(user: &str, owner: &Owner) -> String {
    if user.is_empty() {
        marker(owner)
    } else {
        format!("{user} {}", marker(owner))
    }
}

/// Splits a live description into (the user's part, owner key, address, protected).
pub fn read_marker(description: &str) -> (String, Option<String>, Option<String>, bool) {
    let Some(at) = description.rfind("[gantry:").filter(|_| description.ends_with(']')) else {
        return (description.to_string(), None, None, false);
    };
    let inner = &description[at + "[gantry:".len()..description.len() - 1];
    let (inner, protected) = inner.strip_suffix(" protected").map_or((inner, false), |i| (i, true));
    let (stack, address) = inner.split_once(' ').unwrap_or((inner, ""));
    (description[..at].trim_end().to_string(), Some(stack.to_string()), Some(address.to_string()).filter(|a| !a.is_empty()), protected)
}
