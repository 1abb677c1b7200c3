//! What the end-to-end suites share: moto clients, and the real
//! `bootstrap` binary started against a fake Lambda Runtime API.

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use gantry_aws_wire::autoscaling::AutoScaling;
use gantry_emulators::lambda_runtime::{FakeRuntime, Outcome};
use gantry_emulators::moto::Moto;
use serde_json::Value;
use std::process::{Child, Command, Stdio};

pub(crate) fn aws_conf(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("testing", "testing", None, None, "test")))
        .build()
}

/// Form parameters from pairs.
fn params(p: &[(&str, String)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Creates group `name` in moto with `desired` instances within [min, max]
/// (setup calls the scaler never makes, through the Query service).
pub(crate) async fn create_group(asg: &AutoScaling, name: &str, min: i32, max: i32, desired: i32) {
    let lc = [("LaunchConfigurationName", "lc".to_string()), ("ImageId", "ami-12c6146b".into()), ("InstanceType", "g6.4xlarge".into())];
    asg.query().call("CreateLaunchConfiguration", &params(&lc)).await.unwrap();
    let group = [
        ("AutoScalingGroupName", name.to_string()),
        ("LaunchConfigurationName", "lc".into()),
        ("MinSize", min.to_string()),
        ("MaxSize", max.to_string()),
        ("DesiredCapacity", desired.to_string()),
        ("AvailabilityZones.member.1", "us-west-2a".into()),
    ];
    asg.query().call("CreateAutoScalingGroup", &params(&group)).await.unwrap();
}

/// Protects `ids` of group `name` from scale-in, as a busy agent's hook does.
pub(crate) async fn protect(asg: &AutoScaling, name: &str, ids: &[String]) {
    let mut p = vec![("AutoScalingGroupName", name.to_string()), ("ProtectedFromScaleIn", "true".into())];
    let members: Vec<String> = (1..=ids.len()).map(|i| format!("InstanceIds.member.{i}")).collect();
    p.extend(members.iter().map(String::as_str).zip(ids.iter().cloned()));
    asg.query().call("SetInstanceProtection", &params(&p)).await.unwrap();
}

/// Starts `bootstrap` with only the Lambda variables, moto's and `env`;
/// its stdout and stderr go to `log`.
pub(crate) fn spawn_bootstrap(rt: &FakeRuntime, moto: &Moto, log: &tempfile::NamedTempFile, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", rt.api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "gantry-scaler")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/gantry-scaler")
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap());
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start bootstrap")
}

/// The JSON lines of a log file.
pub(crate) fn json_lines(log: &tempfile::NamedTempFile) -> Vec<Value> {
    std::fs::read_to_string(log.path()).unwrap().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

pub(crate) fn ok(o: &Outcome) -> &Value {
    match o {
        Outcome::Response(v) => v,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[allow(dead_code)]
pub(crate) fn err_text(o: &Outcome) -> String {
    match o {
        Outcome::Error(v) => v.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}
