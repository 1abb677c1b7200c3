//! Engine tests with an in-memory fake provider: ordering along references,
//! the parallelism bound, failure midway, interrupt, and re-plan after each.

use async_trait::async_trait;
use gantry::config::LoadOptions;
use gantry::core::error::{ErrorClass, ProviderError};
use gantry::core::{Driver, LiveResource, Owner, ReadScope, State};
use gantry::engine::apply::{Cancel, Outcome, Progress};
use gantry::ops::{apply_plan, make_plan, Backend, Connect, PlanRequest, Target};
use gantry::plan::{Action, Change};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// In-memory ECR-like driver.
#[derive(Default)]
struct FakeDriver {
    live: Mutex<BTreeMap<String, LiveResource>>,
    events: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    fail_create: Mutex<BTreeSet<String>>,
    latency_ms: u64,
}

impl FakeDriver {
    async fn work(&self, what: String) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.events.lock().unwrap().push(format!("start {what}"));
        tokio::time::sleep(Duration::from_millis(self.latency_ms)).await;
        self.events.lock().unwrap().push(format!("end {what}"));
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    fn position(&self, event: &str) -> usize {
        self.events.lock().unwrap().iter().position(|e| e == event).unwrap_or_else(|| panic!("no event {event}"))
    }
}

#[async_trait]
impl Driver for FakeDriver {
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        Ok(self
            .live
            .lock()
            .unwrap()
            .values()
            .filter(|l| l.owner_stack.as_deref() == Some(&scope.stack) || scope.identities.contains(&l.identity))
            .cloned()
            .collect())
    }
    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let name = desired["name"].as_str().unwrap().to_string();
        if self.fail_create.lock().unwrap().contains(&name) {
            // Fails at once, while other work is still in flight.
            return Err(ProviderError::aws(ErrorClass::Other, "ecr", "CreateRepository", "injected failure"));
        }
        self.work(format!("create {name}")).await;
        self.live.lock().unwrap().insert(
            name.clone(),
            LiveResource {
                identity: name,
                owner_stack: Some(owner.stack.clone()),
                owner_address: Some(owner.address.clone()),
                state: desired.clone(),
                protected: owner.protect,
            },
        );
        Ok(())
    }
    async fn update(&self, desired: &State, live: &LiveResource, _changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        self.work(format!("update {}", live.identity)).await;
        let mut m = self.live.lock().unwrap();
        let l = m.get_mut(&live.identity).unwrap();
        l.state = desired.clone();
        l.owner_stack = Some(owner.stack.clone());
        l.owner_address = Some(owner.address.clone());
        Ok(())
    }
    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        self.work(format!("delete {}", live.identity)).await;
        self.live.lock().unwrap().remove(&live.identity);
        Ok(())
    }
}

struct FakeBackend(Arc<FakeDriver>);

#[async_trait]
impl Backend for FakeBackend {
    async fn account_id(&self) -> Result<String, ProviderError> {
        Ok("111122223333".into())
    }
    fn drivers(&self) -> BTreeMap<String, Arc<dyn Driver>> {
        let mut m: BTreeMap<String, Arc<dyn Driver>> = BTreeMap::new();
        m.insert("ecr_repository".into(), self.0.clone());
        m
    }
}

struct FakeConnect(Arc<FakeDriver>);

#[async_trait]
impl Connect for FakeConnect {
    async fn connect(&self, _target: &Target) -> Result<Arc<dyn Backend>, ProviderError> {
        Ok(Arc::new(FakeBackend(self.0.clone())))
    }
    fn stats(&self) -> Arc<gantry::cloud::stats::ApiStats> {
        gantry::cloud::stats::ApiStats::new()
    }
}

struct Quiet;
impl Progress for Quiet {
    fn started(&self, _: &Change) {}
    fn finished(&self, _: &Change, _: &Outcome, _: Duration) {}
}

fn write_stack(dir: &std::path::Path, body: &str) {
    std::fs::write(dir.join("main.gantry.hcl"), format!("stack \"fake\" {{\n  aws {{ region = \"us-east-1\" }}\n}}\n{body}")).unwrap();
}

async fn plan(dir: &std::path::Path, driver: &Arc<FakeDriver>) -> (gantry::plan::Plan, Arc<dyn Backend>) {
    let req = PlanRequest { dir: dir.to_path_buf(), load: LoadOptions::default(), ..PlanRequest::default() };
    let (loaded, r) = make_plan(&req, &FakeConnect(driver.clone())).await;
    assert!(!loaded.diags.has_errors(), "{}", loaded.diags.render(&loaded.sources, false));
    r.unwrap_or_else(|e| panic!("plan failed: {e}"))
}

