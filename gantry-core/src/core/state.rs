//! Resource state as gantry compares it, the rules of its fields, and who
//! owns what gantry writes.

use super::Compare;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A flat, comparable projection of a resource (sorted keys).
pub type State = Map<String, Value>;

/// Tag keys gantry puts on every AWS resource it owns.
pub const TAG_STACK: &str = "gantry:stack";
/// Tag key recording the block's address.
pub const TAG_ADDRESS: &str = "gantry:address";
/// Tag recording `protect = true` on the resource itself.
pub const TAG_PROTECT: &str = "gantry:protect";
/// The workspace of the owning stack (absent for the default workspace).
pub const TAG_WORKSPACE: &str = "gantry:workspace";

/// Who owns a resource, as one comparable key: the stack block's label, and
/// `@WORKSPACE` outside the default workspace. It is recorded as two tags
/// (`gantry:stack`, `gantry:workspace`), never as one joined name, so stack
/// `ow` in workspace `dev` and a stack named `ow-dev` are different owners
/// (neither a stack label nor a workspace can hold `@`).
pub fn owner_key(stack: &str, workspace: &str) -> String {
    if workspace.is_empty() || workspace == "default" {
        stack.to_string()
    } else {
        format!("{stack}@{workspace}")
    }
}

/// The owner key the ownership tags of a resource record.
pub fn owner_of(tags: &BTreeMap<String, String>) -> Option<String> {
    let stack = tags.get(TAG_STACK)?;
    Some(owner_key(stack, tags.get(TAG_WORKSPACE).map(String::as_str).unwrap_or_default()))
}

/// Keys tagged now that the wanted tags no longer have (to untag before tagging).
pub fn stale_tag_keys(current: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Vec<String> {
    current.keys().filter(|k| !want.contains_key(*k)).cloned().collect()
}

/// A string field of a state, or "" (an unset or non-string one).
/// Base64 SHA-256 of a file's bytes, as Lambda reports `CodeSha256`.
pub fn sha256_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// The string at `key` of a state (empty when absent or not a string).
pub fn text<'a>(state: &'a State, key: &str) -> &'a str {
    state.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// JSON pointer lookup into a state (`/network/subnetwork`).
pub fn pointer<'a>(state: &'a State, path: &str) -> Option<&'a Value> {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let first = state.get(parts.next()?)?;
    match parts.next() {
        Some(rest) => first.pointer(&format!("/{rest}")),
        None => Some(first),
    }
}

/// A sink for progress lines from long operations (e.g. CloudFormation
/// stack events), shown next to the resource's progress.
#[derive(Clone)]
pub struct Notes(pub std::sync::Arc<dyn Fn(String) + Send + Sync>);

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notes")
    }
}

/// Who owns a resource being written (becomes tags/labels), and where its
/// progress lines go.
#[derive(Debug, Clone)]
pub struct Owner {
    /// The owner key ([`owner_key`]).
    pub stack: String,
    /// The block's address.
    pub address: String,
    /// `protect = true`: recorded on the resource (tag `gantry:protect`).
    pub protect: bool,
    /// Where a long operation reports progress lines (None: nowhere).
    pub notes: Option<Notes>,
}

impl Owner {
    /// `tags` plus the ownership tags.
    pub fn with_ownership(&self, mut tags: BTreeMap<String, String>) -> BTreeMap<String, String> {
        let (stack, workspace) = self.stack.split_once('@').map_or((self.stack.as_str(), None), |(s, w)| (s, Some(w)));
        tags.insert(TAG_STACK.into(), stack.to_string());
        if let Some(w) = workspace {
            tags.insert(TAG_WORKSPACE.into(), w.to_string());
        }
        tags.insert(TAG_ADDRESS.into(), self.address.clone());
        if self.protect {
            tags.insert(TAG_PROTECT.into(), "true".into());
        }
        tags
    }

    /// Reports a progress line, if anyone listens.
    pub fn note(&self, line: String) {
        if let Some(n) = &self.notes {
            (n.0)(line);
        }
    }
}

/// One comparable field of a kind's state, with the rules that decide how
/// a difference in it is planned.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The field's key in the state.
    pub name: &'static str,
    /// A change of this field cannot be made in place.
    pub forces_replacement: bool,
    /// Never print its value.
    pub sensitive: bool,
    /// The server chooses a value when the user gives none (a default
    /// subnetwork, service account, computed thumbprint): while the desired
    /// value is unset (null) the live value is accepted as it is, and a
    /// create shows it as "(known after apply)".
    pub server_filled: bool,
    /// How desired and live values compare.
    pub compare: Compare,
}

impl Field {
    /// A field updated in place, compared exactly.
    pub const fn new(name: &'static str) -> Field {
        Field { name, forces_replacement: false, sensitive: false, server_filled: false, compare: Compare::Exact }
    }
    /// A field whose change replaces the resource.
    pub const fn replace(name: &'static str) -> Field {
        Field { forces_replacement: true, ..Field::new(name) }
    }
    /// The server fills this field when the user leaves it unset.
    pub const fn server_filled(self) -> Field {
        Field { server_filled: true, ..self }
    }
    /// Compare values under `rule` instead of exactly.
    pub const fn compare(self, rule: Compare) -> Field {
        Field { compare: rule, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_and_workspace_are_two_tags_and_one_key() {
        let owner = |stack: &str| Owner { stack: stack.into(), address: "ecr_repository.a".into(), protect: false, notes: None };
        let ws = owner(&owner_key("ow", "dev")).with_ownership(BTreeMap::new());
        assert_eq!((ws[TAG_STACK].as_str(), ws[TAG_WORKSPACE].as_str()), ("ow", "dev"));
        let named = owner(&owner_key("ow-dev", "default")).with_ownership(BTreeMap::new());
        assert_eq!(named[TAG_STACK], "ow-dev");
        assert!(!named.contains_key(TAG_WORKSPACE));
        assert_eq!(owner_of(&ws).as_deref(), Some("ow@dev"));
        assert_eq!(owner_of(&named).as_deref(), Some("ow-dev"));
        assert_ne!(owner_of(&ws), owner_of(&named));
        assert_eq!(owner_of(&BTreeMap::new()), None);
    }

    #[test]
    fn the_environment_knows_its_owner() {
        let env = |stack: &str, workspace: &str| crate::core::Env { stack: stack.into(), workspace: workspace.into(), ..Default::default() };
        assert_eq!(env("ow-dev", "dev").owner(), "ow@dev");
        assert_eq!(env("ow-dev", "default").owner(), "ow-dev");
        assert_eq!(env("ml", "").owner(), "ml");
    }
}
