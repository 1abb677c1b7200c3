//! `iam_binding { role = ..., members = [...] }` on a Google Cloud resource
//! gantry owns (a `gpu_node`, a `gcp_service_account`): the blocks are the
//! resource's whole unconditional IAM policy, as Terraform's `_iam_policy`
//! resources are authoritative. Ownership is the resource's, so no state
//! file is needed to know a binding was ours: a binding on an owned
//! resource that no block declares is planned for removal, where the
//! reviewer sees it. Conditional bindings (made elsewhere) are kept as they
//! are and not shown. Setting the policy carries the etag read last, so a
//! concurrent change fails the write instead of being overwritten
//! (`setIamPolicy`: "concurrency control").

use crate::core::schema::{Attr, NestedBlock, Schema, Ty};
use crate::core::{Diagnostic, State};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

static IAM_BINDING: Schema = Schema {
    attrs: &[
        Attr::new("role", Ty::String, "roles/NAME, projects/P/roles/ID (a gcp_custom_role's name) or organizations/O/roles/ID.").required(),
        Attr::new("members", Ty::ListOfString, "Who gets the role: serviceAccount:, user:, group:, domain:, principal:// or principalSet:// members.")
            .required(),
    ],
    blocks: &[],
};

/// The nested block, shared by the kinds that take it.
pub const BLOCK: NestedBlock = NestedBlock {
    name: "iam_binding",
    schema: &IAM_BINDING,
    repeated: true,
    implied: false,
    doc: "Grants a role on this resource (the blocks are its whole IAM policy; one per role).",
};

/// Role → members, sorted: how desired and live policies compare.
pub type Grants = BTreeMap<String, BTreeSet<String>>;

/// One evaluated `iam_binding { }` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct BindingBlock {
    /// The role granted, e.g. roles/iam.workloadIdentityUser.
    pub role: String,
    /// The members it is granted to, e.g. serviceAccount:ci@p.iam.gserviceaccount.com.
    pub members: Vec<String>,
}

/// The blocks as the `iam` field's value.
pub fn desired(blocks: &[BindingBlock]) -> Grants {
    let mut g = Grants::new();
    for b in blocks {
        g.entry(b.role.clone()).or_default().extend(b.members.iter().cloned());
    }
    g
}

/// The `iam` field of a desired or live state (none when it has none).
fn grants_of(state: &State) -> Grants {
    #[derive(Deserialize)]
    struct WithIam {
        #[serde(default)]
        iam: Grants,
    }
    crate::kinds::common::read_desired::<WithIam>(state).map(|s| s.iam).unwrap_or_default()
}

fn valid_role(r: &str) -> bool {
    let seg_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    match r.split('/').collect::<Vec<_>>().as_slice() {
        ["roles", name] => seg_ok(name),
        ["projects" | "organizations", parent, "roles", id] => seg_ok(parent) && seg_ok(id),
        _ => false,
    }
}

fn valid_member(m: &str) -> Result<(), String> {
    if m == "allUsers" || m == "allAuthenticatedUsers" {
        return Err(format!("\"{m}\" would grant the role to anyone on the internet; gantry does not make these resources public"));
    }
    let email = |rest: &str| rest.contains('@') && !rest.contains(char::is_whitespace);
    let ok = match m.split_once(':') {
        Some(("serviceAccount" | "user" | "group", rest)) => email(rest),
        Some(("domain", rest)) => rest.contains('.') && !rest.contains('@'),
        Some(("principal" | "principalSet", rest)) => rest.starts_with("//iam.googleapis.com/") && !rest.contains(char::is_whitespace),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{m}\" is not an IAM member: serviceAccount:EMAIL, user:EMAIL, group:EMAIL, domain:DOMAIN, principal://iam.googleapis.com/... or principalSet://iam.googleapis.com/..."
        ))
    }
}

/// Role and member syntax; one block per role.
pub fn check(blocks: &[BindingBlock]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for b in blocks {
        let role = b.role.as_str();
        if !valid_role(role) {
            out.push(Diagnostic::attr("iam_binding", format!("\"{role}\" is not a role name: roles/NAME, projects/P/roles/ID or organizations/O/roles/ID")));
        } else if !seen.insert(role) {
            out.push(Diagnostic::attr("iam_binding", format!("two iam_binding blocks grant {role}: list every member in one")));
        }
        if b.members.is_empty() {
            out.push(Diagnostic::attr("iam_binding", format!("the binding of {role} has no members (leave the block out to grant the role to nobody)")));
        }
        out.extend(b.members.iter().filter_map(|m| valid_member(m).err()).map(|e| Diagnostic::attr("iam_binding", e)));
    }
    out
}

/// "ROLE granted to MEMBER" for every member a change adds, for the
/// broadening review.
pub fn broadening(before: Option<&State>, after: &State) -> Vec<String> {
    let (old, new) = (before.map(grants_of).unwrap_or_default(), grants_of(after));
    let mut out = Vec::new();
    for (role, members) in &new {
        for m in members.difference(old.get(role).unwrap_or(&BTreeSet::new())) {
            out.push(format!("{role} granted to {m}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn attrs(v: Value) -> Vec<BindingBlock> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn blocks_become_sorted_grants_and_bad_ones_are_named() {
        let a = attrs(json!([{"role": "roles/iam.workloadIdentityUser", "members": ["principalSet://iam.googleapis.com/p/x", "user:a@b.c", "user:a@b.c"]}]));
        assert_eq!(json!(desired(&a)), json!({"roles/iam.workloadIdentityUser": ["principalSet://iam.googleapis.com/p/x", "user:a@b.c"]}));
        assert!(check(&a).is_empty());
        let bad = attrs(json!([
            {"role": "owner", "members": ["allUsers"]},
            {"role": "roles/x", "members": ["bob@example.com"]},
            {"role": "roles/x", "members": []},
        ]));
        let msgs: Vec<String> = check(&bad).into_iter().map(|p| p.message).collect();
        assert!(msgs[0].contains("not a role name") && msgs[1].contains("anyone on the internet"), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("is not an IAM member")) && msgs.iter().any(|m| m.contains("two iam_binding blocks")));
        assert!(msgs.iter().any(|m| m.contains("no members")));
    }

    #[test]
    fn broadening_lists_each_new_member() {
        let before: State = serde_json::from_value(json!({"iam": {"roles/a": ["user:x@y.z"]}})).unwrap();
        let after: State = serde_json::from_value(json!({"iam": {"roles/a": ["user:x@y.z", "user:n@m.o"], "roles/b": ["group:g@h.i"]}})).unwrap();
        assert_eq!(broadening(Some(&before), &after), vec!["roles/a granted to user:n@m.o", "roles/b granted to group:g@h.i"]);
        assert!(broadening(Some(&after), &before).is_empty());
    }
}
