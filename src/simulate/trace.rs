//! Demand to replay: a recorded trace (CSV or JSON of arrival and
//! duration in seconds) or a synthetic profile.

use super::Job;

fn check(jobs: Vec<Job>) -> Result<Vec<Job>, String> {
    for (n, r) in jobs.iter().enumerate() {
        if !(r.arrival.is_finite() && r.duration.is_finite() && r.arrival >= 0.0 && r.duration >= 0.0) {
            return Err(format!("job {}: arrival and duration must be seconds ≥ 0 (got {}, {})", n + 1, r.arrival, r.duration));
        }
    }
    if jobs.is_empty() {
        return Err("the trace has no jobs".into());
    }
    Ok(jobs)
}

/// A CSV with a header naming `arrival` and `duration` (seconds from the
/// trace's start; other columns are ignored), or a JSON array of
/// `{"arrival": s, "duration": s}`.
pub(crate) fn parse(text: &str) -> Result<Vec<Job>, String> {
    if text.trim_start().starts_with('[') {
        let rows: Vec<Job> = serde_json::from_str(text).map_err(|e| format!("JSON trace: {e}"))?;
        return check(rows);
    }
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let rows: Result<Vec<Job>, _> = reader.deserialize().collect();
    check(rows.map_err(|e| format!("CSV trace: {e} (columns: arrival,duration in seconds)"))?)
}

fn secs(v: &str) -> Result<f64, String> {
    if let Ok(n) = v.parse::<f64>() {
        return Ok(n);
    }
    humantime::parse_duration(v).map(|d| d.as_secs_f64()).map_err(|e| format!("{v}: {e}"))
}

/// A synthetic profile:
/// - `burst:jobs=N,duration=D` — N jobs at once, each running D;
/// - `poisson:rate=R,duration=D,hours=H,seed=S` — Poisson arrivals at R
///   jobs an hour for H hours, durations exponential around D.
pub(crate) fn synthetic(spec: &str) -> Result<Vec<Job>, String> {
    let (kind, args) = spec.split_once(':').unwrap_or((spec, ""));
    let mut get = std::collections::BTreeMap::new();
    for kv in args.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("profile {spec}: expected key=value, got {kv}"))?;
        get.insert(k.trim(), v.trim());
    }
    let num = |k: &str, d: f64| -> Result<f64, String> { get.get(k).map(|v| secs(v)).transpose().map(|v| v.unwrap_or(d)) };
    let jobs = match kind {
        "burst" => {
            let (n, d) = (num("jobs", 10.0)?, num("duration", 600.0)?);
            (0..n as usize).map(|_| Job { arrival: 0.0, duration: d }).collect()
        }
        "poisson" => {
            let (rate, d, hours) = (num("rate", 60.0)?, num("duration", 600.0)?, num("hours", 24.0)?);
            let mut rng = fastrand::Rng::with_seed(num("seed", 1.0)? as u64);
            let exp = |rng: &mut fastrand::Rng, mean: f64| -mean * rng.f64().max(f64::MIN_POSITIVE).ln();
            let (mut t, mut out) = (0.0, Vec::new());
            loop {
                t += exp(&mut rng, 3600.0 / rate.max(1e-9));
                if t > hours * 3600.0 {
                    break;
                }
                out.push(Job { arrival: t, duration: exp(&mut rng, d) });
            }
            out
        }
        other => return Err(format!("unknown profile {other}: burst:jobs=N,duration=D or poisson:rate=R,duration=D,hours=H,seed=S")),
    };
    check(jobs)
}

/// Jobs from recorded (ready time, seconds run) pairs, the earliest at 0.
pub(crate) fn from_times(times: &[(std::time::SystemTime, f64)]) -> Vec<Job> {
    let Some(first) = times.iter().map(|(t, _)| *t).min() else { return Vec::new() };
    times.iter().map(|(t, d)| Job { arrival: t.duration_since(first).unwrap_or_default().as_secs_f64(), duration: d.max(0.0) }).collect()
}
