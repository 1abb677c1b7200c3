//! The discrete-event model of one queue: jobs arrive, the scaler polls
//! and decides with its own code (`gantry_scaler::decide::decide`), the
//! Auto Scaling group launches and terminates instances, agents take jobs.
//!
//! What is modelled, and how the real system does it:
//! - The scaler polls every `poll_interval` (the function's POLL_INTERVAL)
//!   and sets the group's desired capacity to its decision; the
//!   observation is the queue as Buildkite's agent metrics report it
//!   (scheduled and running jobs, idle and busy agents); instances whose
//!   agents run a job are protected from scale-in (the agents hold
//!   scale-in protection while busy).
//! - The group reconciles at once: a missing instance is launched and its
//!   agents take jobs `boot` later (instance start, bootstrap, agent
//!   registration); surplus is removed newest unprotected instance first
//!   (a booting or idle one; busy ones are protected).
//! - `terminate_after_job`: each agent takes one job and exits; an
//!   instance whose agents have all run their job terminates itself and
//!   lowers desired capacity in the same call (as the stack's agents do).
//! - Spot: above `on_demand_percentage`, instances are spot; each gets an
//!   interruption notice after an exponential time (`spot_interruptions`
//!   per instance-hour); it takes no job after the notice and is gone two
//!   minutes later (EC2's notice); jobs still running are lost and retried
//!   at the head of the queue, at most [`RETRIES`] times (Buildkite's
//!   automatic retry on a lost agent, `limit: 2` by default), then counted
//!   as failed; the group launches a replacement.
//! - Billing per second from launch to termination (boot time billed).
//!
//! Jobs are taken first-come first-served by the oldest ready instance
//! with a free agent. Deterministic for a given seed.

use gantry_scaler::decide::{decide, Group, Observation, Settings};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// One job: when it is queued and how long it runs (seconds); a trace's
/// rows read into it directly.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub(crate) struct Job {
    pub arrival: f64,
    pub duration: f64,
}

/// The queue as the stack describes it (through the scaler's settings).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueModel {
    pub settings: Settings,
    pub poll_secs: f64,
    pub min: u32,
    pub max: u32,
    pub terminate_after_job: bool,
    pub on_demand_percentage: u32,
}

/// What the stack does not say: how the machines and the market behave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conditions {
    /// From launch to the agent taking jobs.
    pub boot_secs: f64,
    /// Interruption notices per spot instance-hour.
    pub spot_interruptions: f64,
    pub seed: u64,
}

/// One sample for the picture, taken at each poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    pub t: f64,
    pub queued: u32,
    pub running: u32,
    pub instances: u32,
}

/// What a run measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Outcome {
    /// Each job's wait from arrival to its (last) start, in the order
    /// given; NaN for a job not finished when the run stopped.
    pub waits: Vec<f64>,
    pub instance_secs: f64,
    /// Instance time with no job running (booting included).
    pub idle_secs: f64,
    pub spot_secs: f64,
    pub peak_instances: u32,
    /// Job runs lost to spot interruptions (and retried).
    pub interrupted_runs: u32,
    /// Jobs lost more often than they are retried.
    pub failed_jobs: u32,
    /// Jobs not finished when the run stopped (none unless the queue can never run them, e.g. max_size 0).
    pub unfinished: usize,
    pub end: f64,
    pub samples: Vec<Sample>,
}

