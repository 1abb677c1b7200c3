//! The pure scaling decision: job counts + group state + settings + the
//! time surplus capacity was first seen → desired capacity and a reason.
//! No I/O; table- and property-tested.

use serde::Serialize;

/// Scaler settings (from the function's environment).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Agents each instance runs (≥ 1).
    pub agents_per_instance: u32,
    /// Extra idle instances kept while there is any work.
    pub instance_buffer: u32,
    /// Fraction of the missing capacity added per decision, in (0, 1];
    /// 1.0 reacts to a burst at once.
    pub scale_out_factor: f64,
    /// Count waiting jobs (blocked on dependencies) as needing agents.
    pub include_waiting: bool,
    /// How long capacity must be surplus before any of it is removed (seconds).
    pub scale_in_idle_secs: u64,
    /// Most instances removed per scale-in step.
    pub scale_in_step: u32,
    /// Never lower the desired capacity.
    pub disable_scale_in: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            agents_per_instance: 1,
            instance_buffer: 0,
            scale_out_factor: 1.0,
            include_waiting: false,
            scale_in_idle_secs: 600,
            scale_in_step: 1,
            disable_scale_in: false,
        }
    }
}

/// One reading of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// Jobs scheduled and waiting for an agent.
    pub scheduled: u32,
    /// Jobs running.
    pub running: u32,
    /// Jobs waiting on others (counted only with `include_waiting`).
    pub waiting: u32,
    /// Agents connected and idle.
    pub idle_agents: u32,
    /// Agents running a job.
    pub busy_agents: u32,
}

/// The Auto Scaling group as read just before deciding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Desired capacity.
    pub desired: u32,
    /// Minimum size.
    pub min: u32,
    /// Maximum size.
    pub max: u32,
    /// Instances protected from scale-in (agents running a job hold protection).
    pub protected: u32,
    /// Auto Scaling's AZ rebalancing is suspended (it would terminate busy
    /// instances to even out zones; the scaler keeps it suspended).
    pub az_rebalance_suspended: bool,
    /// Instances Auto Scaling holds as unhealthy (e.g. an agent that never
    /// registered reported its instance): being replaced, logged with each decision.
    pub unhealthy: u32,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Raise the desired capacity.
    ScaleOut,
    /// Lower it.
    ScaleIn,
    /// Leave it.
    Hold,
}

/// The decision and the surplus clock to persist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The desired capacity to set.
    pub desired: u32,
    /// Which way it moves.
    pub action: Action,
    /// Why, for the log.
    pub reason: String,
    /// When surplus capacity was first seen (unix seconds), to persist for the next decision.
    pub surplus_since: Option<u64>,
}

fn ceil_div(a: u32, b: u32) -> u32 {
    a.div_ceil(b.max(1))
}

