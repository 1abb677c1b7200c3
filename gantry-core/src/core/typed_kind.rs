//! Kinds written against typed blocks. A kind implements [`TypedKind`]: its
//! block reads into `Spec` (the loader has checked every attribute's type
//! and filled the schema's defaults first), and the rules, the desired
//! state, the outputs and the lint read fields instead of JSON by key.
//! The engine and the loader still see one object-safe [`Kind`]: the
//! adapter below reads the block into `Spec` once ([`Kind::read`]), and
//! the block-level rules run on that reading ([`Block`]).

use super::{Action, AttrChange, Block, Bundled, Capacity, Diagnostic, Env, Field, Kind, LiveResource, ParsedBlock, Schema, State};
use serde::de::DeserializeOwned;

/// The pure half of a resource kind, over its typed block.
pub trait TypedKind: Send + Sync {
    /// The evaluated block. An attribute the loader refused (reported
    /// already) is absent, so every field needs a default: the rules still
    /// judge the rest of the block.
    type Spec: DeserializeOwned + Default + Send + Sync;

    /// Block name in stack files, e.g. `ecr_repository`.
    fn name(&self) -> &'static str;
    /// One-paragraph description for `--help`/docs.
    fn doc(&self) -> &'static str;
    /// Attributes and nested blocks accepted in the file.
    fn schema(&self) -> &'static Schema;
    /// Fields of the comparable state, with replacement rules.
    fn fields(&self) -> &'static [Field];
    /// See [`Kind::fill_defaults`] (before the block is typed: it fills it).
    fn fill_defaults(&self, _label: &str, _env: &Env, _attrs: &mut State) {}
    /// Checks beyond types (name formats, cross-attribute rules).
    fn check(&self, _spec: &Self::Spec) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// Checks that need the stack's environment (regions, account).
    fn check_env(&self, _spec: &Self::Spec, _env: &Env) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// See [`Kind::local_inputs`] (it writes attributes, so it sees the block).
    fn local_inputs(&self, _attrs: &mut State, _bundled: &dyn Bundled) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// The resource's unique name in the cloud.
    fn identity(&self, spec: &Self::Spec) -> String;
    /// See [`Block::cloud_names`].
    fn cloud_names(&self, _spec: &Self::Spec, _env: &Env) -> Vec<String> {
        Vec::new()
    }
    /// See [`Block::zone`].
    fn zone(&self, _spec: &Self::Spec) -> Option<String> {
        None
    }
    /// Attributes other blocks may reference. `attrs` is the block as
    /// evaluated, for kinds that expose their inputs too.
    fn outputs(&self, spec: &Self::Spec, attrs: &State, env: &Env) -> State;
    /// See [`Kind::capacity`] (a desired or a live state).
    fn capacity(&self, _state: &State) -> Option<Capacity> {
        None
    }
    /// See [`Kind::needs_gcp_project_number`].
    fn needs_gcp_project_number(&self) -> bool {
        false
    }
    /// The comparable desired state.
    fn desired_state(&self, spec: &Self::Spec, env: &Env) -> State;
    /// See [`Block::managed_policy_arns`].
    fn managed_policy_arns(&self, _spec: &Self::Spec) -> Vec<String> {
        Vec::new()
    }
    /// Security findings for the block (see `lint`).
    fn lint(&self, _spec: &Self::Spec, _env: &Env) -> Vec<crate::lint::Finding> {
        Vec::new()
    }
    /// See [`Kind::explain`].
    fn explain(&self, changes: Vec<AttrChange>) -> Vec<AttrChange> {
        changes
    }
    /// See [`Kind::change_notes`].
    fn change_notes(&self, _action: Action, _changes: &[AttrChange], _desired: &State) -> Vec<String> {
        Vec::new()
    }
    /// See [`Kind::live_problem`].
    fn live_problem(&self, _live: &LiveResource) -> Option<String> {
        None
    }
    /// See [`Kind::broadening`].
    fn broadening(&self, _before: Option<&State>, _after: &State) -> Vec<String> {
        Vec::new()
    }
}

/// The block as `K::Spec`, or why it does not read.
pub fn read_spec<K: TypedKind + ?Sized>(kind: &K, attrs: &State) -> Result<K::Spec, String> {
    serde_json::from_value(serde_json::Value::Object(attrs.clone())).map_err(|e| format!("the block does not read as {}: {e}", kind.name()))
}

/// A block read into its kind's `Spec`.
struct Typed<K: TypedKind + 'static> {
    kind: &'static K,
    spec: K::Spec,
}

