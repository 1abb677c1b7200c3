//! The pure reconciliation of instances, runner registrations and
//! configurations: which instances need a configuration, which
//! configurations were consumed or are stale, which registrations are
//! orphaned, and which instances never brought their runner online.
//! No I/O; table-tested.
//!
//! Runners are named `PREFIX-INSTANCE_ID`, so a registration maps to its
//! instance without any state of our own, and only registrations of that
//! shape are ever deleted (never another queue's, never a busy one).

use super::Runner;
pub use crate::group::Member;
use std::collections::BTreeMap;

/// What to do this round.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PoolPlan {
    /// Instances to register a runner for and hand its configuration.
    pub issue: Vec<String>,
    /// Registrations to delete (id, name): orphaned or never started.
    pub delete_runners: Vec<(u64, String)>,
    /// Configurations to delete: consumed, stale, or their instance gone.
    pub delete_configs: Vec<String>,
    /// Instances whose runner never came online within the grace: replaced.
    pub replace: Vec<String>,
}

/// The instance id a runner name carries, when the name is ours.
pub fn instance_of<'a>(prefix: &str, runner_name: &'a str) -> Option<&'a str> {
    let id = runner_name.strip_prefix(prefix)?.strip_prefix('-')?;
    let hex = id.strip_prefix("i-")?;
    (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
}

/// The runner name of an instance: `prefix` and the instance id.
pub fn runner_name(prefix: &str, instance_id: &str) -> String {
    format!("{prefix}-{instance_id}")
}

/// Decides the round. `configs`: instance id → when its configuration was
/// written; `grace`: seconds a runner has to come online after that.
pub fn plan(members: &[Member], runners: &[Runner], configs: &BTreeMap<String, u64>, prefix: &str, now: u64, grace: u64) -> PoolPlan {
    let ours: BTreeMap<&str, &Runner> = runners.iter().filter_map(|r| Some((instance_of(prefix, &r.name)?, r))).collect();
    let by_id: BTreeMap<&str, &Member> = members.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut p = PoolPlan::default();
    for m in members.iter().filter(|m| m.active()) {
        let runner = ours.get(m.id.as_str()).copied();
        let working = runner.is_some_and(|r| r.online() || r.busy);
        match (configs.get(&m.id), runner) {
            // The runner picked its configuration up.
            (Some(_), Some(_)) if working => p.delete_configs.push(m.id.clone()),
            (Some(&at), r) if now.saturating_sub(at) >= grace => {
                p.replace.push(m.id.clone());
                p.delete_configs.push(m.id.clone());
                if let Some(r) = r.filter(|r| !r.busy) {
                    p.delete_runners.push((r.id, r.name.clone()));
                }
            }
            (Some(_), _) => {}
            (None, None) => p.issue.push(m.id.clone()),
            // Registered but its configuration never arrived (a lost write)
            // or its runner stopped before taking a job: start over.
            (None, Some(r)) if !working => {
                p.delete_runners.push((r.id, r.name.clone()));
                p.issue.push(m.id.clone());
            }
            (None, Some(_)) => {}
        }
    }
    for (id, r) in &ours {
        let gone = match by_id.get(id) {
            None => true,
            Some(m) => !m.active() && !r.online(),
        };
        if gone && !r.busy && !p.delete_runners.iter().any(|(rid, _)| *rid == r.id) {
            p.delete_runners.push((r.id, r.name.clone()));
        }
    }
    for id in configs.keys() {
        if !by_id.get(id.as_str()).is_some_and(|m| m.active()) && !p.delete_configs.contains(id) {
            p.delete_configs.push(id.clone());
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "gantry-builders";

    fn member(id: &str, lifecycle: &str) -> Member {
        Member { id: id.into(), lifecycle: lifecycle.into(), healthy: true }
    }

    fn runner(id: u64, instance: &str, status: &str, busy: bool) -> Runner {
        Runner { id, name: runner_name(P, instance), status: status.into(), busy }
    }

    fn configs(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn names_map_to_instances_only_in_our_shape() {
        assert_eq!(instance_of(P, "gantry-builders-i-0abc123"), Some("i-0abc123"));
        assert_eq!(instance_of(P, "gantry-builders-gpu-i-0abc123"), None, "another queue whose name extends ours");
        assert_eq!(instance_of(P, "gantry-builders-i-xyz"), None);
        assert_eq!(instance_of(P, "laptop"), None);
    }

    #[test]
    fn new_instances_get_a_configuration_once() {
        let m = [member("i-01", "Pending"), member("i-02", "InService"), member("i-03", "InService")];
        let p = plan(&m, &[runner(7, "i-03", "online", false)], &configs(&[("i-02", 100)]), P, 110, 900);
        assert_eq!(p.issue, vec!["i-01"]);
        assert!(p.delete_runners.is_empty() && p.replace.is_empty() && p.delete_configs.is_empty(), "{p:?}");
    }

    #[test]
    fn a_consumed_configuration_is_deleted() {
        let p = plan(&[member("i-02", "InService")], &[runner(7, "i-02", "online", false)], &configs(&[("i-02", 100)]), P, 110, 900);
        assert_eq!(p.delete_configs, vec!["i-02"]);
        assert!(p.issue.is_empty());
    }

    #[test]
    fn a_runner_that_never_came_online_is_replaced_and_unregistered() {
        let p = plan(&[member("i-02", "InService")], &[runner(7, "i-02", "offline", false)], &configs(&[("i-02", 100)]), P, 1000, 900);
        assert_eq!(p.replace, vec!["i-02"]);
        assert_eq!(p.delete_runners, vec![(7, runner_name(P, "i-02"))]);
        assert_eq!(p.delete_configs, vec!["i-02"]);
    }

    #[test]
    fn a_lost_configuration_is_issued_again() {
        let p = plan(&[member("i-02", "InService")], &[runner(7, "i-02", "offline", false)], &configs(&[]), P, 1000, 900);
        assert_eq!(p.delete_runners, vec![(7, runner_name(P, "i-02"))]);
        assert_eq!(p.issue, vec!["i-02"]);
    }

    #[test]
    fn orphans_are_removed_but_never_busy_ones_or_strangers() {
        let runners = [
            runner(1, "i-0a", "offline", false),
            runner(2, "i-0b", "online", true),
            Runner { id: 3, name: "laptop".into(), status: "offline".into(), busy: false },
            runner(4, "i-0c", "offline", false),
            runner(5, "i-0d", "online", false),
        ];
        let m = [member("i-0c", "Terminating:Wait"), member("i-0d", "Terminating:Wait")];
        let p = plan(&m, &runners, &configs(&[("i-0a", 1), ("i-0c", 1)]), P, 10, 900);
        let deleted: Vec<u64> = p.delete_runners.iter().map(|(id, _)| *id).collect();
        assert_eq!(deleted, vec![1, 4], "busy (2), a stranger (3) and one still draining online (5) stay");
        assert_eq!(p.delete_configs, vec!["i-0a", "i-0c"]);
        assert!(p.issue.is_empty(), "terminating instances get nothing");
    }
}
