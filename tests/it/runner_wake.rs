//! Seed 004's cost model end to end on the fakes: a gpu_node running a
//! GitHub Actions runner is stopped while idle (its own guest shutdown) and
//! `gantry runner wake` starts it when a job for its labels is queued,
//! handing it a just-in-time configuration through its metadata; jobs
//! queued past the limit get their run cancelled.

use crate::support::{gantry, stack_dir};
use gantry_emulators::gcp::FakeGcp;
use gantry_emulators::github::FakeGithub;

const STACK: &str = r#"stack "gpu-ci-template" {
  gcp {
    project = "gpu-ci"
  }
}

gpu_node "runner" {
  name         = "gpu-ci-runner"
  zone         = "us-central1-a"
  machine_type = "g2-standard-8"
  accelerator {
    type = "nvidia-l4"
  }
  boot_disk {
    image = "projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204"
  }
  runner {
    repository = "carducaldeira/GPU-CICD-Pipeline-Template"
    labels     = ["gpu-l4"]
    idle_stop  = "10m"
  }
}
"#;

const KEY: &str = "projects/gpu-ci/zones/us-central1-a/instances/gpu-ci-runner";
const REPO: &str = "carducaldeira/GPU-CICD-Pipeline-Template";

struct Fakes {
    rt: tokio::runtime::Runtime,
    gcp: FakeGcp,
    gh: FakeGithub,
}

fn fakes() -> Fakes {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gcp = rt.block_on(FakeGcp::start(0)).unwrap();
    let gh = rt.block_on(FakeGithub::start(0)).unwrap();
    gh.require_app(77, include_str!("../../lambda/tests/fixtures/github-app-test-key.pub.pem"));
    Fakes { rt, gcp, gh }
}

impl Fakes {
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GANTRY_GCP_ENDPOINT", self.gcp.endpoint()),
            ("GANTRY_GITHUB_API", self.gh.endpoint()),
            ("GANTRY_GITHUB_APP_ID", "77".into()),
            ("GANTRY_GITHUB_INSTALLATION_ID", "88".into()),
            ("GANTRY_GITHUB_APP_KEY", include_str!("../../lambda/tests/fixtures/github-app-test-key.pem").into()),
        ]
    }
    fn status(&self) -> String {
        self.gcp.instance(KEY).unwrap()["status"].as_str().unwrap().to_string()
    }
    /// The stack applied and its node stopped (idle): (environment, stack directory).
    fn applied_and_stopped(&self) -> (Vec<(&'static str, String)>, tempfile::TempDir) {
        let env = self.env();
        let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
        let r = gantry(&["apply", dir.path().to_str().unwrap(), "--auto-approve"], &env, dir.path());
        assert_eq!(r.code, 0, "{}", r.all());
        self.gcp.guest_shutdown(KEY);
        (env, dir)
    }
    fn metadata(&self, key: &str) -> Option<String> {
        let inst = self.gcp.instance(KEY).unwrap();
        inst["metadata"]["items"].as_array()?.iter().find(|i| i["key"] == key).and_then(|i| i["value"].as_str().map(String::from))
    }
}

const WAKE: &[&str] = &["runner", "wake", "gpu-ci-runner", "--project", "gpu-ci", "--zone", "us-central1-a"];

