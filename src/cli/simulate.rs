//! `gantry simulate QUEUE`: the wait and the bill of a queue over demand,
//! as written and with `--set` changes, side by side, with a picture.

use super::output::Output;
use super::validate::load_options;
use super::{VarArgs, EXIT_ERROR, EXIT_OK};
use crate::ops::simulate::{simulate, Demand, SimulateRequest};
use crate::simulate::report::{duration, table, Price};
use crate::simulate::{svg, Conditions};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub(crate) struct SimulateArgs {
    /// The agent_queue to simulate (its label, or agent_queue.LABEL).
    pub queue: String,
    /// Stack directory.
    #[arg(long, short = 'd', default_value = ".")]
    pub dir: PathBuf,
    /// Jobs to replay: CSV with arrival,duration columns (seconds from the start), or a JSON array of {arrival, duration}.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "buildkite", "github"], required_unless_present_any = ["profile", "buildkite", "github"])]
    pub trace: Option<PathBuf>,
    /// Replay the queue's jobs of recent Buildkite builds (BUILDKITE_API_TOKEN, scope read_builds).
    #[arg(long, value_name = "ORG[/PIPELINE]", conflicts_with = "profile")]
    pub buildkite: Option<String>,
    /// Replay a runner queue's jobs of its repositories' recent workflow runs (GITHUB_TOKEN).
    #[arg(long, conflicts_with_all = ["profile", "buildkite"])]
    pub github: bool,
    /// With --buildkite or --github: builds or runs created this long ago or later.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    pub since: std::time::Duration,
    /// Synthetic demand: burst:jobs=N,duration=D or poisson:rate=R,duration=D,hours=H,seed=S (R jobs an hour).
    #[arg(long, value_name = "SPEC")]
    pub profile: Option<String>,
    /// Compare against the queue with this change (repeatable; all together make one more run), e.g. max_size=32, scaler.instance_buffer=1.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// From launch to the agent taking jobs (instance start, bootstrap, registration).
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = humantime::parse_duration)]
    pub boot_time: std::time::Duration,
    /// Spot interruption notices per spot instance-hour (0: none).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub spot_interruptions: f64,
    /// Seed of the interruption draws (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// On-demand price of one instance-hour (default: the price book's, for the queue's first instance type).
    #[arg(long, value_name = "USD")]
    pub hourly_price: Option<f64>,
    /// Spot price of one instance-hour (default: the on-demand price).
    #[arg(long, value_name = "USD", requires = "hourly_price")]
    pub spot_price: Option<f64>,
    /// Where to write the picture (queued jobs and instances over time).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub vars: VarArgs,
}

pub(super) async fn run(out: &Output, a: SimulateArgs) -> i32 {
    if a.spot_interruptions < 0.0 || !a.spot_interruptions.is_finite() {
        crate::errln!("{} --spot-interruptions is a rate ≥ 0", out.err_style.red("Error:"));
        return EXIT_ERROR;
    }
    let demand = match (&a.trace, &a.profile, &a.buildkite) {
        (Some(t), _, _) => Demand::Trace(t.clone()),
        (None, Some(p), _) => Demand::Profile(p.clone()),
        (None, None, Some(b)) => Demand::Buildkite { source: b.clone(), since: a.since },
        (None, None, None) if a.github => Demand::Github { since: a.since },
        (None, None, None) => unreachable!("clap requires --trace, --profile, --buildkite or --github"),
    };
    let req = SimulateRequest {
        dir: a.dir.clone(),
        load: load_options(&a.vars),
        queue: a.queue.clone(),
        demand,
        alternatives: if a.sets.is_empty() { Vec::new() } else { vec![a.sets.clone()] },
        conditions: Conditions { boot_secs: a.boot_time.as_secs_f64(), spot_interruptions: a.spot_interruptions, seed: a.seed },
        price: a.hourly_price.map(|on_demand| Price { on_demand, spot: a.spot_price }),
    };
    let (loaded, result) = simulate(&req).await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            // Warnings (waived lint findings) are validate's and plan's to
            // show; a failed simulation shows everything.
            out.diagnostics(&loaded);
            return out.error(&e);
        }
    };
    let summaries: Vec<_> = report.runs.iter().map(|r| r.summary.clone()).collect();
    if a.json {
        let doc =
            serde_json::json!({"queue": report.queue, "jobs": report.jobs, "span_secs": report.span_secs, "price": report.price_source, "runs": summaries});
        crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        crate::outln!(
            "{} over {} jobs arriving in {} (boot {}, {} spot interruption(s) per instance-hour):\n",
            report.queue,
            report.jobs,
            duration(report.span_secs),
            duration(req.conditions.boot_secs),
            req.conditions.spot_interruptions
        );
        crate::out!("{}", table(&summaries));
        if let Some(source) = &report.price_source {
            let spot = if report.spot_priced { "" } else { "; spot hours at the on-demand price unless --spot-price" };
            crate::outln!("\ncost: {source}{spot}");
        }
    }
    if let Some(path) = &a.svg {
        let runs: Vec<_> = report.runs.iter().map(|r| (r.summary.label.clone(), r.samples.clone())).collect();
        let picture = svg::render(&format!("gantry simulate {} ({} jobs)", report.queue, report.jobs), &runs);
        if let Err(e) = std::fs::write(path, picture) {
            crate::errln!("{} cannot write {}: {e}", out.err_style.red("Error:"), path.display());
            return EXIT_ERROR;
        }
        crate::errln!("picture: {}", path.display());
    }
    EXIT_OK
}
