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