#[test]
fn an_idle_runner_node_is_stopped_and_a_queued_job_starts_it() {
    let f = fakes();
    let _guard = f.rt.enter();
    let env = f.env();
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    let r = gantry(&["apply", d, "--auto-approve"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let script = f.metadata("startup-script").unwrap();
    assert!(script.contains("gantry-runner-loop") && !script.contains("buildkite"), "a runner, not an agent");
    assert_eq!(f.metadata("github-runner-labels").as_deref(), Some("self-hosted,linux,x64,gpu-l4"));

    // Idle for idle_stop: the machine shut itself down.
    f.gcp.guest_shutdown(KEY);
    assert_eq!(f.status(), "TERMINATED");
    // A stopped node is no drift: the plan stays empty.
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // Nothing queued for its labels: wake leaves it stopped.
    f.gh.queue_job(REPO, &["ubuntu-latest"]);
    let r = gantry(WAKE, &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("no job queued for [self-hosted, linux, x64, gpu-l4]"), "{}", r.all());
    assert_eq!(f.status(), "TERMINATED");
    assert!(f.gh.runners().is_empty());

    // A GPU job is queued: a runner is registered, its configuration is in
    // the node's metadata, the node starts.
    let job = f.gh.queue_job(REPO, &["self-hosted", "gpu-l4"]);
    let op_reads = || f.gcp.requests().get("compute.operation").copied().unwrap_or(0);
    let before = op_reads();
    let r = gantry(WAKE, &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(f.status(), "RUNNING", "{}", r.all());
    // The wake identity holds a role on this instance only: reading a zone
    // operation would need compute.zoneOperations.get on the project.
    assert_eq!(op_reads(), before, "wake reads the instance, never an operation");
    let runners = f.gh.runners();
    assert_eq!(runners.len(), 1);
    assert!(runners[0].name.starts_with("gpu-ci-runner-"), "{runners:?}");
    assert_eq!(runners[0].labels, ["self-hosted", "linux", "x64", "gpu-l4"]);
    let config = f.metadata("gantry-runner-jitconfig");
    assert!(config.as_ref().is_some_and(|c| !c.is_empty()));
    assert!(!r.all().contains("BEGIN RSA"), "the App key is never printed");

    // A second wake while the node boots (its runner not connected yet)
    // leaves the booting machine's registration and configuration alone.
    let r = gantry(WAKE, &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("it takes the job when it connects"), "{}", r.all());
    assert_eq!(f.gh.runners(), runners, "no registration deleted or added");
    assert_eq!(f.metadata("gantry-runner-jitconfig"), config, "the configuration the machine boots with is kept");

    // The configuration the waker left is the node's, not drift; an apply keeps it.
    let r = gantry(&["plan", d, "--detailed-exitcode"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // A second wake while that runner is online and idle registers nothing more.
    f.gh.runner_online(&runners[0].name).unwrap();
    let r = gantry(WAKE, &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("is online and idle; it takes the job"), "{}", r.all());
    assert_eq!(f.gh.runners().len(), 1);
    f.gh.start_job(job.id, runners[0].id);
    f.gh.finish_job(job.id, runners[0].id);
    assert_eq!(f.gh.unversioned_requests(), 0, "every request names the API version");
}

#[test]
fn a_job_queued_past_the_limit_has_its_run_cancelled() {
    let f = fakes();
    let _guard = f.rt.enter();
    let (env, dir) = f.applied_and_stopped();
    let job = f.gh.queue_job(REPO, &["self-hosted", "gpu-l4"]);
    f.gh.backdate_job(job.id, 3600);
    let mut args = WAKE.to_vec();
    args.extend(["--queued-timeout", "30m"]);
    let r = gantry(&args, &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(&format!("cancelled run {}", job.run_id)), "{}", r.all());
    assert_eq!(f.gh.job(job.id).unwrap().conclusion.as_deref(), Some("cancelled"));
    // A job already past the limit boots no GPU machine.
    assert_eq!(f.status(), "TERMINATED", "{}", r.all());
    assert!(f.gh.runners().is_empty(), "no runner registered for a cancelled job");

    // Credentials missing: a clear error before anything is touched.
    let bad: Vec<(&'static str, String)> = env.iter().filter(|(k, _)| *k != "GANTRY_GITHUB_APP_KEY").cloned().collect();
    let r = gantry(WAKE, &bad, dir.path());
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("GANTRY_GITHUB_APP_KEY") || r.stderr.contains("app-key"), "{}", r.all());
}

/// While it waits for the job to be picked up, wake reads the job
/// conditionally (unchanged → 304, free of the primary limit), waits out a
/// secondary rate limit instead of failing, and names the API version on
/// every request.
#[test]
fn a_waiting_wake_reads_cheaply_and_waits_out_a_rate_limit() {
    let f = fakes();
    let _guard = f.rt.enter();
    let (env, dir) = f.applied_and_stopped();
    let job = f.gh.queue_job(REPO, &["self-hosted", "gpu-l4"]);
    let mut args: Vec<String> = WAKE.iter().map(|s| s.to_string()).collect();
    args.extend(["--queued-timeout", "30m", "--poll", "1s"].map(String::from));
    let (wake_env, cwd) = (env.clone(), dir.path().to_path_buf());
    let waker = std::thread::spawn(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        gantry(&a, &wake_env, &cwd)
    });
    // The node started and the runner is registered; the job is still queued.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (f.status() != "RUNNING" || f.gh.runners().is_empty()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The first look costs a request, so the next one comes after the
    // budget's spacing (5,000 left, a tenth of it: ~8 s); it finds the job
    // unchanged and costs nothing.
    let wait_for_304s = |n: u64| {
        while f.gh.not_modified() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(f.gh.not_modified() >= n, "an unchanged job is read with If-None-Match and answered 304");
    };
    wait_for_304s(1);
    // A look that cost nothing is followed by the next one at the poll interval.
    let before = f.gh.rate_limit_remaining();
    wait_for_304s(3);
    assert_eq!(f.gh.rate_limit_remaining(), before, "304s spend nothing of the primary limit");
    f.gh.secondary_limit_next(2);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // The runner connects and takes the job.
    let runner = f.gh.runner_online(&f.gh.runners()[0].name).unwrap();
    f.gh.start_job(job.id, runner);
    let r = waker.join().unwrap();
    assert_eq!(r.code, 0, "wake waits out a rate limit rather than failing: {}", r.all());
    assert!(r.stdout.contains("rate limit is spent; waiting"), "{}", r.all());
    assert!(r.stdout.contains("every queued job was picked up"), "{}", r.all());
    assert_eq!(f.gh.job(job.id).unwrap().conclusion, None, "nothing cancelled");
    assert_eq!(f.gh.unversioned_requests(), 0, "every request names the API version");
}

/// Three wakes at once for one queued job: each finishes, the node runs,
/// and the configuration the node boots with belongs to a registration
/// that still exists (no wake deleted the one another left).
#[test]
fn concurrent_wakes_leave_the_booting_node_a_live_configuration() {
    let f = fakes();
    let _guard = f.rt.enter();
    let (env, dir) = f.applied_and_stopped();
    f.gh.queue_job(REPO, &["self-hosted", "gpu-l4"]);
    let wakes: Vec<_> = (0..3)
        .map(|_| {
            let (e, cwd) = (env.clone(), dir.path().to_path_buf());
            std::thread::spawn(move || gantry(WAKE, &e, &cwd))
        })
        .collect();
    for w in wakes {
        let r = w.join().unwrap();
        assert_eq!(r.code, 0, "{}", r.all());
    }
    assert_eq!(f.status(), "RUNNING");
    let config = f.metadata("gantry-runner-jitconfig").expect("a configuration for the node");
    use base64::Engine;
    let decoded: serde_json::Value = serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(&config).unwrap()).unwrap();
    let id = decoded[".runner"]["agentId"].as_u64().unwrap();
    let runners = f.gh.runners();
    assert!(runners.iter().any(|r| r.id == id), "the node's configuration is for a live registration: {id} not in {runners:?}");
    // And a later wake while it boots changes nothing.
    let r = gantry(WAKE, &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(f.metadata("gantry-runner-jitconfig").as_deref(), Some(config.as_str()));
    assert_eq!(f.gh.runners(), runners);
}
