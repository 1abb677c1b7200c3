//! A saved plan agrees with the plan made again, or apply refuses it: each
//! tampering the adversarial run used, and the guard-lifting choices apply
//! must be given itself.

use super::*;
use serde_json::json;

/// A plan of one repository update, one delete and one role with a policy.
fn plan() -> Plan {
    serde_json::from_value(json!({
        "format_version": 1, "stack": "s", "dir": "/repo/stacks/s", "region": "us-west-2", "regions": ["us-west-2"],
        "account_id": "123456789012", "gantry_version": crate::VERSION, "destroy": false,
        "changes": [
            {"address": "ecr_repository.old", "kind": "ecr_repository", "identity": "old", "action": "delete", "reason": null, "attrs": [],
             "desired": null, "depends_on": [], "notes": [],
             "live": {"identity": "old", "owner_stack": "s", "owner_address": "ecr_repository.old", "state": {"name": "old"}, "protected": false}},
            {"address": "ci_role.deploy", "kind": "ci_role", "identity": "deploy", "action": "update", "reason": null, "attrs": [],
             "desired": {"name": "deploy", "policy": {"Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}},
             "live": {"identity": "deploy", "owner_stack": "s", "owner_address": "ci_role.deploy", "state": {"name": "deploy"}, "protected": false},
             "depends_on": [], "notes": ["change set: modify"]}
        ],
        "unchanged": [], "fingerprints": {"ecr_repository.old": "aa", "ci_role.deploy": "bb"},
        "index": {"ecr_repository.old": {"kind": "ecr_repository", "identity": "old"}, "ci_role.deploy": {"kind": "ci_role", "identity": "deploy"}},
        "warnings": [], "broadening": [{"address": "ci_role.deploy", "items": ["Allow ecr:GetAuthorizationToken"]}]
    }))
    .unwrap()
}

fn edited(f: impl FnOnce(&mut serde_json::Value)) -> Plan {
    let mut v = serde_json::to_value(plan()).unwrap();
    f(&mut v);
    serde_json::from_value(v).unwrap()
}

fn mismatch(saved: &Plan) -> Vec<String> {
    match agree(saved, &plan()) {
        Err(OpsError::Mismatch(what)) => what,
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn the_same_plan_agrees_even_with_other_notes() {
    assert!(agree(&plan(), &plan()).is_ok());
    let renoted = edited(|v| v["changes"][1]["notes"] = json!([]));
    assert!(agree(&renoted, &plan()).is_ok(), "notes are display only (change sets are not previewed again)");
}

#[test]
fn every_tampering_of_the_adversarial_run_is_refused() {
    // A delete pointed at a repository no stack owns.
    let other = edited(|v| {
        v["changes"][0]["identity"] = json!("someone-elses");
        v["index"]["ecr_repository.old"]["identity"] = json!("someone-elses");
    });
    assert_eq!(mismatch(&other), ["ecr_repository.old (identity differs)", "the plan's index"]);
    // A protected resource claimed unprotected.
    let unprotected = edited(|v| v["changes"][0]["live"]["protected"] = json!(true));
    assert_eq!(mismatch(&unprotected), ["ecr_repository.old (live differs)"]);
    // A widened policy with its broadening line removed.
    let widened = edited(|v| {
        v["changes"][1]["desired"]["policy"]["Statement"][0]["Action"] = json!("*");
        v["broadening"] = json!([]);
    });
    assert_eq!(mismatch(&widened), ["ci_role.deploy (desired differs)", "the plan's broadening"]);
    // A change the files never asked for, and one dropped.
    let added = edited(|v| {
        let mut extra = v["changes"][0].clone();
        extra["address"] = json!("ecr_repository.extra");
        v["changes"].as_array_mut().unwrap().push(extra);
    });
    assert_eq!(mismatch(&added), ["ecr_repository.extra (no longer planned)"]);
    let dropped = edited(|v| {
        v["changes"].as_array_mut().unwrap().remove(0);
    });
    assert_eq!(mismatch(&dropped), ["ecr_repository.old (not in the saved plan)"]);
    // Another action, another stack, a lock elsewhere.
    let action = edited(|v| v["changes"][1]["action"] = json!("replace"));
    assert_eq!(mismatch(&action), ["ci_role.deploy (action differs)"]);
    let stack = edited(|v| v["stack"] = json!("t"));
    assert_eq!(mismatch(&stack), ["the plan's stack"]);
    let backend = edited(|v| v["backend"] = json!({"bucket": "elsewhere", "key": "k", "region": "us-west-2"}));
    assert_eq!(mismatch(&backend), ["the plan's backend"]);
}

#[test]
fn live_state_that_moved_is_stale_and_another_account_is_named() {
    let moved = edited(|v| v["fingerprints"]["ci_role.deploy"] = json!("cc"));
    assert!(matches!(agree(&moved, &plan()), Err(OpsError::Stale(a)) if a == ["ci_role.deploy"]));
    let gone = edited(|v| {
        v["fingerprints"].as_object_mut().unwrap().remove("ecr_repository.old");
    });
    assert!(matches!(agree(&gone, &plan()), Err(OpsError::Stale(a)) if a == ["ecr_repository.old"]));
    let account = edited(|v| v["account_id"] = json!("222233334444"));
    assert!(matches!(agree(&account, &plan()), Err(OpsError::WrongAccount { planned, .. }) if planned == "222233334444"));
}

fn saved(f: impl FnOnce(&mut serde_json::Value)) -> SavedPlan {
    SavedPlan { plan: edited(f), hash: "h".into() }
}

fn usage(s: &SavedPlan, given: &ApplyGiven) -> String {
    match s.request(given) {
        Err(OpsError::Usage(m)) => m,
        other => panic!("expected a refusal, got {:?}", other.map(|r| r.targets)),
    }
}

#[test]
fn a_guard_lifted_at_plan_time_must_be_lifted_again_at_apply() {
    let given = ApplyGiven::default();
    let destroy = saved(|v| v["destroy"] = json!(true));
    assert!(usage(&destroy, &given).contains("gantry destroy PLANFILE"));
    assert!(destroy.request(&ApplyGiven { destroy: true, ..given.clone() }).is_ok());
    assert!(usage(&saved(|_| {}), &ApplyGiven { destroy: true, ..given.clone() }).contains("not made with --destroy"));

    let adopt = saved(|v| v["inputs"] = json!({"adopt_all": true}));
    assert!(usage(&adopt, &given).contains("--adopt"));
    assert!(adopt.request(&ApplyGiven { adopt: true, ..given.clone() }).unwrap().adopt_all);

    let delete = saved(|v| v["inputs"] = json!({"allow_delete": ["ecr_repository.keep"]}));
    assert!(usage(&delete, &given).contains("--allow-delete ecr_repository.keep"));
    let with = ApplyGiven { allow_delete: ["ecr_repository.keep".to_string()].into(), ..given.clone() };
    assert!(delete.request(&with).is_ok());
    // A plan that claims nothing gets none of apply's guards lifted by it.
    let plain = saved(|_| {}).request(&given).unwrap();
    assert!(!plain.adopt_all && plain.allow_delete.is_empty() && !plain.destroy);
}

#[test]
fn the_plan_narrows_variables_and_workspace_are_asked_for() {
    let s = saved(|v| v["inputs"] = json!({"targets": ["ci_role.deploy"], "workspace": "dev", "var_files": ["/repo/prod.vars"], "var_names": ["tag"]}));
    assert!(usage(&s, &ApplyGiven::default()).contains("--var tag"));
    let mut given = ApplyGiven::default();
    given.load.vars = vec!["tag=v1".into()];
    let req = s.request(&given).unwrap();
    assert_eq!(req.targets, ["ci_role.deploy"]);
    assert_eq!(req.load.workspace.as_deref(), Some("dev"));
    assert_eq!(req.load.var_files, [std::path::PathBuf::from("/repo/prod.vars")]);
    assert_eq!(req.dir, std::path::PathBuf::from("/repo/stacks/s"));
    given.load.workspace = Some("prod".into());
    assert!(usage(&s, &given).contains("made for workspace dev, not prod"));
}
