//! A saved plan edited after review never changes what apply does: apply
//! makes the plan again from the files and live state and refuses any
//! disagreement; a destroy, an adoption or a protected deletion is lifted
//! only on apply's own command line; with GANTRY_PLAN_KEY the file is
//! signed. The attempts are those of the adversarial run, and more.

use crate::support::{ecr_client, gantry, iam_client, stack_dir, Moto};
use serde_json::{json, Value};

const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}]
}
"#;

const STACK: &str = r#"stack "tamper" {
  aws { region = "us-west-2" }
}

ecr_repository "aa" {}

ecr_repository "bb" {}

ecr_repository "keep" {
  protect = true
}

github_oidc_provider "github" {}

ci_role "push" {
  provider = github_oidc_provider.github
  allow {
    repo     = "acme/mlops"
    branches = ["main"]
  }
  policy_files = ["../policies/push.json"]
}
"#;

/// The plan file's `plan`, edited by `f`, written as `name`.
fn tampered(dir: &std::path::Path, name: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("p.plan")).unwrap()).unwrap();
    f(&mut doc["plan"]);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

fn change_of<'a>(plan: &'a mut Value, address: &str) -> &'a mut Value {
    plan["changes"].as_array_mut().unwrap().iter_mut().find(|c| c["address"] == address).unwrap()
}

