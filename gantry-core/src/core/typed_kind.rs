//! Kinds written against typed blocks. A kind implements [`TypedKind`]: its
//! block reads into `Spec` (the loader has checked every attribute's type
//! and filled the schema's defaults first), and the rules, the desired
//! state, the outputs and the lint read fields instead of JSON by key.
//! The engine and the loader still see one object-safe [`Kind`]: the
//! adapter below reads the block into `Spec` at that boundary.

use super::{Action, AttrChange, Capacity, Diagnostic, Env, Field, Kind, LiveResource, Schema, State};
use serde::de::DeserializeOwned;

/// The pure half of a resource kind, over its typed block.
pub trait TypedKind: Send + Sync {
    /// The evaluated block. An attribute the loader refused (reported
    /// already) is absent, so every field needs a default: the rules still
    /// judge the rest of the block.
    type Spec: DeserializeOwned + Default;

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
    fn local_inputs(&self, _attrs: &mut State) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// The resource's unique name in the cloud.
    fn identity(&self, spec: &Self::Spec) -> String;
    /// See [`Kind::cloud_names`].
    fn cloud_names(&self, _spec: &Self::Spec, _env: &Env) -> Vec<String> {
        Vec::new()
    }
    /// See [`Kind::zone`].
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
    /// See [`Kind::managed_policy_arns`].
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

/// The block as `K::Spec`; one that does not read (only a bug can make it
/// so, and `check` reports it) reads as the defaults.
fn spec_or_default<K: TypedKind + ?Sized>(kind: &K, attrs: &State) -> K::Spec {
    read_spec(kind, attrs).unwrap_or_default()
}

impl<K: TypedKind> Kind for K {
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
    fn check(&self, attrs: &State) -> Vec<Diagnostic> {
        match read_spec(self, attrs) {
            Ok(spec) => TypedKind::check(self, &spec),
            Err(why) => vec![Diagnostic::attr("", why)],
        }
    }
    fn check_env(&self, attrs: &State, env: &Env) -> Vec<Diagnostic> {
        read_spec(self, attrs).map(|spec| TypedKind::check_env(self, &spec, env)).unwrap_or_default()
    }
    fn local_inputs(&self, attrs: &mut State) -> Vec<Diagnostic> {
        TypedKind::local_inputs(self, attrs)
    }
    fn identity(&self, attrs: &State) -> String {
        TypedKind::identity(self, &spec_or_default(self, attrs))
    }
    fn cloud_names(&self, attrs: &State, env: &Env) -> Vec<String> {
        TypedKind::cloud_names(self, &spec_or_default(self, attrs), env)
    }
    fn zone(&self, attrs: &State) -> Option<String> {
        TypedKind::zone(self, &spec_or_default(self, attrs))
    }
    fn outputs(&self, attrs: &State, env: &Env) -> State {
        TypedKind::outputs(self, &spec_or_default(self, attrs), attrs, env)
    }
    fn capacity(&self, state: &State) -> Option<Capacity> {
        TypedKind::capacity(self, state)
    }
    fn needs_gcp_project_number(&self) -> bool {
        TypedKind::needs_gcp_project_number(self)
    }
    fn desired_state(&self, attrs: &State, env: &Env) -> State {
        TypedKind::desired_state(self, &spec_or_default(self, attrs), env)
    }
    fn managed_policy_arns(&self, attrs: &State) -> Vec<String> {
        TypedKind::managed_policy_arns(self, &spec_or_default(self, attrs))
    }
    fn lint(&self, attrs: &State, env: &Env) -> Vec<crate::lint::Finding> {
        TypedKind::lint(self, &spec_or_default(self, attrs), env)
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
        let kind: &dyn Kind = &Toy;
        let a = block(json!({"name": "t", "size": 5, "count": 2}));
        assert_eq!(kind.identity(&a), "t", "meta-arguments are not the kind's");
        assert_eq!(kind.check(&a), vec![Diagnostic::attr("size", "too big")]);
        assert_eq!(kind.desired_state(&a, &Env::default())["size"], json!(5));
    }

    #[test]
    fn a_block_that_does_not_read_is_one_problem_and_defaults_elsewhere() {
        let kind: &dyn Kind = &Toy;
        let a = block(json!({"name": "t", "size": "five"}));
        let problems = kind.check(&a);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("does not read as toy"), "{problems:?}");
        assert_eq!(kind.identity(&a), "", "read as the defaults");
    }
}