const SPOT_NOTICE_SECS: f64 = 120.0;
/// Retries of a run lost with its agent (Buildkite `retry.automatic`'s default limit).
pub(super) const RETRIES: u32 = 2;
/// A run stops this long after the last arrival whatever is left (a queue
/// that cannot run its jobs, e.g. max_size 0, would otherwise never end).
const HORIZON_SECS: f64 = 7.0 * 86400.0;
/// After the last job, how long the run follows the group back to its
/// minimum (scale-in) before stopping.
const TAIL_LIMIT_SECS: f64 = 6.0 * 3600.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Arrival(usize),
    Ready(usize),
    Done(usize, usize),
    Poll,
    Notice(usize),
    Gone(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct At(f64, u64, Event);

impl Eq for At {}
impl PartialOrd for At {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for At {
    /// Earliest first (a max-heap of reversed order), ties in insertion order.
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

struct Instance {
    launched: f64,
    ready: bool,
    /// Agents that may still take a job (each once with terminate_after_job).
    slots: u32,
    running: Vec<usize>,
    alive: bool,
    draining: bool,
    spot: bool,
    /// Since when no job has run on it (for idle time).
    idle_since: Option<f64>,
}

struct Sim<'a> {
    q: &'a QueueModel,
    c: &'a Conditions,
    jobs: &'a [Job],
    events: BinaryHeap<At>,
    seq: u64,
    instances: Vec<Instance>,
    /// The ids of instances alive, oldest first (the run's cost is per
    /// event over these, not over every instance ever launched).
    live: Vec<usize>,
    queue: VecDeque<usize>,
    desired: u32,
    surplus_since: Option<u64>,
    rng: fastrand::Rng,
    started: Vec<Option<f64>>,
    lost: Vec<u32>,
    finished: Vec<bool>,
    done: usize,
    out: Outcome,
}

impl Sim<'_> {
    fn at(&mut self, t: f64, e: Event) {
        self.seq += 1;
        self.events.push(At(t, self.seq, e));
    }

    fn alive(&self) -> impl Iterator<Item = (usize, &Instance)> {
        self.live.iter().map(|&id| (id, &self.instances[id]))
    }

    fn agents(&self) -> u32 {
        self.q.settings.agents_per_instance.max(1)
    }

    fn launch(&mut self, t: f64) {
        let alive = self.alive().count() as u32;
        let on_demand = self.alive().filter(|(_, i)| !i.spot).count() as u32;
        // The group keeps on_demand_percentage of its instances on demand.
        let spot = on_demand >= ((alive + 1) * self.q.on_demand_percentage).div_ceil(100);
        let id = self.instances.len();
        self.live.push(id);
        self.instances.push(Instance {
            launched: t,
            ready: false,
            slots: self.agents(),
            running: Vec::new(),
            alive: true,
            draining: false,
            spot,
            idle_since: Some(t),
        });
        self.at(t + self.c.boot_secs, Event::Ready(id));
        if spot && self.c.spot_interruptions > 0.0 {
            let u = self.rng.f64().max(f64::MIN_POSITIVE);
            self.at(t - u.ln() / self.c.spot_interruptions * 3600.0, Event::Notice(id));
        }
        self.out.peak_instances = self.out.peak_instances.max(alive + 1);
    }

    fn terminate(&mut self, id: usize, t: f64) {
        let i = &mut self.instances[id];
        if !i.alive {
            return;
        }
        i.alive = false;
        self.live.retain(|&x| x != id);
        let lived = t - i.launched;
        let idle = i.idle_since.map_or(0.0, |s| t - s);
        self.out.instance_secs += lived;
        self.out.idle_secs += idle;
        if i.spot {
            self.out.spot_secs += lived;
        }
    }

    /// The group meets its desired capacity.
    fn reconcile(&mut self, t: f64) {
        let alive = self.alive().count() as u32;
        for _ in alive..self.desired {
            self.launch(t);
        }
        let mut surplus = alive.saturating_sub(self.desired);
        while surplus > 0 {
            // Newest unprotected first: busy instances are protected.
            let Some(id) = self.alive().filter(|(_, i)| i.running.is_empty()).map(|(id, _)| id).last() else { break };
            self.terminate(id, t);
            surplus -= 1;
        }
    }

    fn dispatch(&mut self, t: f64) {
        while let Some(&job) = self.queue.front() {
            let Some(id) = self.alive().find(|(_, i)| i.ready && !i.draining && self.free(i) > 0).map(|(id, _)| id) else { break };
            self.queue.pop_front();
            let inst = &mut self.instances[id];
            if self.q.terminate_after_job {
                inst.slots -= 1;
            }
            if inst.running.is_empty() {
                if let Some(s) = inst.idle_since.take() {
                    self.out.idle_secs += t - s;
                }
            }
            inst.running.push(job);
            self.started[job] = Some(t);
            let end = t + self.jobs[job].duration;
            self.at(end, Event::Done(id, job));
        }
    }

    /// Agents of an instance free to take a job (with terminate_after_job
    /// a running job has used its agent's slot already).
    fn free(&self, i: &Instance) -> u32 {
        if self.q.terminate_after_job {
            i.slots
        } else {
            i.slots.saturating_sub(i.running.len() as u32)
        }
    }

    fn observe(&self) -> (Observation, Group) {
        let running: u32 = self.alive().map(|(_, i)| i.running.len() as u32).sum();
        let idle_agents = self.alive().filter(|(_, i)| i.ready && !i.draining).map(|(_, i)| self.free(i)).sum();
        let obs = Observation { scheduled: self.queue.len() as u32, running, waiting: 0, idle_agents, busy_agents: running };
        let protected = self.alive().filter(|(_, i)| !i.running.is_empty()).count() as u32;
        let group = Group { desired: self.desired, min: self.q.min, max: self.q.max, protected, az_rebalance_suspended: true, unhealthy: 0 };
        (obs, group)
    }

    fn handle(&mut self, t: f64, e: Event) {
        match e {
            Event::Arrival(j) => self.queue.push_back(j),
            Event::Ready(id) => self.instances[id].ready = true,
            Event::Done(id, job) => {
                let inst = &mut self.instances[id];
                if !inst.alive || !inst.running.contains(&job) {
                    return; // lost to an interruption and retried elsewhere
                }
                inst.running.retain(|&j| j != job);
                if inst.running.is_empty() {
                    inst.idle_since = Some(t);
                }
                self.done += 1;
                self.finished[job] = true;
                self.out.waits[job] = self.started[job].unwrap_or(t) - self.jobs[job].arrival;
                if self.q.terminate_after_job && inst.slots == 0 && inst.running.is_empty() {
                    self.terminate(id, t);
                    self.desired = self.desired.saturating_sub(1).max(self.q.min);
                }
            }
            Event::Poll => {
                let (obs, group) = self.observe();
                let d = decide(&obs, &group, &self.q.settings, self.surplus_since, t as u64);
                self.surplus_since = d.surplus_since;
                self.desired = d.desired;
                self.out.samples.push(Sample { t, queued: obs.scheduled, running: obs.running, instances: self.alive().count() as u32 });
                self.at(t + self.q.poll_secs, Event::Poll);
            }
            Event::Notice(id) => {
                if self.instances[id].alive {
                    self.instances[id].draining = true;
                    self.at(t + SPOT_NOTICE_SECS, Event::Gone(id));
                }
            }
            Event::Gone(id) => {
                if !self.instances[id].alive {
                    return;
                }
                let lost = std::mem::take(&mut self.instances[id].running);
                self.out.interrupted_runs += lost.len() as u32;
                for job in lost.into_iter().rev() {
                    self.lost[job] += 1;
                    if self.lost[job] > RETRIES {
                        self.out.failed_jobs += 1;
                        self.finished[job] = true;
                        self.done += 1;
                        self.out.waits[job] = self.started[job].unwrap_or(t) - self.jobs[job].arrival;
                    } else {
                        self.queue.push_front(job);
                    }
                }
                self.instances[id].idle_since.get_or_insert(t);
                self.terminate(id, t);
            }
        }
        self.reconcile(t);
        self.dispatch(t);
    }
}

/// Runs `jobs` (any order) through the queue; waits come back in the
/// order given.
pub(crate) fn run(q: &QueueModel, c: &Conditions, jobs: &[Job]) -> Outcome {
    let mut sim = Sim {
        q,
        c,
        jobs,
        events: BinaryHeap::with_capacity(jobs.len() * 2 + 16),
        seq: 0,
        instances: Vec::new(),
        live: Vec::new(),
        queue: VecDeque::new(),
        desired: q.min,
        surplus_since: None,
        rng: fastrand::Rng::with_seed(c.seed),
        started: vec![None; jobs.len()],
        lost: vec![0; jobs.len()],
        finished: vec![false; jobs.len()],
        done: 0,
        out: Outcome { waits: vec![0.0; jobs.len()], ..Outcome::default() },
    };
    for (j, job) in jobs.iter().enumerate() {
        sim.at(job.arrival, Event::Arrival(j));
    }
    let start = jobs.iter().map(|j| j.arrival).fold(f64::INFINITY, f64::min).min(0.0);
    sim.at(start, Event::Poll);
    sim.reconcile(start);
    let mut last_done = start;
    let horizon = jobs.iter().map(|j| j.arrival).fold(start, f64::max) + HORIZON_SECS;
    while let Some(At(t, _, e)) = sim.events.pop() {
        if t > horizon {
            break;
        }
        if sim.done == jobs.len() {
            // Follow the group back to its minimum, then stop.
            let settled = sim.desired == q.min && sim.alive().count() as u32 == q.min;
            if settled || t > last_done + TAIL_LIMIT_SECS {
                sim.out.end = t;
                break;
            }
        } else {
            last_done = t;
        }
        sim.handle(t, e);
        sim.out.end = t;
    }
    sim.out.unfinished = jobs.len() - sim.done;
    for (j, w) in sim.out.waits.iter_mut().enumerate() {
        if !sim.finished[j] {
            *w = f64::NAN;
        }
    }
    let end = sim.out.end;
    let ids: Vec<usize> = sim.alive().map(|(id, _)| id).collect();
    for id in ids {
        sim.terminate(id, end);
    }
    sim.out
}
