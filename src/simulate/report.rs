//! What a run means to a reviewer: waits, instance-hours, cost; and runs
//! side by side.

use super::Outcome;
use std::fmt::Write;

/// The figures of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Summary {
    pub label: String,
    pub jobs: usize,
    pub wait_p50_secs: f64,
    pub wait_p95_secs: f64,
    pub wait_max_secs: f64,
    pub instance_hours: f64,
    pub idle_instance_hours: f64,
    pub spot_instance_hours: f64,
    pub peak_instances: u32,
    pub interrupted_runs: u32,
    /// Jobs lost to interruptions more often than retried.
    pub failed_jobs: u32,
    /// Jobs not run when the simulation stopped (a week after the last arrival).
    pub unfinished: usize,
    /// With an hourly price: instance-hours × price (spot hours at the spot price when given).
    pub cost: Option<f64>,
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Prices per instance-hour: on demand, and spot when it differs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Price {
    pub on_demand: f64,
    pub spot: Option<f64>,
}

pub(crate) fn summarize(label: &str, o: &Outcome, price: Option<Price>) -> Summary {
    let mut waits: Vec<f64> = o.waits.iter().copied().filter(|w| !w.is_nan()).collect();
    waits.sort_by(f64::total_cmp);
    let hours = |s: f64| s / 3600.0;
    let cost = price.map(|p| hours(o.instance_secs - o.spot_secs) * p.on_demand + hours(o.spot_secs) * p.spot.unwrap_or(p.on_demand));
    Summary {
        label: label.to_string(),
        jobs: waits.len(),
        wait_p50_secs: percentile(&waits, 50.0),
        wait_p95_secs: percentile(&waits, 95.0),
        wait_max_secs: waits.last().copied().unwrap_or(0.0),
        instance_hours: hours(o.instance_secs),
        idle_instance_hours: hours(o.idle_secs),
        spot_instance_hours: hours(o.spot_secs),
        peak_instances: o.peak_instances,
        interrupted_runs: o.interrupted_runs,
        failed_jobs: o.failed_jobs,
        unfinished: o.unfinished,
        cost,
    }
}

/// `1h02m`, `3m10s`, `45s`.
pub(crate) fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// How a row shows one run's figure.
type Cell = fn(&Summary) -> String;

/// The runs as columns, one row per figure.
pub(crate) fn table(runs: &[Summary]) -> String {
    let rows: [(&str, Cell); 12] = [
        ("jobs", |s: &Summary| s.jobs.to_string()),
        ("wait p50", |s: &Summary| duration(s.wait_p50_secs)),
        ("wait p95", |s: &Summary| duration(s.wait_p95_secs)),
        ("wait max", |s: &Summary| duration(s.wait_max_secs)),
        ("instance-hours", |s: &Summary| format!("{:.1}", s.instance_hours)),
        ("idle instance-hours", |s: &Summary| format!("{:.1}", s.idle_instance_hours)),
        ("spot instance-hours", |s: &Summary| format!("{:.1}", s.spot_instance_hours)),
        ("peak instances", |s: &Summary| s.peak_instances.to_string()),
        ("runs lost to spot", |s: &Summary| s.interrupted_runs.to_string()),
        ("jobs failed (lost 3x)", |s: &Summary| s.failed_jobs.to_string()),
        ("jobs never run", |s: &Summary| s.unfinished.to_string()),
        ("cost", |s: &Summary| s.cost.map_or("(not priced: --hourly-price)".into(), |c| format!("${c:.2}"))),
    ];
    let width = runs.iter().map(|r| r.label.len()).max().unwrap_or(0).max(28);
    let mut out = String::new();
    let _ = write!(out, "{:<22}", "");
    for r in runs {
        let _ = write!(out, "  {:<width$}", r.label);
    }
    out.push('\n');
    for (name, f) in &rows {
        let _ = write!(out, "{name:<22}");
        for r in runs {
            let _ = write!(out, "  {:<width$}", f(r));
        }
        out.push('\n');
    }
    out
}
