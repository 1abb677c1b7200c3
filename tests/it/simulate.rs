//! `gantry simulate` through the CLI: a stack's queue over a recorded
//! trace, as written and with a change, figures with known answers.

use crate::support::{gantry, stack_dir};
use serde_json::Value;

const STACK: &str = r#"stack "sim" {
  aws {
    region = "us-east-1"
  }
}

agent_queue "gpu" {
  instance_types        = ["g6.4xlarge"]
  max_size              = 10
  agent_token_parameter = "/bk/token"
  scale_in_idle         = "5m"
}
"#;

#[test]
fn a_queue_replays_a_trace_as_written_and_changed() {
    // Six one-hour jobs at once: ten machines run them after one boot;
    // three machines run three, then the other three an hour later.
    let trace: String = std::iter::once("arrival,duration\n".to_string()).chain((0..6).map(|_| "0,3600\n".to_string())).collect();
    let dir = stack_dir(&[("main.gantry.hcl", STACK), ("jobs.csv", &trace)]);
    let d = dir.path().to_str().unwrap();
    let svg = dir.path().join("gpu.svg");
    let args = [
        "simulate",
        "gpu",
        "-d",
        d,
        "--trace",
        "jobs.csv",
        "--boot-time",
        "2m",
        "--set",
        "max_size=3",
        "--hourly-price",
        "1.5",
        "--json",
        "--svg",
        svg.to_str().unwrap(),
    ];
    let r = gantry(&args, &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let (written, capped) = (&doc["runs"][0], &doc["runs"][1]);
    assert_eq!((written["label"].as_str(), capped["label"].as_str()), (Some("as written"), Some("max_size=3")));
    assert_eq!((written["wait_p50_secs"].as_f64(), written["wait_max_secs"].as_f64()), (Some(120.0), Some(120.0)));
    assert_eq!((capped["wait_p50_secs"].as_f64(), capped["wait_max_secs"].as_f64()), (Some(120.0), Some(3720.0)));
    assert_eq!((written["peak_instances"].as_u64(), capped["peak_instances"].as_u64()), (Some(6), Some(3)));
    // Six machines of boot + job (6.2 h), then the scaler's scale-in: one
    // instance per step, each step after a full 5m of surplus (the clock
    // restarts), so they go at +5, +10, ... +30 minutes: 1.75 h idle tail.
    let hours = written["instance_hours"].as_f64().unwrap();
    assert!((7.9..=8.0).contains(&hours), "{hours}");
    assert!((written["cost"].as_f64().unwrap() - hours * 1.5).abs() < 1e-9);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"), "the picture is written");

    // The text table, and the errors a user meets.
    let r = gantry(&["simulate", "gpu", "-d", d, "--profile", "burst:jobs=2,duration=10m"], &[], dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("wait p95"), "{}", r.stdout);
    // No --hourly-price: the price book's, for the queue's first type, said where from.
    assert!(r.stdout.contains("cost: g6.4xlarge at $1.3232/h in us-east-1 (prices of 2026-12-04, gantry's bundled snapshot)"), "{}", r.stdout);
    let r = gantry(&["simulate", "cpu", "-d", d, "--profile", "burst"], &[], dir.path());
    assert!(r.code != 0 && r.stderr.contains("no agent_queue \"cpu\"") && r.stderr.contains("agent_queue.gpu"), "{}", r.all());
    let r = gantry(&["simulate", "gpu", "-d", d, "--profile", "burst", "--set", "scaler.scale_out_factor=7"], &[], dir.path());
    assert!(r.code != 0 && r.stderr.contains("scale_out_factor=7"), "the scaler's own contract judges --set: {}", r.all());
    std::fs::write(dir.path().join("bad.csv"), "arrival,duration\n5,-1\n").unwrap();
    let r = gantry(&["simulate", "gpu", "-d", d, "--trace", "bad.csv"], &[], dir.path());
    assert!(r.code != 0 && r.stderr.contains("job 1"), "{}", r.all());
}

/// Demand read from Buildkite's REST API (the in-repo fake): every page of
/// builds, the queue's command jobs only, arrival = runnable_at, duration
/// = finished_at - started_at.
#[test]
fn a_queue_replays_its_recent_buildkite_jobs() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let bk = rt.block_on(gantry_emulators::buildkite::FakeBuildkite::start(0, "bk-token")).unwrap();
    let now = std::time::SystemTime::now();
    let at = |secs_ago: u64| humantime::format_rfc3339_millis(now - std::time::Duration::from_secs(secs_ago)).to_string();
    // 120 builds over the last two hours (two pages of 100), one every 50 s:
    // each a gpu job of ten minutes, a cpu job, a wait step; one older
    // build is left out.
    for i in 0..120u64 {
        let t = 7200 - i * 50;
        let job = |queue: &str, run: u64| {
            serde_json::json!({"type": "script", "agent_query_rules": [format!("queue={queue}")], "scheduled_at": at(t),
                               "runnable_at": at(t), "started_at": at(t - 30), "finished_at": at(t - 30 - run)})
        };
        let build = serde_json::json!({"created_at": at(t), "jobs": [job("gpu", 600), job("cpu", 60), {"type": "waiter"}]});
        bk.add_build("vllm", build);
    }
    bk.add_build(
        "vllm",
        serde_json::json!({"created_at": at(3 * 86400), "jobs": [{"type": "script", "agent_query_rules": ["queue=gpu"],
        "runnable_at": at(3 * 86400), "started_at": at(3 * 86400 - 5), "finished_at": at(3 * 86400 - 65)}]}),
    );
    let dir = stack_dir(&[("main.gantry.hcl", STACK)]);
    let d = dir.path().to_str().unwrap();
    let env = vec![("GANTRY_BUILDKITE_API", format!("{}/v2", bk.endpoint())), ("BUILDKITE_API_TOKEN", "bk-token".to_string())];
    let r = gantry(&["simulate", "gpu", "-d", d, "--buildkite", "acme/vllm", "--since", "3h", "--json"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["jobs"], 120, "the gpu queue's jobs of the last 3h: {}", r.stdout);
    assert_eq!(bk.rest_requests(), 2, "both pages");
    // A ten-minute job every 50 s: twelve machines or so, each job waits a boot.
    let run = &doc["runs"][0];
    assert!(run["peak_instances"].as_u64().unwrap() >= 10 && run["wait_max_secs"].as_f64().unwrap() >= 180.0, "{run}");

    let r = gantry(&["simulate", "tpu", "-d", d, "--buildkite", "acme"], &env, dir.path());
    assert!(r.code != 0 && r.stderr.contains("no agent_queue \"tpu\""), "{}", r.all());
    let mut other = STACK.replace("agent_queue \"gpu\"", "agent_queue \"a100\"");
    other.push('\n');
    std::fs::write(dir.path().join("main.gantry.hcl"), other).unwrap();
    let r = gantry(&["simulate", "a100", "-d", d, "--buildkite", "acme/vllm"], &env, dir.path());
    assert!(r.code != 0 && r.stderr.contains("no finished job of queue a100") && r.stderr.contains("cpu, gpu"), "{}", r.all());
    let r = gantry(&["simulate", "a100", "-d", d, "--buildkite", "acme/vllm"], &[env[0].clone()], dir.path());
    assert!(r.code != 0 && r.stderr.contains("BUILDKITE_API_TOKEN"), "{}", r.all());
    let requests = bk.rest_requests();
    let runners = STACK.replace(
        "agent_token_parameter = \"/bk/token\"",
        "github {\n    repository  = \"o/r\"\n    labels      = [\"gpu\"]\n    credentials = \"/ci/github-app\"\n  }",
    );
    std::fs::write(dir.path().join("main.gantry.hcl"), runners).unwrap();
    let r = gantry(&["simulate", "gpu", "-d", d, "--buildkite", "acme/vllm"], &env, dir.path());
    assert!(r.code != 0 && r.stderr.contains("runs GitHub Actions runners"), "{}", r.all());
    assert_eq!(bk.rest_requests(), requests, "refused before any request");
}

/// A runner queue's demand from its repository's workflow history (the
/// fake GitHub): completed runs since the date, every page, the jobs whose
/// labels its runners match.
#[test]
fn a_runner_queue_replays_its_repositorys_recent_jobs() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gh = rt.block_on(gantry_emulators::github::FakeGithub::start(0)).unwrap();
    gh.add_token("ghp_test");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // 300 runs over the last five hours (three pages of runs): a GPU job of
    // 20 minutes each, plus a job for GitHub's hosted runners; one from last week.
    for i in 0..150u64 {
        let t = now - 5 * 3600 + i * 120;
        gh.add_finished_job("o/r", &["self-hosted", "gpu"], t, t + 60, t + 60 + 1200);
        gh.add_finished_job("o/r", &["ubuntu-latest"], t, t + 5, t + 65);
    }
    gh.add_finished_job("o/r", &["self-hosted", "gpu"], now - 8 * 86400, now - 8 * 86400 + 10, now - 8 * 86400 + 70);
    let runners = STACK.replace(
        "agent_token_parameter = \"/bk/token\"",
        "github {\n    repository  = \"o/r\"\n    labels      = [\"gpu\"]\n    credentials = \"/ci/github-app\"\n  }",
    );
    let dir = stack_dir(&[("main.gantry.hcl", &runners)]);
    let d = dir.path().to_str().unwrap();
    let env = vec![("GANTRY_GITHUB_API", gh.endpoint()), ("GITHUB_TOKEN", "ghp_test".to_string())];
    let r = gantry(&["simulate", "gpu", "-d", d, "--github", "--since", "2d", "--json"], &env, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["jobs"], 150, "the GPU jobs of the last two days, not the hosted ones: {}", r.stdout);
    assert!(doc["runs"][0]["peak_instances"].as_u64().unwrap() >= 10, "a 20-minute job every 2 minutes: {}", r.stdout);
    let r = gantry(&["simulate", "gpu", "-d", d, "--github"], &[env[0].clone(), ("GITHUB_TOKEN", "wrong".into())], dir.path());
    assert!(r.code != 0 && r.stderr.contains("401"), "{}", r.all());
}
