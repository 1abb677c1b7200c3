//! The real `bootstrap` binary, run against a fake Lambda Runtime API, the
//! fake Buildkite metrics API and moto's Auto Scaling, SSM and CloudWatch.

use gantry_aws_wire::autoscaling::{AutoScaling, AutoScalingGroup};
use gantry_aws_wire::ssm::{PutParameter, Ssm};
use gantry_emulators::buildkite::{Counts, FakeBuildkite, Fault};
use gantry_emulators::lambda_runtime::{FakeRuntime, Outcome};
use gantry_emulators::moto::Moto;
use serde_json::Value;
use std::process::Child;

mod common;
use common::{aws_conf, create_group, err_text, json_lines, ok, protect, spawn_bootstrap};
use std::time::Duration;

const TOKEN: &str = "agent-token-123";
const QUEUE: &str = "gpu_1_queue";
const GROUP: &str = "gpu-1-asg";

struct Harness {
    // Kept alive for the harness's lifetime (stopped on drop).
    _moto: Moto,
    bk: FakeBuildkite,
    rt: FakeRuntime,
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

/// Starts everything; the group has `desired` instances within [min, max].
async fn harness(min: i32, max: i32, desired: i32, token_param: Option<&str>, env: &[(&str, &str)]) -> Harness {
    let moto = Moto::start_plain();
    let conf = aws_conf(&moto);
    let asg = AutoScaling::new(&conf, "us-west-2");
    let ssm = Ssm::new(&conf, "us-west-2");
    create_group(&asg, GROUP, min, max, desired).await;
    if let Some(v) = token_param {
        ssm.put_parameter(&PutParameter::secure("/bk/token", v)).await.unwrap();
    }
    let bk = FakeBuildkite::start(0, TOKEN).await.unwrap();
    let rt = FakeRuntime::start().await.unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let endpoint = bk.endpoint();
    let mut vars =
        vec![("ASG_NAME", GROUP), ("QUEUE", QUEUE), ("AGENT_TOKEN_PARAMETER", "/bk/token"), ("METRICS_ENDPOINT", endpoint.as_str()), ("POLL_INTERVAL", "30s")];
    vars.extend_from_slice(env);
    let child = spawn_bootstrap(&rt, &moto, &log, &vars);
    Harness { _moto: moto, bk, rt, child, log, asg, ssm }
}

impl Harness {
    /// One scheduled-event invocation with a 4 s deadline (one poll).
    async fn invoke(&self) -> Outcome {
        self.invoke_for(Duration::from_secs(4)).await
    }

    /// One invocation with a longer deadline (several polls).
    async fn invoke_for(&self, deadline: Duration) -> Outcome {
        let event: Value = serde_json::from_str(include_str!("fixtures/scheduled-event.json")).unwrap();
        self.rt.invoke(event, deadline).await
    }

    async fn group(&self) -> AutoScalingGroup {
        self.asg.describe_group(GROUP).await.unwrap().expect("the group")
    }

    async fn desired(&self) -> i64 {
        self.group().await.desired_capacity
    }

    fn logs(&self) -> Vec<Value> {
        json_lines(&self.log)
    }