#[tokio::test]
async fn dependents_wait_for_what_they_reference() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(
        dir.path(),
        r#"
ecr_repository "base" {}
ecr_repository "child" {
  tags = { from = ecr_repository.base.arn }
}
ecr_repository "grandchild" {
  tags = { from = local.child_url }
}
locals {
  child_url = ecr_repository.child.repository_url
}
"#,
    );
    let driver = Arc::new(FakeDriver { latency_ms: 30, ..FakeDriver::default() });
    let (p, backend) = plan(dir.path(), &driver).await;
    assert_eq!(p.summary().add, 3);
    let child = p.changes.iter().find(|c| c.address == "ecr_repository.child").unwrap();
    assert_eq!(child.op.desired().unwrap()["tags"]["from"], "arn:aws:ecr:us-east-1:111122223333:repository/base");
    let report = apply_plan(&p, &backend, 10, Arc::new(Quiet), Cancel::new()).await.unwrap();
    assert!(report.succeeded());
    assert!(driver.position("end create base") < driver.position("start create child"));
    assert!(driver.position("end create child") < driver.position("start create grandchild"), "dependency through a local");

    // Destroy runs in reverse: dependents first.
    let req = PlanRequest { dir: dir.path().to_path_buf(), destroy: true, ..PlanRequest::default() };
    let (_, r) = make_plan(&req, &FakeConnect(driver.clone())).await;
    let (p, backend) = r.unwrap();
    assert_eq!(p.summary().destroy, 3);
    let report = apply_plan(&p, &backend, 10, Arc::new(Quiet), Cancel::new()).await.unwrap();
    assert!(report.succeeded());
    assert!(driver.position("end delete grandchild") < driver.position("start delete child"));
    assert!(driver.position("end delete child") < driver.position("start delete base"));
}

#[tokio::test]
async fn parallelism_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), "ecr_repository \"r\" {\n  count = 12\n  name = \"repo-${count.index}\"\n}\n");
    let driver = Arc::new(FakeDriver { latency_ms: 40, ..FakeDriver::default() });
    let (p, backend) = plan(dir.path(), &driver).await;
    let t = std::time::Instant::now();
    let report = apply_plan(&p, &backend, 3, Arc::new(Quiet), Cancel::new()).await.unwrap();
    assert!(report.succeeded());
    assert_eq!(driver.max_in_flight.load(Ordering::SeqCst), 3);
    // 12 creates, 3 at a time, 40 ms each: about 160 ms, far below 12 × 40 ms.
    assert!(t.elapsed() < Duration::from_millis(400), "took {:?}", t.elapsed());
}

#[tokio::test]
async fn failure_midway_stops_new_work_and_replan_shows_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(
        dir.path(),
        r#"
ecr_repository "alpha" {}
ecr_repository "beta" {}
ecr_repository "gamma" {
  tags = { after = ecr_repository.beta.name }
}
ecr_repository "delta" {}
"#,
    );
    let driver = Arc::new(FakeDriver { latency_ms: 20, ..FakeDriver::default() });
    driver.fail_create.lock().unwrap().insert("beta".into());
    let (p, backend) = plan(dir.path(), &driver).await;
    let report = apply_plan(&p, &backend, 2, Arc::new(Quiet), Cancel::new()).await.unwrap();
    assert!(!report.succeeded());
    let outcome = |a: &str| report.results.iter().find(|r| r.address == a).unwrap().outcome.clone();
    assert!(matches!(outcome("ecr_repository.beta"), Outcome::Failed(ref m) if m.contains("injected failure")));
    assert_eq!(outcome("ecr_repository.alpha"), Outcome::Done, "in-flight work settles");
    assert!(matches!(outcome("ecr_repository.gamma"), Outcome::Skipped(_) | Outcome::NotStarted));
    assert_eq!(outcome("ecr_repository.delta"), Outcome::NotStarted, "no new work after a failure");

    driver.fail_create.lock().unwrap().clear();
    let (p, _) = plan(dir.path(), &driver).await;
    let remaining: Vec<(&str, Action)> = p.changes.iter().map(|c| (c.address.as_str(), c.action())).collect();
    assert_eq!(remaining, vec![("ecr_repository.beta", Action::Create), ("ecr_repository.delta", Action::Create), ("ecr_repository.gamma", Action::Create)]);
}

#[tokio::test]
async fn interrupt_lets_in_flight_finish_and_starts_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), "ecr_repository \"r\" {\n  count = 6\n  name = \"repo-${count.index}\"\n}\n");
    let driver = Arc::new(FakeDriver { latency_ms: 100, ..FakeDriver::default() });
    let (p, backend) = plan(dir.path(), &driver).await;
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        c2.cancel();
    });
    let report = apply_plan(&p, &backend, 2, Arc::new(Quiet), cancel).await.unwrap();
    assert!(report.interrupted);
    assert_eq!(report.count(|o| *o == Outcome::Done), 2, "the two in flight finish");
    assert_eq!(report.count(|o| *o == Outcome::NotStarted), 4);
    let (p, _) = plan(dir.path(), &driver).await;
    assert_eq!(p.summary().add, 4);
}

