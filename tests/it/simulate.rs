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
