//! Pure action choice: desired vs live state → action and attribute diffs.
//! No I/O; unit-tested exhaustively.

use crate::core::compare::equal;
use crate::core::{Action, AttrChange};
use crate::core::{Field, State};
use serde_json::Value;

/// Attribute-level differences over a kind's fields, under each field's
/// rules: an unset server-filled field never differs, and values compare
/// under the field's [`Compare`](crate::core::compare::Compare) rule.
pub fn diff_fields(fields: &[Field], desired: &State, live: &State) -> Vec<AttrChange> {
    fields
        .iter()
        .filter_map(|f| {
            let before = live.get(f.name).cloned().unwrap_or(Value::Null);
            let after = desired.get(f.name).cloned().unwrap_or(Value::Null);
            if f.server_filled && after.is_null() {
                return None;
            }
            (!equal(f.compare, &after, &before)).then(|| AttrChange {
                name: f.name.to_string(),
                before,
                after,
                forces_replacement: f.forces_replacement,
                sensitive: f.sensitive,
                known_after_apply: false,
            })
        })
        .collect()
}

/// Chooses the action for one resource.
///
/// - nothing desired, something live → Delete
/// - desired, nothing live → Create
/// - both: Replace if any differing field forces replacement, Update if any
///   differs, else NoOp.
pub fn choose_action(fields: &[Field], desired: Option<&State>, live: Option<&State>) -> (Action, Vec<AttrChange>) {
    match (desired, live) {
        (None, None) => (Action::NoOp, Vec::new()),
        (None, Some(_)) => (Action::Delete, Vec::new()),
        (Some(d), None) => {
            let attrs = fields
                .iter()
                .filter_map(|f| {
                    let after = d.get(f.name).cloned().unwrap_or(Value::Null);
                    let unknown = after.is_null() && f.server_filled;
                    (!after.is_null() || unknown).then(|| AttrChange {
                        name: f.name.to_string(),
                        before: Value::Null,
                        after,
                        forces_replacement: false,
                        sensitive: f.sensitive,
                        known_after_apply: unknown,
                    })
                })
                .collect();
            (Action::Create, attrs)
        }
        (Some(d), Some(l)) => {
            let attrs = diff_fields(fields, d, l);
            let action = if attrs.iter().any(|a| a.forces_replacement) {
                Action::Replace
            } else if attrs.is_empty() {
                Action::NoOp
            } else {
                Action::Update
            };
            (action, attrs)
        }
    }
}

/// A stable hash of a live value (or of its absence) for stale-plan checks.
pub fn fingerprint(live: Option<&impl serde::Serialize>) -> String {
    use sha2::{Digest, Sha256};
    match live {
        None => "absent".to_string(),
        Some(v) => {
            let text = serde_json::to_string(v).unwrap_or_default();
            let digest = Sha256::digest(text.as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static FIELDS: &[Field] = &[Field::replace("name"), Field::new("size"), Field::new("tags")];

    fn st(v: Value) -> State {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn table() {
        let base = st(json!({"name": "a", "size": 1, "tags": {}}));
        type Case = (Option<State>, Option<State>, Action, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            (None, None, Action::NoOp, vec![]),
            (Some(base.clone()), None, Action::Create, vec!["name", "size", "tags"]),
            (None, Some(base.clone()), Action::Delete, vec![]),
            (Some(base.clone()), Some(base.clone()), Action::NoOp, vec![]),
            (Some(st(json!({"name": "a", "size": 2, "tags": {}}))), Some(base.clone()), Action::Update, vec!["size"]),
            (Some(st(json!({"name": "b", "size": 2, "tags": {}}))), Some(base.clone()), Action::Replace, vec!["name", "size"]),
            (Some(st(json!({"name": "a", "size": 1, "tags": {"t": "1"}}))), Some(base.clone()), Action::Update, vec!["tags"]),
        ];
        for (i, (d, l, want, attrs)) in cases.into_iter().enumerate() {
            let (got, diffs) = choose_action(FIELDS, d.as_ref(), l.as_ref());
            assert_eq!(got, want, "case {i}");
            let names: Vec<_> = diffs.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, attrs, "case {i}");
        }
    }

    #[test]
    fn server_filled_fields_accept_the_live_value_while_unset() {
        use crate::core::compare::Compare;
        static F: &[Field] = &[Field::replace("subnetwork").server_filled().compare(Compare::GcpRef), Field::new("size")];
        let live = st(json!({"subnetwork": "https://www.googleapis.com/compute/v1/projects/p/regions/r/subnetworks/default", "size": 1}));
        // Unset: whatever the server chose is fine.
        assert_eq!(choose_action(F, Some(&st(json!({"subnetwork": null, "size": 1}))), Some(&live)).0, Action::NoOp);
        assert_eq!(choose_action(F, Some(&st(json!({"size": 1}))), Some(&live)).0, Action::NoOp);
        // Set to the same resource in another spelling: no change.
        assert_eq!(choose_action(F, Some(&st(json!({"subnetwork": "default", "size": 1}))), Some(&live)).0, Action::NoOp);
        // Set to another resource: replace.
        let (a, attrs) = choose_action(F, Some(&st(json!({"subnetwork": "ci", "size": 1}))), Some(&live));
        assert_eq!((a, attrs[0].name.as_str()), (Action::Replace, "subnetwork"));
        // Create: shown as known after apply.
        let (a, attrs) = choose_action(F, Some(&st(json!({"size": 1}))), None);
        assert_eq!(a, Action::Create);
        assert!(attrs.iter().any(|c| c.name == "subnetwork" && c.known_after_apply));
        assert!(attrs.iter().any(|c| c.name == "size" && !c.known_after_apply));
    }

    #[test]
    fn a_field_that_is_not_server_filled_still_diffs_when_unset() {
        let d = st(json!({"name": "a", "size": null, "tags": {}}));
        let l = st(json!({"name": "a", "size": 1, "tags": {}}));
        assert_eq!(choose_action(FIELDS, Some(&d), Some(&l)).0, Action::Update);
    }

    #[test]
    fn extra_live_keys_are_ignored() {
        let d = st(json!({"name": "a", "size": 1, "tags": {}}));
        let l = st(json!({"name": "a", "size": 1, "tags": {}, "arn": "arn:x"}));
        assert_eq!(choose_action(FIELDS, Some(&d), Some(&l)).0, Action::NoOp);
    }

    #[test]
    fn fingerprints_differ_on_change() {
        let a = json!({"x": 1});
        let b = json!({"x": 2});
        assert_ne!(fingerprint(Some(&a)), fingerprint(Some(&b)));
        assert_eq!(fingerprint(Some(&a)), fingerprint(Some(&a.clone())));
        assert_eq!(fingerprint(None::<&Value>), "absent");
    }
}
