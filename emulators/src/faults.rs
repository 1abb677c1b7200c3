//! Seeded fault injection for the AWS proxy: what a real network and a
//! real service do to some requests. For request number n the schedule
//! draws from a hash of (seed, n), so a failing run is replayed exactly by
//! its seed (as long as the client sends its requests in the same order).
//!
//! - `ServerError`: 500/503 before the request reaches the service.
//! - `Throttle`: the service's throttling error, before the request.
//! - `Reset`: the connection closes with no answer, before the request.
//! - `Delay`: the answer comes 0.2–1.5 s late.
//! - `LostResponse`: the service **does** the work, then the answer is lost
//!   (connection closed or 502/504 from the load balancer): the retry
//!   repeats a request that already took effect — where non-idempotent
//!   clients create duplicates or fail on "already exists".

use std::time::Duration;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Answer with this 5xx status.
    ServerError(u16),
    /// Answer with the service's throttling error.
    Throttle,
    /// Close the connection without answering.
    Reset,
    /// Answer this much later.
    Delay(Duration),
    /// `true`: the connection closes; `false`: a gateway error status.
    LostResponse(bool),
}

impl Fault {
    /// The counter name in [`AwsProxy::fired`](crate::aws_proxy::AwsProxy::fired).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::ServerError(_) => "fault_server_error",
            Fault::Throttle => "fault_throttle",
            Fault::Reset => "fault_reset",
            Fault::Delay(_) => "fault_delay",
            Fault::LostResponse(_) => "fault_lost_response",
        }
    }
}

/// A seeded schedule.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// The schedule's seed: the same seed gives the same faults.
    pub seed: u64,
    /// Share of requests that get a fault, in per mille.
    pub per_mille: u64,
}

/// SplitMix64: a well-mixed 64-bit hash of one number.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Faults {
    /// The fault for the n-th request, if any.
    pub fn pick(&self, n: u64) -> Option<Fault> {
        let h = mix(self.seed ^ mix(n));
        if h % 1000 >= self.per_mille {
            return None;
        }
        let r = h >> 16;
        Some(match r % 5 {
            0 => Fault::ServerError(if r & 0x100 == 0 { 500 } else { 503 }),
            1 => Fault::Throttle,
            2 => Fault::Reset,
            3 => Fault::Delay(Duration::from_millis(200 + (r >> 8) % 1300)),
            _ => Fault::LostResponse(r & 0x100 == 0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_seeded_and_mix_every_kind() {
        let f = Faults { seed: 7, per_mille: 200 };
        let a: Vec<_> = (0..2000).map(|n| f.pick(n)).collect();
        let b: Vec<_> = (0..2000).map(|n| f.pick(n)).collect();
        assert_eq!(a, b, "same seed, same schedule");
        let other: Vec<_> = (0..2000).map(|n| Faults { seed: 8, per_mille: 200 }.pick(n)).collect();
        assert_ne!(a, other);
        let hit = a.iter().flatten().count();
        assert!((300..500).contains(&hit), "about 20%: {hit}");
        let kinds: std::collections::HashSet<_> = a.iter().flatten().map(Fault::name).collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        assert!(Faults { seed: 1, per_mille: 0 }.pick(3).is_none());
    }
}