#[test]
fn every_tampered_saved_plan_is_refused_and_the_genuine_one_applies() {
    let moto = Moto::start();
    let env = moto.env();
    let dir = stack_dir(&[("stack/main.gantry.hcl", STACK), ("policies/push.json", POLICY)]);
    let d = dir.path().join("stack");
    let d = d.to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { ecr_client(&moto).await.create_repository().repository_name("victim").send().await.unwrap() });

    // The reviewed plan: delete bb, narrow nothing, keep the rest.
    std::fs::write(dir.path().join("stack/main.gantry.hcl"), STACK.replace("ecr_repository \"bb\" {}\n", "")).unwrap();
    let r = gantry(&["plan", d, "-out", "p.plan"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Plan: 0 to add, 0 to change, 1 to destroy."), "{}", r.all());
    let r = gantry(&["plan", d, "-destroy", "--allow-delete", "ecr_repository.keep", "-out", "destroy.plan"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let p = dir.path();
    let mut attempts: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "a delete pointed at a repository no stack owns",
            vec![tampered(p, "t1.plan", |plan| {
                change_of(plan, "ecr_repository.bb")["identity"] = json!("victim");
                plan["index"]["ecr_repository.bb"]["identity"] = json!("victim");
            })],
            "ecr_repository.bb (identity differs)",
        ),
        (
            "a protected repository's delete added, claimed unprotected",
            vec![tampered(p, "t2.plan", |plan| {
                let mut extra = change_of(plan, "ecr_repository.bb").clone();
                extra["address"] = json!("ecr_repository.keep");
                extra["identity"] = json!("keep");
                extra["live"]["identity"] = json!("keep");
                extra["live"]["owner_address"] = json!("ecr_repository.keep");
                extra["live"]["protected"] = json!(false);
                plan["changes"].as_array_mut().unwrap().push(extra);
                plan["unchanged"].as_array_mut().unwrap().retain(|a| a != "ecr_repository.keep");
            })],
            "ecr_repository.keep (no longer planned)",
        ),
        (
            "a policy widened to Action * with its broadening removed",
            vec![tampered(p, "t3.plan", |plan| {
                let mut change = change_of(plan, "ecr_repository.bb").clone();
                change["address"] = json!("ci_role.push");
                change["kind"] = json!("ci_role");
                change["identity"] = json!("push");
                change["action"] = json!("update");
                change["desired"] = json!({"policy": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}});
                plan["changes"].as_array_mut().unwrap().push(change);
                plan["broadening"] = json!([]);
            })],
            "ci_role.push (no longer planned)",
        ),
        ("a destroy plan applied as an apply", vec![p.join("destroy.plan").to_str().unwrap().to_string()], "this is a destroy plan"),
        (
            "a protected deletion claimed at plan time",
            vec![tampered(p, "t5.plan", |plan| plan["inputs"]["allow_delete"] = json!(["ecr_repository.keep"]))],
            "apply it with the same",
        ),
        ("an adoption claimed at plan time", vec![tampered(p, "t6.plan", |plan| plan["inputs"]["adopt_all"] = json!(true))], "apply it with --adopt too"),
        (
            "the plan's directory swapped for another stack's",
            vec![tampered(p, "t7.plan", |plan| plan["dir"] = json!(p.join("policies").to_str().unwrap()))],
            "",
        ),
        ("its live fingerprint forged", vec![tampered(p, "t8.plan", |plan| plan["fingerprints"]["ecr_repository.bb"] = json!("absent"))], "stale"),
    ];
    // Signed plans: an unsigned plan and a signed one edited after signing.
    let key = ("GANTRY_PLAN_KEY", "k".repeat(40));
    let signed_env: Vec<(&str, String)> = env.iter().cloned().chain([key.clone()]).collect();
    let r = gantry(&["plan", d, "-out", "signed.plan"], &signed_env, p);
    assert_eq!(r.code, 0, "{}", r.all());
    let signed = std::fs::read_to_string(p.join("signed.plan")).unwrap();
    assert!(signed.contains("\"mac\": \""), "{signed}");
    std::fs::write(p.join("resigned.plan"), signed.replace("\"warnings\": []", "\"warnings\": [\"ok\"]")).unwrap();
    attempts.push(("a signed plan edited", vec![p.join("resigned.plan").to_str().unwrap().to_string(), "signed".into()], "valid signature"));
    attempts.push(("an unsigned plan where plans are signed", vec![p.join("p.plan").to_str().unwrap().to_string(), "signed".into()], "is not signed"));

    let mut refused = 0;
    for (what, args, expect) in &attempts {
        let run_env = if args.get(1).is_some_and(|a| a == "signed") { &signed_env } else { &env };
        let r = gantry(&["apply", &args[0]], run_env, p);
        let ok = r.code != 0 && r.stderr.contains(expect) && !r.stdout.contains("Apply complete");
        assert!(ok, "{what}: {}", r.all());
        refused += usize::from(ok);
    }
    eprintln!("tampering attempts refused: {refused}/{}", attempts.len());

    // Nothing was touched: the victim, the protected repository and b are there.
    let names = rt.block_on(async {
        let out = ecr_client(&moto).await.describe_repositories().send().await.unwrap();
        out.repositories().iter().filter_map(|r| r.repository_name().map(String::from)).collect::<Vec<_>>()
    });
    for n in ["victim", "keep", "bb"] {
        assert!(names.iter().any(|x| x == n), "{n} is gone: {names:?}");
    }
    let actions = rt.block_on(async {
        let iam = iam_client(&moto).await;
        let names = iam.list_role_policies().role_name("push").send().await.unwrap().policy_names().to_vec();
        let mut docs = String::new();
        for n in names {
            let doc = iam.get_role_policy().role_name("push").policy_name(n).send().await.unwrap();
            docs.push_str(doc.policy_document());
        }
        docs
    });
    // IAM returns the document URL-encoded: `"Action":"*"` would read %22Action%22%3A%22%2A%22.
    assert!(
        actions.contains("%22Action%22%3A%5B%22ecr%3AGetAuthorizationToken%22%5D") && !actions.contains("%22Action%22%3A%22%2A%22"),
        "the role was widened: {actions}"
    );

    // The genuine plan applies, signed or not; the destroy plan with destroy and its flag.
    let r = gantry(&["apply", "signed.plan"], &signed_env, p);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, p);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = gantry(&["apply", "p.plan"], &env, p);
    assert!(r.code == 1 && r.stderr.contains("stale"), "applied twice: {}", r.all());
    let r = gantry(&["destroy", "destroy.plan"], &env, p);
    assert!(r.code == 1 && r.stderr.contains("--allow-delete ecr_repository.keep"), "{}", r.all());
}