    fn decisions(&self) -> Vec<Value> {
        self.logs().into_iter().filter(|l| l["fields"]["message"] == "scaling decision").collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_50_jobs_scales_out_at_once_and_publishes_metrics() {
    let h = harness(0, 60, 0, Some(TOKEN), &[]).await;
    h.bk.set_counts(QUEUE, Counts { scheduled: 50, ..Counts::default() });
    let o = h.invoke().await;
    assert_eq!(ok(&o)["polls"][0]["decision"]["desired"], 50);
    assert_eq!(h.desired().await, 50);
    // AZ rebalancing would terminate busy instances: the scaler keeps it suspended.
    assert_eq!(h.group().await.suspended_processes, ["AZRebalance"]);
    let d = h.decisions();
    assert_eq!(d.len(), 1, "one structured line per decision");
    assert_eq!(d[0]["fields"]["desired_after"], 50);
    // Timing facts for the benchmark note (printed with --nocapture; not asserted).
    let init = h.logs().into_iter().find(|l| l["fields"]["message"] == "cold-start set-up finished").map(|l| l["fields"]["init_ms"].clone());
    let hwm = std::fs::read_to_string(format!("/proc/{}/status", h.child.id())).ok().and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(String::from));
    println!(
        "cold-start set-up (incl. SSM round trip): {:?} ms; first poll (incl. 2 loopback round trips): {} ms; peak RSS {:?}",
        init, d[0]["fields"]["poll_ms"], hwm
    );
    assert!(d[0]["fields"]["reason"].as_str().unwrap().contains("50 agent(s) needed"));
    // CloudWatch metrics in Embedded Metric Format, one line per poll.
    let emf: Vec<Value> = h.logs().into_iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(emf.len(), 1);
    assert_eq!(emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Buildkite");
    assert_eq!(emf[0]["ScheduledJobsCount"], 50);
    assert_eq!(emf[0]["DesiredCapacity"], 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_above_max_even_though_the_api_accepts_it() {
    let h = harness(0, 20, 0, Some(TOKEN), &[]).await;
    h.bk.set_counts(QUEUE, Counts { scheduled: 500, ..Counts::default() });
    ok(&h.invoke().await);
    assert_eq!(h.desired().await, 20);
    // Someone set it above max by hand (moto, like the API, accepts it): clamped back.
    h.asg.set_desired_capacity(GROUP, 35, false).await.unwrap();
    ok(&h.invoke().await);
    assert_eq!(h.desired().await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_capacity_decays_gradually() {
    let h = harness(0, 10, 5, Some(TOKEN), &[("SCALE_IN_IDLE", "0s"), ("SCALE_IN_STEP", "2")]).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        ok(&h.invoke().await);
        seen.push(h.desired().await);
    }
    assert_eq!(seen, vec![3, 1, 0, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_capacity_waits_for_scale_in_idle() {
    let h = harness(0, 10, 5, Some(TOKEN), &[("SCALE_IN_IDLE", "10m")]).await;
    ok(&h.invoke().await);
    ok(&h.invoke().await);
    assert_eq!(h.desired().await, 5, "surplus younger than scale_in_idle is kept");
    let g = h.group().await;
    assert!(g.tags.iter().any(|t| t.key == "gantry:scaler:surplus-since"), "the surplus clock survives invocations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_outage_fails_the_invocation_and_never_scales_in() {
    let h = harness(0, 10, 4, Some(TOKEN), &[("SCALE_IN_IDLE", "0s")]).await;
    h.bk.set_fault(Fault { status: Some(503), malformed: false });
    let e = err_text(&h.invoke().await);
    assert!(e.contains("503"), "{e}");
    assert_eq!(h.desired().await, 4);
    h.bk.set_fault(Fault { status: None, malformed: true });
    let e = err_text(&h.invoke().await);
    assert!(e.contains("malformed JSON"), "{e}");
    assert_eq!(h.desired().await, 4);
    // Recovery: the next good reading scales in as usual.
    h.bk.set_fault(Fault::default());
    ok(&h.invoke().await);
    assert_eq!(h.desired().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_agents_survive_scale_in() {
    let h = harness(0, 10, 5, Some(TOKEN), &[("SCALE_IN_IDLE", "0s"), ("SCALE_IN_STEP", "10")]).await;
    // Two agents run jobs: their hooks protected their instances from scale-in.
    let g = h.group().await;
    let busy: Vec<String> = g.instances.iter().take(2).map(|i| i.instance_id.clone()).collect();
    protect(&h.asg, GROUP, &busy).await;
    h.bk.set_counts(QUEUE, Counts { running: 2, busy: 2, ..Counts::default() });
    ok(&h.invoke().await);
    let g = h.group().await;
    assert_eq!(g.desired_capacity, 2);
    let left: Vec<String> = g.instances.iter().map(|i| i.instance_id.clone()).collect();
    for b in &busy {
        assert!(left.contains(b), "busy instance {b} was terminated; left {left:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_or_group_fails_clearly_and_recovers() {
    let h = harness(0, 10, 1, None, &[]).await;
    let e = err_text(&h.invoke().await);
    assert!(e.contains("/bk/token"), "names the missing parameter: {e}");
    h.ssm.put_parameter(&PutParameter::secure("/bk/token", "wrong")).await.unwrap();
    let e = err_text(&h.invoke().await);
    assert!(e.contains("rejected the agent token"), "{e}");
    assert_eq!(h.desired().await, 1);
    assert!(h.logs().iter().any(|l| l["level"] == "ERROR"), "errors are logged");

    let h = harness(0, 10, 1, Some(TOKEN), &[("ASG_NAME", "no-such-group")]).await;
    let e = err_text(&h.invoke().await);
    assert!(e.contains("no-such-group does not exist"), "{e}");

    let h = harness(0, 10, 1, Some(TOKEN), &[("AGENTS_PER_INSTANCE", "0")]).await;
    let e = err_text(&h.invoke().await);
    assert!(e.contains("AGENTS_PER_INSTANCE=0"), "{e}");
    assert_eq!(h.desired().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_apis_poll_interval_header_is_honoured() {
    // Configured for a poll a second; an 8 s invocation leaves 5 s to poll in.
    let h = harness(0, 10, 0, Some(TOKEN), &[("POLL_INTERVAL", "1s")]).await;
    h.bk.set_counts(QUEUE, Counts { scheduled: 2, ..Counts::default() });
    let o = h.invoke_for(Duration::from_secs(8)).await;
    let unasked = ok(&o)["polls"].as_array().unwrap().len();
    assert!(unasked >= 4, "without the header it polls every second: {unasked}");
    // The API asks for at most one poll every 3 s: 0 s and 3 s, then the deadline.
    h.bk.set_poll_duration(Some(3));
    let before = h.bk.requests();
    let o = h.invoke_for(Duration::from_secs(8)).await;
    // The first poll of this invocation learns the header; the rest follow it.
    let polls = ok(&o)["polls"].as_array().unwrap().len();
    assert_eq!(polls, 2, "{o:?}");
    assert_eq!(h.bk.requests() - before, 2);
    assert!(h.logs().iter().any(|l| l["fields"]["message"] == "the metrics API asks for a longer poll interval; using it" && l["fields"]["asked_s"] == 3));
    assert_eq!(h.desired().await, 2, "still sizes the group");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_reported_unhealthy_are_counted_in_the_decision_log() {
    let h = harness(0, 10, 2, Some(TOKEN), &[]).await;
    // An instance whose agent never registered reports itself unhealthy (the bootstrap's watchdog).
    let id = h.group().await.instances[0].instance_id.clone();
    h.asg.set_instance_health(&id, "Unhealthy", false).await.unwrap();
    h.bk.set_counts(QUEUE, Counts { running: 2, busy: 1, ..Counts::default() });
    let o = h.invoke().await;
    ok(&o);
    let d = h.decisions();
    assert_eq!(d[0]["fields"]["unhealthy"], 1, "{d:?}");
}
