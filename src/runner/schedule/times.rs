//! `Schedule`: the intended start of each request of one phase, in order.

use std::time::Duration;

use super::gaps::Gaps;
use super::warp::Warp;
use crate::scenario::OpenLoop;

/// The intended starts of one phase's requests, drawn one at a time: offsets from the phase's
/// start. The first request is due at the start; the same settings and seed give the same
/// offsets.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    gaps: Gaps,
    warp: Warp,
    /// Position in the unit-rate sequence.
    u: f64,
}

impl Schedule {
    /// The schedule of an open-loop point's phase.
    pub(crate) fn new(open: &OpenLoop) -> Self {
        Self {
            gaps: Gaps::new(open.arrival.process, open.arrival.seed),
            warp: Warp::new(&open.rate),
            u: 0.0,
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    /// The next request's intended start, to the nanosecond; `None` once the stages ended.
    fn next(&mut self) -> Option<Duration> {
        let t = self.warp.time_at(self.u)?;
        self.u += self.gaps.next_gap();
        // Rounded, not truncated: 7 / 100 s is 0.07000000000000001 in binary.
        Some(Duration::from_nanos((t * 1e9).round() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Arrival, ArrivalProcess, RateProfile, Stage};
    use std::num::NonZeroU32;

    fn open(rate: RateProfile, process: ArrivalProcess) -> OpenLoop {
        OpenLoop {
            rate,
            arrival: Arrival { process, seed: 42 },
            max_in_flight: NonZeroU32::MIN,
        }
    }

    #[test]
    fn a_constant_rate_is_due_every_interval_from_the_start() {
        let s = Schedule::new(&open(RateProfile::Fixed(100.0), ArrivalProcess::Constant));
        let ms: Vec<Duration> = s.take(5).collect();
        assert_eq!(ms, [0, 10, 20, 30, 40].map(Duration::from_millis));
        let mut s = Schedule::new(&open(RateProfile::Fixed(3.0), ArrivalProcess::Constant));
        assert_eq!(s.nth(3), Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_ramp_of_constant_arrivals_is_exact_and_ends_with_its_stages() {
        // 0 to 100 req/s over 1 s: request i is due at √(i / 50) s.
        let stages = RateProfile::Stages(vec![Stage {
            duration: Duration::from_secs(1),
            rate: 100.0,
        }]);
        let times: Vec<Duration> = Schedule::new(&open(stages, ArrivalProcess::Constant)).collect();
        assert_eq!(
            times.len(),
            50,
            "Λ(1 s) = 50 arrivals, the 51st would be at 1 s"
        );
        assert_eq!(times[2], Duration::from_millis(200));
        assert_eq!(times[8], Duration::from_millis(400));
        assert_eq!(times[32], Duration::from_millis(800));
        assert_eq!(times[3], Duration::from_nanos(244_948_974));
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let take = |seed| {
            let mut o = open(RateProfile::Fixed(50.0), ArrivalProcess::Poisson);
            o.arrival.seed = seed;
            Schedule::new(&o).take(1000).collect::<Vec<_>>()
        };
        let a = take(42);
        assert_eq!(a, take(42));
        assert_ne!(a, take(43));
        assert!(a.windows(2).all(|w| w[0] <= w[1]), "never backwards");
        // 1000 arrivals at 50 req/s take about 20 s.
        let last = a[999].as_secs_f64();
        assert!((17.0..23.0).contains(&last), "{last}");
    }
}
