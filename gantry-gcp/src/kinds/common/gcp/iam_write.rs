//! Writing a node's or service account's IAM bindings: the live policy's
//! unconditional bindings read as the `iam` field, and the policy to write
//! (the block's grants, the live conditional bindings and etag kept). The
//! grants themselves are gantry-core's `iam_binding`.

use super::iam_binding::Grants;
use crate::cloud::gcp_iam::{Binding, Policy};

/// A live policy's unconditional bindings as the `iam` field's value.
pub(crate) fn live(p: &Policy) -> Grants {
    let mut g = Grants::new();
    for b in p.bindings.iter().filter(|b| b.condition.is_none()) {
        g.entry(b.role.clone()).or_default().extend(b.members.iter().cloned());
    }
    g
}

/// The policy to write: the desired bindings, the live conditional ones
/// kept (at version 3, which conditions need), the live etag.
pub(crate) fn merged(live: &Policy, desired: &Grants) -> Policy {
    let mut bindings: Vec<Binding> =
        desired.iter().map(|(role, members)| Binding { role: role.clone(), members: members.iter().cloned().collect(), condition: None }).collect();
    bindings.extend(live.bindings.iter().filter(|b| b.condition.is_some()).cloned());
    let version = if bindings.iter().any(|b| b.condition.is_some()) { 3 } else { 1 };
    Policy { version, bindings, etag: live.etag.clone() }
}

/// The policy to write for the desired grants, or None when the live
/// policy already holds exactly those unconditional bindings.
pub(crate) fn to_write(current: &Policy, want: &Grants) -> Option<Policy> {
    (live(current) != *want).then(|| merged(current, want))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn grants(v: Value) -> Grants {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn writing_keeps_conditional_bindings_and_the_etag() {
        let cond = Binding { role: "roles/a".into(), members: vec!["user:c@d.e".into()], condition: Some(json!({"title": "t", "expression": "true"})) };
        let old = Binding { role: "roles/old".into(), members: vec!["user:x@y.z".into()], condition: None };
        let livep = Policy { version: 3, bindings: vec![old, cond.clone()], etag: "BwX=".into() };
        assert_eq!(json!(live(&livep)), json!({"roles/old": ["user:x@y.z"]}));
        let out = merged(&livep, &grants(json!({"roles/new": ["user:n@m.o"]})));
        assert_eq!((out.version, out.etag.as_str(), out.bindings.len()), (3, "BwX=", 2));
        assert_eq!(out.bindings[1], cond);
        assert_eq!(merged(&Policy::default(), &grants(json!({"roles/new": ["user:n@m.o"]}))).version, 1);
    }
}