#[tokio::test]
async fn second_apply_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let _held = gantry::engine::lock::acquire(dir.path(), "apply").unwrap();
    let err = gantry::engine::lock::acquire(dir.path(), "apply").unwrap_err();
    assert!(err.to_string().contains("the stack is locked by"), "{err}");
}

/// A front end that answers from a script and records what it was shown.
struct Scripted {
    approve: Result<bool, String>,
    broadening: Result<bool, String>,
    seen: Mutex<Vec<String>>,
}

#[async_trait]
impl gantry::ops::Prompt for Scripted {
    fn loaded(&self, _: &gantry::config::Loaded) {
        self.seen.lock().unwrap().push("loaded".into());
    }
    fn planned(&self, plan: &gantry::plan::Plan) {
        self.seen.lock().unwrap().push(format!("planned {}", plan.summary().add));
    }
    async fn allow_broadening(&self) -> Result<bool, String> {
        self.broadening.clone()
    }
    async fn approve(&self, _: &gantry::plan::Plan) -> Result<bool, String> {
        self.seen.lock().unwrap().push("asked".into());
        self.approve.clone()
    }
    fn notice(&self, line: &str) {
        self.seen.lock().unwrap().push(line.to_string());
    }
    fn progress(&self) -> Arc<dyn Progress> {
        self.seen.lock().unwrap().push("applying".into());
        Arc::new(Quiet)
    }
}

/// The workflow a front end drives: the lock is held while it asks and
/// released after; a "no" or a front end that cannot ask changes nothing;
/// --auto-approve skips the question and nothing else.
#[tokio::test]
async fn the_apply_workflow_holds_the_lock_and_the_gates_for_any_front_end() {
    use gantry::ops::{apply, Applied, ApplyRequest, OpsError};
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), "ecr_repository \"r\" {\n  name = \"repo\"\n}\n");
    let driver = Arc::new(FakeDriver::default());
    let connect = FakeConnect(driver.clone());
    let req = |auto_approve| ApplyRequest {
        target: dir.path().to_path_buf(),
        auto_approve,
        parallelism: 4,
        targets: Vec::new(),
        adopt: false,
        allow_broadening: false,
        destroy: false,
        all_kinds: false,
        allow_delete: BTreeSet::new(),
        load: LoadOptions::default(),
    };
    let lock = dir.path().join(".gantry").join("lock");
    let script = |approve: Result<bool, String>| Scripted { approve, broadening: Err("cannot ask".into()), seen: Mutex::new(Vec::new()) };

    let no = script(Ok(false));
    assert!(matches!(apply(&req(false), &connect, &no).await, Ok(Applied::Declined)));
    assert_eq!(*no.seen.lock().unwrap(), vec!["loaded", "planned 1", "asked"]);
    assert!(driver.events.lock().unwrap().is_empty() && !lock.exists(), "nothing changed, the lock released");

    let mute = script(Err("stdin is not a terminal".into()));
    let r = apply(&req(false), &connect, &mute).await;
    assert!(matches!(&r, Err(OpsError::Usage(m)) if m.contains("not a terminal")), "{r:?}");
    assert!(driver.events.lock().unwrap().is_empty() && !lock.exists());

    // Another run holds the lock: the workflow waits for nobody and asks nothing.
    let held = gantry::engine::lock::acquire(dir.path(), "apply").unwrap();
    let yes = script(Ok(true));
    assert!(matches!(apply(&req(true), &connect, &yes).await, Err(OpsError::Locked { .. })));
    assert!(yes.seen.lock().unwrap().is_empty());
    drop(held);

    let auto = script(Ok(false));
    match apply(&req(true), &connect, &auto).await {
        Ok(Applied::Ran { report, .. }) => assert!(report.succeeded()),
        other => panic!("{other:?}"),
    }
    assert_eq!(*auto.seen.lock().unwrap(), vec!["loaded", "planned 1", "applying"], "auto-approve asks nothing");
    assert!(!lock.exists());
    assert!(matches!(apply(&req(true), &connect, &auto).await, Ok(Applied::NoChanges(_))));
}

/// A change whose action lacks the state it needs (a hand-edited plan) is
/// not a plan: the file is refused when read, with the field it lacks,
/// before anything is applied.
#[tokio::test]
async fn a_change_without_its_state_is_refused_when_read() {
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path(), "ecr_repository \"aa\" {}\n");
    let driver = Arc::new(FakeDriver::default());
    let (p, _backend) = plan(dir.path(), &driver).await;
    let path = dir.path().join("plan.json");
    gantry::plan::file::save(&p, &path, None).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(gantry::plan::file::load(&path, None).is_ok(), "the plan as saved reads");
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let change = &mut doc["plan"]["changes"][0];
    assert_eq!(change["action"], "create");
    change.as_object_mut().unwrap().remove("desired");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    let err = gantry::plan::file::load(&path, None).unwrap_err().to_string();
    assert!(err.contains("does not read as a plan") && err.contains("missing field `desired`"), "{err}");
    assert!(driver.events.lock().unwrap().is_empty());
}
