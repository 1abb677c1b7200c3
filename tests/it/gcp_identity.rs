//! Google identity kinds end to end on the in-repo fake of the IAM API,
//! through the REST client and the CLI.

use crate::support::{gantry, stack_dir};
use gantry_emulators::gcp::FakeGcp;

const STACK: &str = r#"stack "wake" {
  gcp {
    project = "ci-project"
  }
}

gcp_service_account "waker" {
  account_id   = "gpu-ci-waker"
  display_name = "GPU CI waker"
  description  = "Starts gpu-ci-runner for queued jobs"
}

output "waker" {
  value = gcp_service_account.waker.member
}
"#;

#[test]
fn a_service_account_is_created_owned_updated_and_deleted() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gcp = rt.block_on(FakeGcp::start(0)).unwrap();
    let env = vec![("GANTRY_GCP_ENDPOINT", gcp.endpoint())];
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    let name = "projects/ci-project/serviceAccounts/gpu-ci-waker@ci-project.iam.gserviceaccount.com";

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("# gcp_service_account.waker will be created") && r.stdout.contains("Plan: 1 to add"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("serviceAccount:gpu-ci-waker@ci-project.iam.gserviceaccount.com"), "{}", r.all());
    let sa = gcp.service_account(name).expect("created");
    assert_eq!(sa["description"], "Starts gpu-ci-runner for queued jobs [gantry:wake gcp_service_account.waker]", "ownership after the block's text");
    assert_eq!(sa["displayName"], "GPU CI waker");

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan after apply is empty:\n{}", r.all());

    // A new description is an in-place update; the marker stays after it.
    let edited = STACK.replace("Starts gpu-ci-runner for queued jobs", "Wakes the GPU runner");
    std::fs::write(dir.path().join("main.gantry.hcl"), &edited).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("# gcp_service_account.waker will be updated in place") && r.stdout.contains("Wakes the GPU runner"), "{}", r.all());
    assert!(!r.stdout.contains("[gantry:"), "the marker is not shown as the user's text:\n{}", r.stdout);
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(gcp.service_account(name).unwrap()["description"], "Wakes the GPU runner [gantry:wake gcp_service_account.waker]");
    assert_eq!(gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path()).code, 0);

    // A new account_id replaces the account (its email changes).
    std::fs::write(dir.path().join("main.gantry.hcl"), edited.replace("\"gpu-ci-waker\"", "\"gpu-ci-waker2\"")).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("1 to add") && r.stdout.contains("1 to destroy"), "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(gcp.service_account(name).is_none());
}

/// The GPU template's wake identity (stacks/gpu-ci-template) on the fake
/// IAM and Compute APIs: pool and GitHub provider, service account with
/// its workload identity binding, custom role granted on the instance.
#[test]
fn the_wake_identity_is_declared_applied_widened_and_undeleted() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gcp = rt.block_on(FakeGcp::start(0)).unwrap();
    let env = vec![("GANTRY_GCP_ENDPOINT", gcp.endpoint()), ("GANTRY_VAR_repository", "o/gpu-template".to_string())];
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    crate::support::copy_dir(&root.join("stacks/gpu-ci-template"), &repo.path().join("gpu"));
    let dir = repo.path().join("gpu");
    let d = dir.to_str().unwrap();
    let number = FakeGcp::project_number("gpu-ci-template");
    let pool = format!("projects/{number}/locations/global/workloadIdentityPools/github");

    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, &dir);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(&format!("{pool}/providers/github")), "the provider name wake.yml takes, with the project number:\n{}", r.stdout);
    let provider = gcp.identity_pool_item(&format!("{pool}/providers/github")).expect("provider created");
    assert_eq!(provider["attributeCondition"], "assertion.repository in ['o/gpu-template']");
    assert_eq!(provider["oidc"]["issuerUri"], "https://token.actions.githubusercontent.com");
    assert_eq!(gcp.role("projects/gpu-ci-template/roles/gantryRunnerWaker").unwrap()["includedPermissions"].as_array().unwrap().len(), 3);
    let sa = "projects/gpu-ci-template/serviceAccounts/gpu-ci-waker@gpu-ci-template.iam.gserviceaccount.com";
    let sa_policy = gcp.iam_policy(sa).expect("the account's policy was set");
    assert_eq!(sa_policy["bindings"][0]["members"][0], format!("principalSet://iam.googleapis.com/{pool}/attribute.repository/o/gpu-template"));
    let inst_policy = gcp.iam_policy("projects/gpu-ci-template/zones/us-central1-a/instances/gpu-ci-runner").expect("the instance's policy was set");
    assert_eq!(inst_policy["bindings"][0]["role"], "projects/gpu-ci-template/roles/gantryRunnerWaker");
    assert_eq!(inst_policy["bindings"][0]["members"][0], "serviceAccount:gpu-ci-waker@gpu-ci-template.iam.gserviceaccount.com");
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, &dir);
    assert_eq!(r.code, 0, "re-plan after apply is empty:\n{}", r.all());

    // A second repository is broadening, named in the plan, and needs confirming.
    let main = dir.join("main.gantry.hcl");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("repositories = [var.repository]", "repositories = [var.repository, \"o/other\"]")).unwrap();
    let r = gantry(&["plan", d], &env, &dir);
    assert!(r.stdout.contains("GitHub Actions workflows of o/other may now federate through provider github"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, &dir);
    assert_ne!(r.code, 0, "broadening is not applied unconfirmed:\n{}", r.all());
    std::fs::write(&main, &text).unwrap();

    // Destroyed: pool and role are soft-deleted, so their IDs stay taken...
    let r = gantry(&["destroy", d, "--auto-approve"], &env, &dir);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(gcp.identity_pool_item(&pool).unwrap()["state"], "DELETED");
    assert_eq!(gcp.role("projects/gpu-ci-template/roles/gantryRunnerWaker").unwrap()["deleted"], true);
    assert_eq!(gantry(&["plan", d, "--destroy", "--detailed-exitcode"], &env, &dir).code, 0, "nothing left to destroy");
    // ...and applying again undeletes them instead of failing on the IDs.
    let r = gantry(&["apply", d, "--auto-approve", "--allow-broadening"], &env, &dir);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(gcp.identity_pool_item(&pool).unwrap()["state"], "ACTIVE");
    assert!(gcp.role("projects/gpu-ci-template/roles/gantryRunnerWaker").unwrap().get("deleted").is_none());
    assert_eq!(gantry(&["plan", d, "--detailed-exitcode"], &env, &dir).code, 0, "re-plan after the undelete is empty");
    assert_eq!(gantry(&["destroy", d, "--auto-approve"], &env, &dir).code, 0);
}
