//! The handler with in-memory fakes: polling within the time budget,
//! retries, and "no scaling on any error".

use async_trait::async_trait;
use gantry_scaler::decide::{Group, Observation, Settings};
use gantry_scaler::group::{GroupApi, GroupError, GroupState};
use gantry_scaler::handler::{Scaler, ScalerError};
use gantry_scaler::metrics::MetricsSink;
use gantry_scaler::sources::{QueueSource, SourceError};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
struct FakeSource {
    answers: Mutex<VecDeque<Result<Observation, SourceError>>>,
    calls: Mutex<u32>,
}

#[async_trait]
impl QueueSource for FakeSource {
    async fn observe(&self) -> Result<Observation, SourceError> {
        *self.calls.lock().unwrap() += 1;
        let mut a = self.answers.lock().unwrap();
        if a.len() > 1 {
            a.pop_front().unwrap()
        } else {
            a.front().cloned().unwrap_or(Ok(Observation::default()))
        }
    }
}

struct FakeGroup {
    group: Mutex<Group>,
    since: Mutex<Option<u64>>,
    sets: Mutex<Vec<u32>>,
    fail_describe: bool,
}

impl FakeGroup {
    fn new(desired: u32, min: u32, max: u32) -> Self {
        FakeGroup {
            group: Mutex::new(Group { desired, min, max, protected: 0, az_rebalance_suspended: false, unhealthy: 0 }),
            since: Mutex::new(None),
            sets: Mutex::default(),
            fail_describe: false,
        }
    }
}

#[async_trait]
impl GroupApi for FakeGroup {
    async fn describe(&self) -> Result<GroupState, GroupError> {
        if self.fail_describe {
            return Err(GroupError::Api { op: "DescribeAutoScalingGroups", message: "Throttling: Rate exceeded".into() });
        }
        Ok(GroupState { group: *self.group.lock().unwrap(), surplus_since: *self.since.lock().unwrap(), members: vec![] })
    }
    async fn set_desired(&self, d: u32) -> Result<(), GroupError> {
        self.group.lock().unwrap().desired = d;
        self.sets.lock().unwrap().push(d);
        Ok(())
    }
    async fn set_surplus_since(&self, s: Option<u64>) -> Result<(), GroupError> {
        *self.since.lock().unwrap() = s;
        Ok(())
    }
    async fn suspend_az_rebalance(&self) -> Result<(), GroupError> {
        self.group.lock().unwrap().az_rebalance_suspended = true;
        Ok(())
    }
    async fn set_unhealthy(&self, _id: &str) -> Result<(), GroupError> {
        Ok(())
    }
}

#[derive(Default)]
struct FakeMetrics {
    published: Mutex<Vec<u32>>,
}

#[async_trait]
impl MetricsSink for FakeMetrics {
    async fn publish(&self, _q: &str, _o: &Observation, desired: u32) -> Result<(), String> {
        self.published.lock().unwrap().push(desired);
        Err("CloudWatch unavailable (ignored)".into())
    }
}

fn scaler(source: FakeSource, group: FakeGroup, settings: Settings) -> Scaler<FakeSource, FakeGroup, FakeMetrics> {
    Scaler { source, group, metrics: Some(FakeMetrics::default()), queue: "q".into(), settings, poll_interval: Duration::from_millis(50) }
}

fn obs(scheduled: u32, running: u32) -> Observation {
    Observation { scheduled, running, waiting: 0, idle_agents: 0, busy_agents: running }
}

#[tokio::test]
async fn polls_repeatedly_within_the_budget_without_overscaling() {
    let src = FakeSource::default();
    src.answers.lock().unwrap().push_back(Ok(obs(50, 0)));
    let s = scaler(src, FakeGroup::new(0, 0, 100), Settings::default());
    // Budget 3.3 s minus the 3 s safety margin: ~0.3 s of polling at 50 ms.
    let summary = s.run(Duration::from_millis(3300)).await.unwrap();
    assert!(summary.polls.len() >= 3, "polled {} times", summary.polls.len());
    assert_eq!(*s.group.sets.lock().unwrap(), vec![50], "one scale-out, not one per poll");
    assert_eq!(s.metrics.as_ref().unwrap().published.lock().unwrap().len(), summary.polls.len(), "a metrics failure does not stop scaling");
}

#[tokio::test]
async fn a_metrics_outage_fails_and_never_scales_in() {
    let src = FakeSource::default();
    src.answers.lock().unwrap().push_back(Err(SourceError::Unauthorized(401)));
    let s = scaler(src, FakeGroup::new(5, 0, 10), Settings { scale_in_idle_secs: 0, ..Settings::default() });
    let e = s.run(Duration::from_secs(4)).await.unwrap_err();
    assert!(matches!(e, ScalerError::Source(SourceError::Unauthorized(401))), "{e}");
    assert!(s.group.sets.lock().unwrap().is_empty());
}

#[tokio::test]
async fn throttling_is_retried_within_the_budget() {
    let src = FakeSource::default();
    {
        let mut a = src.answers.lock().unwrap();
        a.push_back(Err(SourceError::Throttled));
        a.push_back(Err(SourceError::Http(503, "busy".into())));
        a.push_back(Ok(obs(3, 0)));
    }
    let s = scaler(src, FakeGroup::new(0, 0, 10), Settings::default());
    let summary = s.run(Duration::from_millis(4500)).await.unwrap();
    assert_eq!(summary.polls[0].decision.desired, 3);
    assert!(*s.source.calls.lock().unwrap() >= 3);

    // Persistent throttling past the budget fails the invocation.
    let src = FakeSource::default();
    src.answers.lock().unwrap().push_back(Err(SourceError::Throttled));
    let s = scaler(src, FakeGroup::new(2, 0, 10), Settings::default());
    assert!(matches!(s.run(Duration::from_millis(3500)).await, Err(ScalerError::Source(SourceError::Throttled))));
    assert!(s.group.sets.lock().unwrap().is_empty());
}

#[tokio::test]
async fn group_errors_fail_without_changes() {
    let src = FakeSource::default();
    src.answers.lock().unwrap().push_back(Ok(obs(0, 0)));
    let mut g = FakeGroup::new(5, 0, 10);
    g.fail_describe = true;
    let s = scaler(src, g, Settings::default());
    assert!(matches!(s.run(Duration::from_secs(4)).await, Err(ScalerError::Group(_))));
    assert!(s.group.sets.lock().unwrap().is_empty());
}

#[test]
fn the_scheduled_event_fixture_is_what_eventbridge_sends() {
    let v: serde_json::Value = serde_json::from_str(include_str!("fixtures/scheduled-event.json")).unwrap();
    assert_eq!(v["detail-type"], "Scheduled Event");
    assert_eq!(v["source"], "aws.events");
}
