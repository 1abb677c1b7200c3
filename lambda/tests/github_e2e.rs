//! The real `bootstrap` binary as a GitHub Actions runner scaler, against
//! the fake GitHub API (app JWTs verified with the app's public key), a
//! function URL in front of the fake Lambda runtime, and moto's Auto
//! Scaling and SSM.

use gantry_aws_wire::autoscaling::AutoScaling;
use gantry_aws_wire::ssm::{PutParameter, Ssm};
use gantry_emulators::github::FakeGithub;
use gantry_emulators::lambda_runtime::{FakeRuntime, Outcome};
use gantry_emulators::moto::Moto;
use serde_json::Value;
use std::process::Child;
use std::time::Duration;

mod common;
use common::{aws_conf, create_group, json_lines, ok, protect, spawn_bootstrap};

const GROUP: &str = "gantry-builders-asg";
const PREFIX: &str = "gantry-builders";
const REPO: &str = "acme/ml";
const SECRET: &str = "webhook-secret-for-tests";
const JIT_PATH: &str = "/gantry/jit/builders";
const OURS: &[&str] = &["self-hosted", "linux", "gpu"];

struct Harness {
    _moto: Moto,
    gh: FakeGithub,
    rt: FakeRuntime,
    url: String,
    child: Child,
    log: tempfile::NamedTempFile,
    asg: AutoScaling,
    ssm: Ssm,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn harness(min: i32, max: i32, desired: i32, env: &[(&str, &str)]) -> Harness {
    let moto = Moto::start_plain();
    let conf = aws_conf(&moto);
    let asg = AutoScaling::new(&conf, "us-west-2");
    let ssm = Ssm::new(&conf, "us-west-2");
    create_group(&asg, GROUP, min, max, desired).await;
    let key = include_str!("fixtures/github-app-test-key.pem");
    for (k, v) in [("app_id", "123"), ("installation_id", "456"), ("private_key", key), ("webhook_secret", SECRET)] {
        ssm.put_parameter(&PutParameter::secure(format!("/gh/{k}"), v)).await.unwrap();
    }
    let gh = FakeGithub::start(0).await.unwrap();
    gh.require_app(123, include_str!("fixtures/github-app-test-key.pub.pem"));
    let rt = FakeRuntime::start().await.unwrap();
    let url = rt.function_url(Duration::from_secs(10)).await.unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let api = gh.endpoint();
    let mut vars = vec![
        ("ASG_NAME", GROUP),
        ("QUEUE", "builders"),
        ("CI", "github"),
        ("GITHUB_API", api.as_str()),
        ("GITHUB_SCOPE", REPO),
        ("RUNNER_LABELS", "self-hosted,linux,gpu"),
        ("RUNNER_NAME_PREFIX", PREFIX),
        ("GITHUB_CREDENTIALS_PATH", "/gh"),
        ("JIT_CONFIG_PATH", JIT_PATH),
        ("INSTANCE_ARN_PREFIX", "arn:aws:ec2:us-west-2:123456789012:instance/"),
        ("POLL_INTERVAL", "30s"),
    ];
    vars.extend_from_slice(env);
    let child = spawn_bootstrap(&rt, &moto, &log, &vars);
    Harness { _moto: moto, gh, rt, url, child, log, asg, ssm }
}

impl Harness {
    async fn invoke(&self) -> Outcome {
        let event: Value = serde_json::from_str(include_str!("fixtures/scheduled-event.json")).unwrap();
        self.rt.invoke(event, Duration::from_secs(4)).await
    }

    async fn group(&self) -> gantry_aws_wire::autoscaling::AutoScalingGroup {
        self.asg.describe_group(GROUP).await.unwrap().expect("the group")
    }

    async fn instances(&self) -> Vec<String> {
        self.group().await.instances.into_iter().filter(|i| i.health_status != "Unhealthy").map(|i| i.instance_id).collect()
    }

    async fn desired(&self) -> i64 {
        self.group().await.desired_capacity
    }

    /// Instance ids with a configuration waiting in SSM.
    async fn configs(&self) -> Vec<String> {
        let found = self.ssm.parameters_by_path(JIT_PATH).await.unwrap();
        let mut v: Vec<String> = found.iter().map(|p| p.name.rsplit('/').next().unwrap().to_string()).collect();
        v.sort();
        v
    }

    fn runner_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.gh.runners().into_iter().map(|r| r.name).collect();
        v.sort();
        v
    }

    fn logs(&self) -> Vec<Value> {
        json_lines(&self.log)
    }

    fn said(&self, message: &str) -> bool {
        self.logs().iter().any(|l| l["fields"]["message"] == message)
    }
}

