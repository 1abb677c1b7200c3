//! `gantry simulate`: one queue of a stack, as written and with `--set`
//! changes, replayed over a trace or a profile (see `crate::simulate`).
//! No network: the stack is loaded as `validate` loads it.

use super::OpsError;
use crate::config::{load_dir, LoadOptions, Loaded};
use crate::simulate::report::{summarize, Price, Summary};
use crate::simulate::{self, Conditions, Job, Sample};
use std::path::PathBuf;

/// Where demand comes from.
#[derive(Debug, Clone)]
pub(crate) enum Demand {
    /// A CSV or JSON file of arrival,duration (seconds).
    Trace(PathBuf),
    /// A synthetic profile (`burst:...`, `poisson:...`).
    Profile(String),
    /// The queue's jobs in Buildkite builds (`ORG` or `ORG/PIPELINE`) created this long ago or later.
    Buildkite { source: String, since: std::time::Duration },
    /// A runner queue's jobs in its repositories' completed workflow runs created this long ago or later.
    Github { since: std::time::Duration },
}

/// What to simulate.
#[derive(Debug, Clone)]
pub(crate) struct SimulateRequest {
    pub dir: PathBuf,
    pub load: LoadOptions,
    /// `gpu_l4`, `agent_queue.gpu_l4` or an instance address.
    pub queue: String,
    pub demand: Demand,
    /// Each `--set` group is one more run beside the stack as written.
    pub alternatives: Vec<Vec<String>>,
    pub conditions: Conditions,
    /// `--hourly-price`; without it, the price book's price of the
    /// queue's first instance type in its region.
    pub price: Option<Price>,
}

/// One run: its figures and its samples for the picture.
pub(crate) struct SimRun {
    pub summary: Summary,
    pub samples: Vec<Sample>,
}

pub(crate) struct SimulateReport {
    pub queue: String,
    /// Where the cost came from (`--hourly-price`, or the price book and its date).
    pub price_source: Option<String>,
    /// Spot hours have a spot price (`--spot-price`, or the book's).
    pub spot_priced: bool,
    pub jobs: usize,
    pub span_secs: f64,
    pub runs: Vec<SimRun>,
}

/// A runner queue's finished jobs of its repositories (those whose
/// `runs-on` labels its runners match, as the scaler matches them).
async fn github_jobs(attrs: &crate::core::State, stack: &str, queue: &str, since: std::time::Duration) -> Result<Vec<Job>, OpsError> {
    use crate::kinds::agent_queue::{github, AgentQueue};
    let block = crate::core::read_spec(&AgentQueue, attrs).map_err(OpsError::Usage)?;
    let g = github::spec(&block, stack, queue).ok_or_else(|| OpsError::Usage(format!("{queue} runs no GitHub Actions runners (use --buildkite)")))?;
    let api = crate::cloud::github::RestRepositories::from_env()?;
    let since_date = humantime::format_rfc3339_seconds(std::time::SystemTime::now() - since).to_string()[..10].to_string();
    let parse = |t: &Option<String>| crate::cloud::api_time(t.as_deref());
    let mut times = Vec::new();
    let repos = g.scope.polled(&g.repositories);
    for repo in &repos {
        for j in api.finished_jobs(repo, &since_date).await? {
            let (Some(created), Some(start), Some(end)) = (parse(&j.created_at), parse(&j.started_at), parse(&j.completed_at)) else { continue };
            if gantry_scaler::github::labels_match(&j.labels, &g.labels) {
                times.push((created, end.duration_since(start).unwrap_or_default().as_secs_f64()));
            }
        }
    }
    if times.is_empty() {
        return Err(OpsError::Usage(format!(
            "no finished job for the runners' labels [{}] in {}'s workflow runs since {since_date}",
            g.labels.join(", "),
            repos.join(", ")
        )));
    }
    Ok(simulate::trace::from_times(&times))
}

/// The jobs to replay for `queue` (its evaluated block, and its name in the CI).
async fn demand(d: &Demand, dir: &std::path::Path, stack: &str, attrs: &crate::core::State, queue: &str) -> Result<Vec<Job>, OpsError> {
    match d {
        Demand::Github { since } => github_jobs(attrs, stack, queue, *since).await,
        Demand::Buildkite { source, since } => {
            let from = std::time::SystemTime::now() - *since;
            let ran = crate::cloud::buildkite::ran_jobs(source, from).await?;
            let times: Vec<(std::time::SystemTime, f64)> = ran.iter().filter(|j| j.queue == queue).map(|j| (j.runnable_at, j.ran_for.as_secs_f64())).collect();
            if times.is_empty() {
                let seen: std::collections::BTreeSet<&str> = ran.iter().map(|j| j.queue.as_str()).collect();
                return Err(OpsError::Usage(format!(
                    "no finished job of queue {queue} in {source}'s builds of the last {} (queues seen: {})",
                    humantime::format_duration(*since),
                    if seen.is_empty() { "none".to_string() } else { seen.into_iter().collect::<Vec<_>>().join(", ") }
                )));
            }
            Ok(simulate::trace::from_times(&times))
        }
        Demand::Profile(p) => simulate::trace::synthetic(p).map_err(OpsError::Usage),
        Demand::Trace(path) => {
            // A trace is the user's own file from the command line (not a
            // stack file), read with the same size limit.
            let path = if path.is_absolute() { path.clone() } else { std::env::current_dir().map(|c| c.join(path)).unwrap_or_else(|_| dir.join(path)) };
            let bytes = crate::core::bounded::read_limited(&path, crate::core::bounded::ARTIFACT_LIMIT)
                .map_err(|e| OpsError::Usage(format!("{}: {e}", path.display())))?;
            simulate::trace::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| OpsError::Usage(format!("{}: {e}", path.display())))
        }
    }
}

