use super::report::{summarize, Price};
use super::*;
use gantry_scaler::decide::Settings;

fn queue(max: u32) -> QueueModel {
    QueueModel { settings: Settings::default(), poll_secs: 10.0, min: 0, max, terminate_after_job: false, on_demand_percentage: 100 }
}

fn calm() -> Conditions {
    Conditions { boot_secs: 120.0, spot_interruptions: 0.0, seed: 7 }
}

fn burst(n: usize, duration: f64) -> Vec<Job> {
    vec![Job { arrival: 0.0, duration }; n]
}

#[test]
fn a_burst_within_capacity_waits_exactly_the_boot_time() {
    let o = run(&queue(10), &calm(), &burst(5, 600.0));
    assert!(o.waits.iter().all(|w| *w == 120.0), "{:?}", o.waits);
    assert_eq!(o.peak_instances, 5);
}

#[test]
fn a_burst_past_max_size_waits_for_a_job_to_finish() {
    let o = run(&queue(10), &calm(), &burst(20, 600.0));
    let s = summarize("x", &o, None);
    assert_eq!((s.wait_p50_secs, s.wait_p95_secs, s.wait_max_secs), (120.0, 720.0, 720.0));
    assert_eq!(o.peak_instances, 10);
}

#[test]
fn agents_per_instance_share_machines() {
    let q = QueueModel { settings: Settings { agents_per_instance: 4, ..Settings::default() }, ..queue(10) };
    let o = run(&q, &calm(), &burst(8, 600.0));
    assert_eq!(o.peak_instances, 2);
    assert!(o.waits.iter().all(|w| *w == 120.0));
}

#[test]
fn one_job_per_instance_bills_boot_and_job_only() {
    let q = QueueModel { terminate_after_job: true, ..queue(10) };
    let o = run(&q, &calm(), &burst(3, 600.0));
    assert!((o.instance_secs - 3.0 * 720.0).abs() < 1e-6, "{}", o.instance_secs);
    assert!((o.idle_secs - 3.0 * 120.0).abs() < 1e-6, "only the boot is idle: {}", o.idle_secs);
    let s = summarize("x", &o, Some(Price { on_demand: 2.0, spot: None }));
    assert!((s.cost.unwrap() - 1.2).abs() < 1e-9, "0.6 instance-hours at $2");
}

#[test]
fn idle_capacity_goes_after_scale_in_idle() {
    let o = run(&queue(10), &calm(), &burst(1, 600.0));
    // Boot 120 s + job 600 s + 600 s surplus before the scale-in, to the next poll.
    assert!((1320.0..=1330.0).contains(&o.instance_secs), "{}", o.instance_secs);
    let longer = QueueModel { settings: Settings { scale_in_idle_secs: 1800, ..Settings::default() }, ..queue(10) };
    let o2 = run(&longer, &calm(), &burst(1, 600.0));
    assert!((o2.instance_secs - o.instance_secs - 1200.0).abs() <= 10.0, "{} vs {}", o2.instance_secs, o.instance_secs);
    assert!(o2.idle_secs > o.idle_secs);
}

#[test]
fn spot_interruptions_retry_lost_runs_and_every_job_finishes() {
    let q = QueueModel { on_demand_percentage: 0, ..queue(10) };
    let c = Conditions { spot_interruptions: 3.0, ..calm() };
    let jobs = trace::synthetic("poisson:rate=30,duration=20m,hours=4,seed=3").unwrap();
    let o = run(&q, &c, &jobs);
    assert!(o.interrupted_runs > 0, "an interruption every 20 minutes hits running jobs");
    assert_eq!(o.unfinished, 0, "every job ran to its end or used up its retries");
    assert!(o.failed_jobs > 0, "long jobs under constant interruption exhaust their retries");
    assert!((o.spot_secs - o.instance_secs).abs() < 1e-6, "all spot");
    // Same seed, same run.
    assert_eq!(run(&q, &c, &jobs), o);
    let calm_run = run(&q, &calm(), &jobs);
    assert!(summarize("a", &o, None).wait_p95_secs > summarize("b", &calm_run, None).wait_p95_secs);
}

#[test]
fn an_on_demand_share_splits_the_group() {
    let q = QueueModel { on_demand_percentage: 50, ..queue(10) };
    let o = run(&q, &calm(), &burst(4, 3600.0));
    // Two of four launched on demand; the spot ones, launched last, go first at scale-in.
    assert!((o.spot_secs / o.instance_secs - 0.5).abs() < 0.05, "{} of {}", o.spot_secs, o.instance_secs);
}

#[test]
fn min_size_keeps_machines_warm() {
    let q = QueueModel { min: 2, ..queue(10) };
    let jobs = vec![Job { arrival: 600.0, duration: 300.0 }];
    let o = run(&q, &calm(), &jobs);
    assert_eq!(o.waits, vec![0.0], "a warm agent takes it at once");
}

#[test]
fn traces_parse_from_csv_and_json_and_refuse_nonsense() {
    let csv = "arrival,duration,pipeline\n0,60,a\n30, 120 ,b\n";
    assert_eq!(trace::parse(csv).unwrap(), vec![Job { arrival: 0.0, duration: 60.0 }, Job { arrival: 30.0, duration: 120.0 }]);
    assert_eq!(trace::parse(r#"[{"arrival": 5, "duration": 6}]"#).unwrap(), vec![Job { arrival: 5.0, duration: 6.0 }]);
    assert!(trace::parse("arrival,duration\n-1,5\n").unwrap_err().contains("job 1"));
    assert!(trace::parse("when,how\n1,2\n").unwrap_err().contains("arrival,duration"));
    assert_eq!(trace::synthetic("burst:jobs=3,duration=5m").unwrap(), vec![Job { arrival: 0.0, duration: 300.0 }; 3]);
    assert!(trace::synthetic("daily:x=1").is_err());
}

#[test]
fn set_changes_top_level_and_block_attributes_as_the_schema_allows() {
    let mut a = State::new();
    set(&mut a, "max_size=32").unwrap();
    set(&mut a, "scaler.instance_buffer=1").unwrap();
    set(&mut a, "scale_in_idle=\"5m\"").unwrap();
    set(&mut a, "terminate_after_job=true").unwrap();
    assert_eq!(
        serde_json::Value::Object(a.clone()),
        serde_json::json!({"max_size": 32, "scaler": {"instance_buffer": 1}, "scale_in_idle": "5m", "terminate_after_job": true})
    );
    assert!(set(&mut a, "max_size=abc").unwrap_err().contains("--set max_size"), "a wrong type is refused, not read as 0");
    assert!(set(&mut a, "max_size=20000").unwrap_err().contains("out of range"));
    assert!(set(&mut a, "max_sise=3").unwrap_err().contains("not an agent_queue attribute"));
    assert!(set(&mut a, "scaler.nope=1").is_err());
}

#[test]
fn a_queue_that_cannot_run_stops_at_the_horizon_and_says_so() {
    let o = run(&queue(0), &calm(), &burst(2, 60.0));
    assert_eq!(o.unfinished, 2);
    assert!(o.waits.iter().all(|w| w.is_nan()));
    let s = summarize("x", &o, None);
    assert_eq!((s.jobs, s.unfinished, s.wait_max_secs), (0, 2, 0.0));
}