/// Decides the desired capacity.
///
/// - required agents = scheduled + running (+ waiting if configured);
///   instances = ceil(required / agents_per_instance) + buffer (buffer only
///   while there is work), clamped to [min, max];
/// - scale out at once, by `scale_out_factor` of the gap (at least one
///   instance), never past the target;
/// - scale in only after `scale_in_idle` of continuous surplus, at most
///   `scale_in_step` instances at a time, never below the instances running
///   jobs need, the busy agents' instances or the protected instances;
/// - always within [min, max], even when the group is outside it.
pub fn decide(obs: &Observation, group: &Group, s: &Settings, surplus_since: Option<u64>, now: u64) -> Decision {
    let (min, max) = (group.min, group.max.max(group.min));
    let api = s.agents_per_instance.max(1);
    let required = obs.scheduled + obs.running + if s.include_waiting { obs.waiting } else { 0 };
    let buffer = if required > 0 { s.instance_buffer } else { 0 };
    let wanted = ceil_div(required, api).saturating_add(buffer);
    let target = wanted.clamp(min, max);
    // What must stay: instances that run jobs now.
    let busy_floor = ceil_div(obs.running, api).max(ceil_div(obs.busy_agents, api)).max(group.protected).clamp(min, max);
    let current = group.desired;
    let hold = |desired: u32, reason: String, since: Option<u64>| Decision { desired, action: Action::Hold, reason, surplus_since: since };

    if current > max {
        return Decision { desired: max, action: Action::ScaleIn, reason: format!("desired {current} above max {max}: clamped"), surplus_since: None };
    }
    if target > current {
        let gap = target - current;
        let step = ((gap as f64) * s.scale_out_factor.clamp(0.01, 1.0)).ceil().max(1.0) as u32;
        let desired = (current + step).min(target).max(min);
        let reason = format!(
            "{required} agent(s) needed ({} scheduled, {} running) → {target} instance(s); scaling out by {}",
            obs.scheduled,
            obs.running,
            desired - current
        );
        return Decision { desired, action: Action::ScaleOut, reason, surplus_since: None };
    }
    if target == current {
        return hold(current, format!("{required} agent(s) needed; {current} instance(s) is right"), None);
    }
    // Surplus: target < current.
    let floor = target.max(busy_floor);
    if floor >= current {
        return hold(current, format!("surplus, but {current} instance(s) still run jobs"), surplus_since.or(Some(now)));
    }
    if s.disable_scale_in {
        return hold(current, "surplus, scale-in disabled".into(), None);
    }
    let since = surplus_since.unwrap_or(now).min(now);
    let idle_for = now - since;
    if idle_for < s.scale_in_idle_secs {
        return hold(current, format!("surplus for {idle_for}s of {}s before scaling in", s.scale_in_idle_secs), Some(since));
    }
    let desired = current.saturating_sub(s.scale_in_step.max(1)).max(floor);
    Decision {
        desired,
        action: Action::ScaleIn,
        reason: format!("surplus for {idle_for}s: scaling in by {} (target {target}, busy floor {busy_floor})", current - desired),
        // Restart the clock so the next step waits a full idle period again.
        surplus_since: if desired > target { Some(now) } else { None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(scheduled: u32, running: u32, busy: u32) -> Observation {
        Observation { scheduled, running, waiting: 0, idle_agents: 0, busy_agents: busy }
    }

    fn group(desired: u32, min: u32, max: u32) -> Group {
        Group { desired, min, max, protected: 0, az_rebalance_suspended: true, unhealthy: 0 }
    }

    #[test]
    fn table() {
        let s = Settings::default();
        let s4 = Settings { agents_per_instance: 4, ..Settings::default() };
        let buf = Settings { instance_buffer: 2, ..Settings::default() };
        let half = Settings { scale_out_factor: 0.5, ..Settings::default() };
        let noin = Settings { disable_scale_in: true, ..Settings::default() };
        let step2 = Settings { scale_in_step: 2, ..Settings::default() };
        let wait = Settings { include_waiting: true, ..Settings::default() };
        let t0 = 10_000;
        // (name, obs, group, settings, surplus_since, now, want desired, want action)
        type Case<'a> = (&'a str, Observation, Group, &'a Settings, Option<u64>, u64, u32, Action);
        let cases: Vec<Case> = vec![
            ("burst of 50 scales out at once", obs(50, 0, 0), group(0, 0, 100), &s, None, t0, 50, Action::ScaleOut),
            ("burst clamps to max", obs(500, 0, 0), group(3, 0, 20), &s, None, t0, 20, Action::ScaleOut),
            ("agents per instance rounds up", obs(5, 2, 2), group(0, 0, 10), &s4, None, t0, 2, Action::ScaleOut),
            ("buffer only while work exists", obs(1, 0, 0), group(0, 0, 10), &buf, None, t0, 3, Action::ScaleOut),
            ("no work no buffer", obs(0, 0, 0), group(0, 0, 10), &buf, None, t0, 0, Action::Hold),
            ("factor damps but moves at least one", obs(10, 0, 0), group(0, 0, 10), &half, None, t0, 5, Action::ScaleOut),
            ("factor never overshoots", obs(1, 0, 0), group(0, 0, 10), &half, None, t0, 1, Action::ScaleOut),
            ("min is respected with no work", obs(0, 0, 0), group(0, 2, 10), &s, None, t0, 2, Action::ScaleOut),
            ("desired above max is clamped", obs(0, 0, 0), group(30, 0, 20), &s, None, t0, 20, Action::ScaleIn),
            ("steady", obs(2, 1, 1), group(3, 0, 10), &s, None, t0, 3, Action::Hold),
            ("surplus starts the clock", obs(0, 0, 0), group(3, 0, 10), &s, None, t0, 3, Action::Hold),
            ("surplus too young", obs(0, 0, 0), group(3, 0, 10), &s, Some(t0 - 599), t0, 3, Action::Hold),
            ("surplus old enough: one step", obs(0, 0, 0), group(3, 0, 10), &s, Some(t0 - 600), t0, 2, Action::ScaleIn),
            ("bigger steps when configured", obs(0, 0, 0), group(5, 0, 10), &step2, Some(t0 - 900), t0, 3, Action::ScaleIn),
            ("never below running jobs", obs(0, 3, 3), group(5, 0, 10), &step2, Some(0), t0, 3, Action::ScaleIn),
            ("never below busy agents", obs(0, 0, 4), group(5, 0, 10), &step2, Some(0), t0, 4, Action::ScaleIn),
            (
                "never below protected instances",
                obs(0, 0, 0),
                Group { desired: 5, min: 0, max: 10, protected: 5, az_rebalance_suspended: true, unhealthy: 0 },
                &s,
                Some(0),
                t0,
                5,
                Action::Hold,
            ),
            ("scale-in disabled", obs(0, 0, 0), group(5, 0, 10), &noin, Some(0), t0, 5, Action::Hold),
            ("waiting counted when configured", Observation { waiting: 4, ..obs(1, 0, 0) }, group(0, 0, 10), &wait, None, t0, 5, Action::ScaleOut),
            ("waiting ignored by default", Observation { waiting: 4, ..obs(1, 0, 0) }, group(0, 0, 10), &s, None, t0, 1, Action::ScaleOut),
            ("max below min is treated as min", obs(9, 0, 0), group(0, 3, 1), &s, None, t0, 3, Action::ScaleOut),
        ];
        for (name, o, g, st, since, now, want, action) in cases {
            let d = decide(&o, &g, st, since, now);
            assert_eq!((d.desired, d.action), (want, action), "{name}: {}", d.reason);
        }
    }

    #[test]
    fn surplus_clock_is_kept_and_restarted() {
        let s = Settings::default();
        let d = decide(&obs(0, 0, 0), &group(3, 0, 10), &s, None, 100);
        assert_eq!(d.surplus_since, Some(100));
        let d = decide(&obs(0, 0, 0), &group(3, 0, 10), &s, Some(100), 400);
        assert_eq!(d.surplus_since, Some(100), "kept while waiting");
        let d = decide(&obs(0, 0, 0), &group(3, 0, 10), &s, Some(100), 700);
        assert_eq!((d.desired, d.surplus_since), (2, Some(700)), "restarted after a step");
        let d = decide(&obs(1, 0, 0), &group(2, 0, 10), &s, Some(100), 800);
        assert_eq!(d.surplus_since, None, "work cancels the surplus clock");
    }

    /// Property: desired always within [min, max]; never below what running
    /// jobs need; scale-in never faster than the step.
    #[test]
    fn properties_hold_for_random_inputs() {
        let mut rng = fastrand::Rng::with_seed(42);
        for _ in 0..20_000 {
            let min = rng.u32(0..5);
            let max = min + rng.u32(0..60);
            let s = Settings {
                agents_per_instance: rng.u32(1..5),
                instance_buffer: rng.u32(0..3),
                scale_out_factor: [0.1, 0.5, 1.0][rng.usize(0..3)],
                include_waiting: rng.bool(),
                scale_in_idle_secs: rng.u64(0..900),
                scale_in_step: rng.u32(1..4),
                disable_scale_in: rng.bool(),
            };
            let running = rng.u32(0..80);
            let o = Observation { scheduled: rng.u32(0..200), running, waiting: rng.u32(0..10), idle_agents: rng.u32(0..10), busy_agents: running };
            let g = Group { desired: rng.u32(0..(max + 10)), min, max, protected: rng.u32(0..5).min(max), az_rebalance_suspended: true, unhealthy: 0 };
            let now = 1_000_000;
            let since = if rng.bool() { Some(now - rng.u64(0..2000)) } else { None };
            let d = decide(&o, &g, &s, since, now);
            assert!(d.desired >= min && d.desired <= max, "{d:?} {g:?}");
            let need = running.div_ceil(s.agents_per_instance).min(max);
            if d.action == Action::ScaleIn && g.desired <= max {
                assert!(d.desired >= need, "scaled in below running jobs: {d:?} {o:?} {g:?} {s:?}");
                assert!(g.desired - d.desired <= s.scale_in_step, "{d:?}");
                assert!(!s.disable_scale_in);
            }
        }
    }
}