/// Loads the stack, finds the queue, runs it as written and per alternative.
pub(crate) async fn simulate(req: &SimulateRequest) -> (Loaded, Result<SimulateReport, OpsError>) {
    let loaded = load_dir(&req.dir, &req.load, &super::language());
    let Some(stack) = loaded.stack.as_ref() else {
        let e = OpsError::config(&loaded);
        return (loaded, Err(e));
    };
    let want = req.queue.strip_prefix("agent_queue.").unwrap_or(&req.queue);
    let queues: Vec<_> = stack.resources.iter().filter(|r| r.kind == "agent_queue").collect();
    let found = queues.iter().find(|r| r.address == format!("agent_queue.{want}") || r.block_address == format!("agent_queue.{want}"));
    let Some(queue) = found else {
        let names: Vec<&str> = queues.iter().map(|r| r.address.as_str()).collect();
        let e = OpsError::Usage(format!(
            "no agent_queue \"{want}\" in stack \"{}\" (queues: {})",
            stack.name,
            if names.is_empty() { "none".into() } else { names.join(", ") }
        ));
        return (loaded, Err(e));
    };
    let block = match crate::core::read_spec(&crate::kinds::agent_queue::AgentQueue, &queue.attrs) {
        Ok(b) => b,
        Err(e) => return (loaded, Err(OpsError::Usage(e))),
    };
    let queue_name = if block.name.is_empty() { want.to_string() } else { block.name.clone() };
    if matches!(req.demand, Demand::Buildkite { .. }) && block.github.is_some() {
        let e = OpsError::Usage(format!("{} runs GitHub Actions runners: its jobs are not in Buildkite (use --trace or --profile)", queue.address));
        return (loaded, Err(e));
    }
    let jobs = match demand(&req.demand, &req.dir, &stack.name, &queue.attrs, &queue_name).await {
        Ok(j) => j,
        Err(e) => return (loaded, Err(e)),
    };
    let result = (|| {
        let mut variants = vec![("as written".to_string(), queue.attrs.clone())];
        for sets in &req.alternatives {
            let mut attrs = queue.attrs.clone();
            for s in sets {
                simulate::set(&mut attrs, s).map_err(OpsError::Usage)?;
            }
            variants.push((sets.join(" "), attrs));
        }
        let mut runs = Vec::new();
        let mut price_source = req.price.map(|_| "--hourly-price".to_string());
        let mut spot_priced = false;
        let book = if req.price.is_none() { crate::cost::prices::PriceBook::current().ok() } else { None };
        for (label, attrs) in variants {
            let model = simulate::model(&attrs).map_err(|e| OpsError::Usage(format!("{label}: {e}")))?;
            let out = simulate::run(&model, &req.conditions, &jobs);
            let price = match req.price {
                Some(p) => Some(p),
                None => {
                    let block = crate::core::read_spec(&crate::kinds::agent_queue::AgentQueue, &attrs).ok();
                    book.as_ref().zip(block).and_then(|(b, block)| book_price(b, &block, &stack.env.region))
                }
                .map(|(p, source)| {
                    price_source = Some(source);
                    p
                }),
            };
            spot_priced = price.is_some_and(|p| p.spot.is_some());
            runs.push(SimRun { summary: summarize(&label, &out, price), samples: out.samples });
        }
        let first = jobs.iter().map(|j| j.arrival).fold(f64::INFINITY, f64::min);
        let last = jobs.iter().map(|j| j.arrival).fold(0.0, f64::max);
        Ok(SimulateReport { queue: queue.address.clone(), price_source, spot_priced, jobs: jobs.len(), span_secs: last - first, runs })
    })();
    (loaded, result)
}

/// The price book's on-demand (and spot, when it has one) price of the
/// queue's first (primary) instance type in its region, and where it came from.
fn book_price(book: &crate::cost::prices::PriceBook, block: &crate::kinds::agent_queue::block::Spec, stack_region: &str) -> Option<(Price, String)> {
    let region = block.region.as_deref().unwrap_or(stack_region);
    let first = block.instance_types.first()?;
    let p = book.find("aws", region, first)?;
    let source = crate::cost::prices::short_source(&book.source);
    let spot = p.spot_hourly.map_or(String::new(), |s| format!(", spot ${}/h", crate::cost::prices::rate(s)));
    let shown = format!("{first} at ${}/h{spot} in {region} (prices of {}, {source})", crate::cost::prices::rate(p.hourly), book.date);
    Some((Price { on_demand: p.hourly, spot: p.spot_hourly }, shown))
}
