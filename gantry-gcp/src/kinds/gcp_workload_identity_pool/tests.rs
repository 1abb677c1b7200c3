use super::*;
use crate::core::{Env, Kind, State};
use serde_json::json;
use std::collections::BTreeSet;

fn attrs(repos: &[&str]) -> State {
    serde_json::from_value(json!({"pool_id": "github", "display_name": "", "description": "", "github": {"provider_id": "github", "repositories": repos}}))
        .unwrap()
}

#[test]
fn the_condition_names_each_repository_and_reads_back() {
    let repos: BTreeSet<String> = ["o/b", "o/a"].iter().map(|s| s.to_string()).collect();
    let c = condition(&repos);
    assert_eq!(c, "assertion.repository in ['o/a', 'o/b']");
    assert_eq!(condition_repositories(&c), Some(repos));
    assert_eq!(condition_repositories("assertion.repository_owner == 'o'"), None);
}

#[test]
fn outputs_use_the_project_number() {
    let env = Env { gcp_project: "proj".into(), gcp_project_number: "123456789012".into(), ..Env::default() };
    let out = GcpWorkloadIdentityPool.block(&attrs(&["o/r"])).outputs(&attrs(&["o/r"]), &env);
    assert_eq!(out["provider_name"], json!("projects/123456789012/locations/global/workloadIdentityPools/github/providers/github"));
    assert_eq!(
        out["members"],
        json!(["principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/attribute.repository/o/r"])
    );
    assert!(GcpWorkloadIdentityPool.needs_gcp_project_number());
}

#[test]
fn repositories_are_named_and_wildcards_refused() {
    assert!(GcpWorkloadIdentityPool.block(&attrs(&["o/r"])).check().is_empty());
    let msgs: Vec<String> = GcpWorkloadIdentityPool.block(&attrs(&["o/*", "justname"])).check().into_iter().map(|p| p.message).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(GcpWorkloadIdentityPool.block(&attrs(&[])).check()[0].message.contains("every repository on GitHub"));
    let no_provider: State = serde_json::from_value(json!({"pool_id": "gcp-pool"})).unwrap();
    assert_eq!(GcpWorkloadIdentityPool.block(&no_provider).check().len(), 2, "reserved prefix and the missing block");
}

#[test]
fn newly_admitted_repositories_are_broadening() {
    let env = Env::default();
    let before = GcpWorkloadIdentityPool.block(&attrs(&["o/a"])).desired_state(&env);
    let after = GcpWorkloadIdentityPool.block(&attrs(&["o/a", "o/b"])).desired_state(&env);
    assert_eq!(GcpWorkloadIdentityPool.broadening(Some(&before), &after), vec!["GitHub Actions workflows of o/b may now federate through provider github"]);
    assert!(GcpWorkloadIdentityPool.broadening(Some(&after), &before).is_empty());
    let mut hand = before.clone();
    hand.insert("providers".into(), json!({"github": {"attribute_condition": "assertion.repository_owner == 'o'"}}));
    assert_eq!(GcpWorkloadIdentityPool.broadening(Some(&hand), &after).len(), 1, "a condition gantry did not write: the whole new one is shown");
}