fn names(ids: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|i| format!("{PREFIX}-{i}")).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_gets_one_just_in_time_runner_per_instance_and_never_more_than_max() {
    let h = harness(0, 5, 0, &[]).await;
    for _ in 0..6 {
        h.gh.queue_job(REPO, &["self-hosted", "gpu"]);
    }
    h.gh.queue_job(REPO, &["ubuntu-latest"]);
    // A job that `needs:` a started one is queued inside an in-progress run.
    let started = h.gh.queue_job(REPO, &["self-hosted", "gpu"]);
    h.gh.start_job(started.id, 0);
    h.gh.queue_job_in_run(started.run_id, REPO, OURS);
    let o = h.invoke().await;
    let poll = &ok(&o)["polls"][0];
    assert_eq!(poll["observation"]["scheduled"], 7, "6 + the needs-job; not ubuntu-latest nor the started one: {poll}");
    assert_eq!(poll["decision"]["desired"], 5, "clamped to max");
    assert_eq!(poll["reconciled"]["issued"], 5);
    let ids = h.instances().await;
    assert_eq!(ids.len(), 5);
    assert_eq!(h.runner_names(), names(&ids), "one runner per instance, named after it");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(h.configs().await, sorted, "each instance's configuration waits in SSM");
    let cfg = h.ssm.get_parameter(&format!("{JIT_PATH}/{}", ids[0])).await.unwrap();
    assert!(!cfg.value.is_empty());
    // Tagged with its instance's ARN: the instance role reads only the one
    // whose tag is its own `${ec2:SourceInstanceARN}`.
    for id in &ids {
        let tags = h.ssm.tags(&format!("{JIT_PATH}/{id}")).await.unwrap();
        let tag: Vec<(&str, &str)> = tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
        assert_eq!(tag, [("gantry:instance", format!("arn:aws:ec2:us-west-2:123456789012:instance/{id}").as_str())], "{id}");
    }

    // The next poll issues nothing twice.
    ok(&h.invoke().await);
    assert_eq!(h.gh.runners().len(), 5);
    // Runners came online with their configuration: it is deleted.
    for id in &ids[..3] {
        h.gh.runner_online(&format!("{PREFIX}-{id}")).unwrap();
    }
    ok(&h.invoke().await);
    assert_eq!(h.configs().await.len(), 2);

    // The scaler's log (what CloudWatch keeps) carries no credential: not
    // the app's key, the webhook secret, an installation token or a
    // runner's just-in-time configuration.
    let log = std::fs::read_to_string(h.log.path()).unwrap();
    assert!(log.contains("registered a just-in-time runner"), "the log was captured: {log}");
    let jit = cfg.value.clone();
    for (what, secret) in
        [("the app's private key", "PRIVATE KEY"), ("the webhook secret", SECRET), ("an installation token", "ghs_"), ("a JIT configuration", &jit)]
    {
        assert!(!log.contains(secret), "{what} reached the scaler's log");
    }
    // Every request, the installation-token one included, names the API version.
    assert_eq!(h.gh.unversioned_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_webhook_is_refused_and_changes_nothing_a_signed_one_scales_at_once() {
    let h = harness(0, 5, 0, &[]).await;
    let job = h.gh.queue_job(REPO, OURS);
    let payload = h.gh.workflow_job_payload("queued", &job);
    let before = h.gh.requests();
    let status = h.gh.deliver(&h.url, "not-the-secret", "workflow_job", &payload).await.unwrap();
    assert_eq!(status, 401);
    assert_eq!(h.desired().await, 0);
    assert_eq!(h.gh.requests(), before, "a forged delivery makes no GitHub call");
    assert!(h.said("refused a webhook delivery with a missing or wrong signature"));

    let other = h.gh.queue_job(REPO, &["ubuntu-latest"]);
    let status = h.gh.deliver(&h.url, SECRET, "workflow_job", &h.gh.workflow_job_payload("queued", &other)).await.unwrap();
    assert_eq!(status, 200, "not our labels: acknowledged, ignored");
    assert_eq!(h.desired().await, 0);

    let status = h.gh.deliver(&h.url, SECRET, "workflow_job", &payload).await.unwrap();
    assert_eq!(status, 202);
    assert_eq!(h.desired().await, 1, "scaled on the delivery, not a minute later");
    assert_eq!(h.gh.runners().len(), 1);
    // A replay of the same body (a new delivery id) cannot add capacity: the
    // scaler counts GitHub's queued jobs, and there is still one.
    let status = h.gh.deliver(&h.url, SECRET, "workflow_job", &payload).await.unwrap();
    assert_eq!(status, 202);
    assert_eq!(h.desired().await, 1);
    assert_eq!(h.gh.runners().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_runners_survive_scale_in_and_orphans_are_cleaned_up() {
    let h = harness(0, 5, 0, &[("SCALE_IN_IDLE", "0s"), ("SCALE_IN_STEP", "10")]).await;
    let jobs: Vec<_> = (0..3).map(|_| h.gh.queue_job(REPO, OURS)).collect();
    ok(&h.invoke().await);
    let ids = h.instances().await;
    assert_eq!(ids.len(), 3);
    // Two runners take jobs; their job-started hook protects their instances.
    let mut busy = Vec::new();
    for (job, id) in jobs.iter().zip(&ids).take(2) {
        let rid = h.gh.runner_online(&format!("{PREFIX}-{id}")).unwrap();
        h.gh.start_job(job.id, rid);
        busy.push(id.clone());
    }
    protect(&h.asg, GROUP, &busy).await;
    // The third job was cancelled before any runner took it.
    h.gh.finish_job(jobs[2].id, 0);
    ok(&h.invoke().await);
    assert_eq!(h.desired().await, 2);
    let left = h.instances().await;
    for b in &busy {
        assert!(left.contains(b), "busy instance {b} was terminated; left {left:?}");
    }
    // The idle instance is gone; its registration is removed on the next poll, the busy ones stay.
    ok(&h.invoke().await);
    assert_eq!(h.runner_names(), names(&busy));
    assert!(h.said("deleted a runner registration whose instance is gone or never started it"));
    assert_eq!(h.configs().await, Vec::<String>::new(), "consumed and orphaned configurations are deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_make_the_scaler_wait_without_failing() {
    let h = harness(0, 5, 0, &[]).await;
    h.gh.queue_job(REPO, OURS);
    // A secondary limit: 403 with retry-after. The poll holds; no error.
    h.gh.secondary_limit_next(60);
    let o = h.invoke().await;
    let poll = &ok(&o)["polls"][0];
    assert!(poll["decision"]["reason"].as_str().unwrap().contains("rate limited"), "{poll}");
    assert_eq!(h.desired().await, 0);
    // Within the retry-after window not a single call is made.
    let before = h.gh.requests();
    ok(&h.invoke().await);
    assert_eq!(h.gh.requests(), before, "retry-after is honoured");
    assert!(h.logs().iter().all(|l| l["level"] != "ERROR"), "waiting is not an error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_primary_limit_holds_until_the_reset() {
    let h = harness(0, 5, 0, &[]).await;
    h.gh.queue_job(REPO, OURS);
    h.gh.set_rate_limit_remaining(0);
    let o = h.invoke().await;
    assert!(ok(&o)["polls"][0]["decision"]["reason"].as_str().unwrap().contains("rate limited"));
    let before = h.gh.requests();
    h.gh.set_rate_limit_remaining(5000);
    ok(&h.invoke().await);
    assert_eq!(h.gh.requests(), before, "no call before x-ratelimit-reset");
    assert_eq!(h.desired().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_queued_past_the_timeout_are_cancelled_or_reported() {
    let h = harness(0, 5, 0, &[("QUEUED_JOB_TIMEOUT", "30m")]).await;
    let stuck = h.gh.queue_job(REPO, OURS);
    h.gh.backdate_job(stuck.id, 31 * 60);
    let fresh = h.gh.queue_job(REPO, OURS);
    let o = h.invoke().await;
    assert_eq!(ok(&o)["polls"][0]["reconciled"]["timed_out"], 1);
    assert_eq!(h.gh.job(stuck.id).unwrap().conclusion.as_deref(), Some("cancelled"));
    assert_eq!(h.gh.job(fresh.id).unwrap().status, "queued");
    assert!(h.said("cancelled a workflow run whose job stayed queued past the queued-job timeout"));

    let h = harness(0, 5, 0, &[("QUEUED_JOB_TIMEOUT", "30m"), ("QUEUED_JOB_TIMEOUT_ACTION", "report")]).await;
    let stuck = h.gh.queue_job(REPO, OURS);
    h.gh.backdate_job(stuck.id, 31 * 60);
    ok(&h.invoke().await);
    assert_eq!(h.gh.job(stuck.id).unwrap().status, "queued", "reported, not cancelled");
    assert!(h.said("job queued longer than the queued-job timeout"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_runner_never_comes_online_is_replaced() {
    let h = harness(0, 5, 0, &[("REGISTRATION_GRACE", "1s")]).await;
    h.gh.queue_job(REPO, OURS);
    ok(&h.invoke().await);
    let first = h.instances().await;
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    ok(&h.invoke().await);
    assert!(h.said("the instance's runner never came online; replacing the instance"));
    assert!(!h.instances().await.contains(&first[0]), "marked unhealthy for Auto Scaling to replace");
    assert!(!h.runner_names().contains(&format!("{PREFIX}-{}", first[0])), "its registration is deleted");
}
