//! A GitHub Actions runner queue end to end on moto: the App's parameters
//! checked at plan time, the scaler deployed with the runner contract and a
//! public webhook URL (both of its permissions), an empty re-plan, the URL
//! taken away again, and destroy.

use crate::support::{fixture_zip, gantry, lambda_client, put_secure, stack_dir, Moto};

fn stack(zip: &str, webhook: bool) -> String {
    format!(
        r#"stack "oci" {{
  aws {{ region = "us-west-2" }}
}}

agent_queue "builders" {{
  instance_types = ["g5.2xlarge"]
  max_size       = 4
  github {{
    repository         = "bentoml/OpenLLM"
    labels             = ["ec2-gpu"]
    credentials        = "/gantry/openllm/github-app"
    queued_job_timeout = "30m"
    webhook            = {webhook}
  }}
  scaler {{
    zip = "{zip}"
  }}
}}
"#
    )
}

#[test]
fn a_runner_queue_deploys_its_scaler_with_a_webhook_url_and_replans_empty() {
    let moto = Moto::start();
    let env = moto.env();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let zip = fixture_zip();
    let dir = stack_dir(&[("main.gantry.hcl", &stack(&zip, true))]);
    let d = dir.path().to_str().unwrap();

    let r = gantry(&["plan", d], &env, dir.path());
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("GitHub App parameter(s) /gantry/openllm/github-app/app_id,"), "{}", r.all());
    rt.block_on(async {
        for k in ["app_id", "installation_id", "private_key", "webhook_secret"] {
            put_secure(&moto, "us-west-2", &format!("/gantry/openllm/github-app/{k}"), &format!("{k}-S3CRET")).await;
        }
    });
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("+ function.webhook") || r.stdout.contains("\"webhook\": true"), "{}", r.all());
    assert!(!r.all().contains("S3CRET"), "credentials are named, never read: {}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("takes GitHub webhooks at https://"), "the URL to give the App: {}", r.all());

    let (vars, policy, url) = rt.block_on(async {
        let l = lambda_client(&moto, "us-west-2").await;
        let f = l.get_function_configuration().function_name("gantry-oci-builders-scaler").send().await.unwrap();
        let policy = l.get_policy().function_name("gantry-oci-builders-scaler").send().await.unwrap().policy.unwrap();
        let url = l.get_function_url_config().function_name("gantry-oci-builders-scaler").send().await.unwrap();
        (f.environment().unwrap().variables().unwrap().clone(), policy, url)
    });
    assert_eq!(vars["CI"], "github");
    assert_eq!(vars["GITHUB_SCOPE"], "bentoml/OpenLLM");
    assert_eq!(vars["RUNNER_LABELS"], "self-hosted,linux,x64,ec2-gpu");
    assert_eq!(vars["JIT_CONFIG_PATH"], "/gantry/jit/oci/builders");
    assert_eq!(vars["QUEUED_JOB_TIMEOUT"], "30m");
    assert!(!vars.contains_key("AGENT_TOKEN_PARAMETER") || vars["AGENT_TOKEN_PARAMETER"].is_empty());
    assert_eq!(url.auth_type().as_str(), "NONE");
    assert!(policy.contains("gantry-webhook-url") && policy.contains("gantry-webhook-invoke") && policy.contains("gantry-schedule"), "{policy}");

    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "re-plan must be empty: {}", r.all());

    // Polling only: the URL and its permissions go.
    std::fs::write(dir.path().join("main.gantry.hcl"), stack(&zip, false)).unwrap();
    let r = gantry(&["plan", d], &env, dir.path());
    assert!(r.stdout.contains("~ function.webhook = true -> false"), "{}", r.all());
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let (url, policy) = rt.block_on(async {
        let l = lambda_client(&moto, "us-west-2").await;
        let url = l.get_function_url_config().function_name("gantry-oci-builders-scaler").send().await;
        (url.is_ok(), l.get_policy().function_name("gantry-oci-builders-scaler").send().await.unwrap().policy.unwrap())
    });
    assert!(!url, "the function URL is deleted");
    assert!(!policy.contains("gantry-webhook"), "{policy}");
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    let r = gantry(&["destroy", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
}
