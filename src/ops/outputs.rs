//! `gantry output`: the stack's `output` values, checked against live
//! state (there is no state file): a value that names a resource not yet
//! created is not shown as if it existed.

use crate::core::{Action, OutputValue, Plan};

/// One output as `gantry output` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputState {
    /// The output block's value.
    pub output: OutputValue,
    /// Resources it comes from that do not exist yet (created or replaced by the next apply).
    pub waiting_for: Vec<String>,
    /// Resources it comes from with changes not yet applied (the value is the configured one).
    pub pending: Vec<String>,
}

impl OutputState {
    /// Whether the value describes what exists now.
    pub fn known(&self) -> bool {
        self.waiting_for.is_empty()
    }
}

/// Each output of the evaluated stack against the plan made from live state.
pub fn output_states(outputs: &[OutputValue], plan: &Plan) -> Vec<OutputState> {
    let block_of = |address: &str| address.split('[').next().unwrap_or(address).to_string();
    outputs
        .iter()
        .map(|o| {
            let changes = plan.changes.iter().filter(|c| o.depends_on.contains(&block_of(&c.address)));
            let (mut waiting_for, mut pending) = (Vec::new(), Vec::new());
            for c in changes {
                match c.action() {
                    Action::Create | Action::Replace => waiting_for.push(c.address.clone()),
                    Action::Update => pending.push(c.address.clone()),
                    Action::Delete | Action::NoOp => {}
                }
            }
            OutputState { output: o.clone(), waiting_for, pending }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Change, Op, State};
    use serde_json::json;

    fn change(address: &str, action: Action) -> Change {
        let live = crate::core::LiveResource { identity: "x".into(), owner_stack: None, owner_address: None, state: State::new(), protected: false };
        let op = match action {
            Action::Create => Op::Create { desired: State::new() },
            Action::Update => Op::Update { desired: State::new(), live },
            _ => unreachable!("the test plans creates and updates"),
        };
        Change {
            address: address.into(),
            kind: "ecr_repository".into(),
            identity: "x".into(),
            op,
            reason: None,
            attrs: vec![],
            depends_on: vec![],
            notes: vec![],
            protect: false,
        }
    }

    #[test]
    fn an_output_of_a_resource_not_yet_created_is_not_known() {
        let plan: Plan = serde_json::from_value(json!({
            "format_version": 1, "stack": "s", "dir": ".", "region": "us-west-2", "account_id": "1", "destroy": false,
            "changes": [], "unchanged": [], "fingerprints": {}, "index": {}, "warnings": []
        }))
        .unwrap();
        let mut plan = plan;
        plan.changes = vec![change("ecr_repository.new[\"a\"]", Action::Create), change("ecr_repository.old", Action::Update)];
        let out = |name: &str, dep: &str| OutputValue {
            name: name.into(),
            value: json!("v"),
            sensitive: false,
            description: String::new(),
            depends_on: vec![dep.into()],
        };
        let states = output_states(&[out("a", "ecr_repository.new"), out("b", "ecr_repository.old"), out("c", "ecr_repository.same")], &plan);
        assert_eq!(states[0].waiting_for, ["ecr_repository.new[\"a\"]"]);
        assert!(!states[0].known());
        assert!(states[1].known() && states[1].pending == ["ecr_repository.old"]);
        assert!(states[2].known() && states[2].pending.is_empty());
    }
}