impl<K: TypedKind + 'static> Block for Typed<K> {
    fn kind(&self) -> &'static str {
        TypedKind::name(self.kind)
    }
    fn check(&self) -> Vec<Diagnostic> {
        self.kind.check(&self.spec)
    }
    fn check_env(&self, env: &Env) -> Vec<Diagnostic> {
        self.kind.check_env(&self.spec, env)
    }
    fn identity(&self) -> String {
        self.kind.identity(&self.spec)
    }
    fn cloud_names(&self, env: &Env) -> Vec<String> {
        self.kind.cloud_names(&self.spec, env)
    }
    fn zone(&self) -> Option<String> {
        self.kind.zone(&self.spec)
    }
    fn outputs(&self, attrs: &State, env: &Env) -> State {
        self.kind.outputs(&self.spec, attrs, env)
    }
    fn desired_state(&self, env: &Env) -> State {
        self.kind.desired_state(&self.spec, env)
    }
    fn managed_policy_arns(&self) -> Vec<String> {
        self.kind.managed_policy_arns(&self.spec)
    }
    fn lint(&self, env: &Env) -> Vec<crate::lint::Finding> {
        self.kind.lint(&self.spec, env)
    }
}

impl<K: TypedKind + 'static> Kind for K {
    fn name(&self) -> &'static str {
        TypedKind::name(self)
    }
    fn doc(&self) -> &'static str {
        TypedKind::doc(self)
    }
    fn schema(&self) -> &'static Schema {
        TypedKind::schema(self)
    }
    fn fields(&self) -> &'static [Field] {
        TypedKind::fields(self)
    }
    fn fill_defaults(&self, label: &str, env: &Env, attrs: &mut State) {
        TypedKind::fill_defaults(self, label, env, attrs)
    }
    fn read(&'static self, attrs: &State) -> (ParsedBlock, Option<Diagnostic>) {
        let (spec, problem) = match read_spec(self, attrs) {
            Ok(spec) => (spec, None),
            Err(why) => (K::Spec::default(), Some(Diagnostic::attr("", why))),
        };
        (ParsedBlock::new(Typed { kind: self, spec }), problem)
    }
    fn local_inputs(&self, attrs: &mut State, bundled: &dyn Bundled) -> Vec<Diagnostic> {
        TypedKind::local_inputs(self, attrs, bundled)
    }
    fn capacity(&self, state: &State) -> Option<Capacity> {
        TypedKind::capacity(self, state)
    }
    fn needs_gcp_project_number(&self) -> bool {
        TypedKind::needs_gcp_project_number(self)
    }
    fn explain(&self, changes: Vec<AttrChange>) -> Vec<AttrChange> {
        TypedKind::explain(self, changes)
    }
    fn change_notes(&self, action: Action, changes: &[AttrChange], desired: &State) -> Vec<String> {
        TypedKind::change_notes(self, action, changes, desired)
    }
    fn live_problem(&self, live: &LiveResource) -> Option<String> {
        TypedKind::live_problem(self, live)
    }
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        TypedKind::broadening(self, before, after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::schema::{Attr, Ty};
    use serde_json::json;

    #[derive(Default, serde::Deserialize)]
    #[serde(default)]
    struct Spec {
        name: String,
        size: u32,
    }

    struct Toy;
    static SCHEMA: Schema = Schema { attrs: &[Attr::new("name", Ty::String, "n"), Attr::new("size", Ty::Int, "s")], blocks: &[] };

    impl TypedKind for Toy {
        type Spec = Spec;
        fn name(&self) -> &'static str {
            "toy"
        }
        fn doc(&self) -> &'static str {
            ""
        }
        fn schema(&self) -> &'static Schema {
            &SCHEMA
        }
        fn fields(&self) -> &'static [Field] {
            &[]
        }
        fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
            (spec.size > 3).then(|| Diagnostic::attr("size", "too big")).into_iter().collect()
        }
        fn identity(&self, spec: &Spec) -> String {
            spec.name.clone()
        }
        fn outputs(&self, spec: &Spec, _attrs: &State, _env: &Env) -> State {
            State::from_iter([("name".to_string(), json!(spec.name))])
        }
        fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
            State::from_iter([("size".to_string(), json!(spec.size))])
        }
    }

    fn block(v: serde_json::Value) -> State {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_engine_sees_the_typed_kind_through_its_block() {
        let kind: &'static dyn Kind = &Toy;
        let (b, unread) = kind.read(&block(json!({"name": "t", "size": 5, "count": 2})));
        assert!(unread.is_none());
        assert_eq!(b.kind(), "toy");
        assert_eq!(b.identity(), "t", "meta-arguments are not the kind's");
        assert_eq!(b.check(), vec![Diagnostic::attr("size", "too big")]);
        assert_eq!(b.desired_state(&Env::default())["size"], json!(5));
    }

    #[test]
    fn a_block_that_does_not_read_is_one_problem_and_defaults_elsewhere() {
        let kind: &'static dyn Kind = &Toy;
        let (b, unread) = kind.read(&block(json!({"name": "t", "size": "five"})));
        let unread = unread.expect("one problem");
        assert!(unread.message.contains("does not read as toy"), "{unread:?}");
        assert_eq!(b.identity(), "", "read as the defaults");
        assert!(b.check().is_empty(), "the defaults pass the rules");
    }
}
