//! The time warp of a rate profile: the inverse of the cumulative rate `Λ(t) = ∫₀ᵗ r`, which
//! maps a unit-rate arrival sequence onto the profile. A fixed rate `r` gives `Λ(t) = r·t`.
//! Stages give a piecewise linear rate: within a stage that ramps from `a` to `b` over `d`
//! seconds, `Λ(t₀ + τ) = Λ(t₀) + a·τ + s·τ²/2` with slope `s = (b - a) / d`, inverted by
//! solving that quadratic for `τ`. Stages are walked forwards only: a warp serves one
//! increasing sequence.

use crate::scenario::{RateProfile, Stage};

/// One stage with what the inversion needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    /// Start, seconds from the phase's start.
    t0: f64,
    /// `Λ` at the start.
    l0: f64,
    /// `Λ` at the end.
    l1: f64,
    /// Rate at the start, requests per second.
    a: f64,
    /// Slope of the rate, requests per second per second.
    slope: f64,
}

/// The inverse cumulative rate of one profile.
#[derive(Debug, Clone)]
pub(super) enum Warp {
    /// `t = u / rate`.
    Fixed(f64),
    /// The stages, and the one the last time fell in.
    Stages {
        /// Every stage that adds arrivals (some rate over some time), in order.
        segments: Vec<Segment>,
        /// Index of the current one.
        at: usize,
    },
}

impl Warp {
    /// The warp of `profile`. Stages ramp from the rate the one before ended at, the first
    /// from 0; a stage of zero duration jumps to its rate.
    pub(super) fn new(profile: &RateProfile) -> Self {
        let stages: &[Stage] = match profile {
            RateProfile::Fixed(rate) => return Self::Fixed(*rate),
            // A search runs as probes, each at a fixed rate (`runner::search`); alone, its
            // schedule is its lowest rate.
            RateProfile::Search(search) => return Self::Fixed(search.min),
            RateProfile::Stages(stages) => stages,
        };
        let (mut t, mut l, mut rate) = (0.0, 0.0, 0.0);
        let mut segments = Vec::with_capacity(stages.len());
        for stage in stages {
            let d = stage.duration.as_secs_f64();
            let added = (rate + stage.rate) / 2.0 * d;
            if added > 0.0 {
                segments.push(Segment {
                    t0: t,
                    l0: l,
                    l1: l + added,
                    a: rate,
                    slope: (stage.rate - rate) / d,
                });
            }
            (t, l, rate) = (t + d, l + added, stage.rate);
        }
        Self::Stages { segments, at: 0 }
    }

    /// The time, seconds from the phase's start, at which `Λ` reaches `u`; `None` past the
    /// last stage. `u` must not decrease from one call to the next.
    pub(super) fn time_at(&mut self, u: f64) -> Option<f64> {
        match self {
            Self::Fixed(rate) => Some(u / *rate),
            Self::Stages { segments, at } => {
                while segments.get(*at).is_some_and(|s| u >= s.l1) {
                    *at += 1;
                }
                let s = segments.get(*at)?;
                let delta = u - s.l0;
                if delta <= 0.0 {
                    return Some(s.t0);
                }
                // The root of slope·τ²/2 + a·τ - delta = 0 that lies in the stage, written so
                // that it neither cancels nor divides by a zero slope.
                let root = (s.a * s.a + 2.0 * s.slope * delta).max(0.0).sqrt();
                Some(s.t0 + 2.0 * delta / (s.a + root))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stages(list: &[(u64, f64)]) -> Warp {
        Warp::new(&RateProfile::Stages(
            list.iter()
                .map(|&(secs, rate)| Stage {
                    duration: Duration::from_secs(secs),
                    rate,
                })
                .collect(),
        ))
    }

    #[test]
    fn a_ramp_from_zero_follows_the_square_root() {
        // 0 to 100 req/s over 1 s: Λ(t) = 50 t², so t = √(u / 50).
        let mut w = stages(&[(1, 100.0)]);
        for u in [0.0, 2.0, 8.0, 18.0, 32.0, 49.0] {
            let t = w.time_at(u).unwrap();
            assert!((t - (u / 50.0).sqrt()).abs() < 1e-12, "u {u}: t {t}");
        }
        assert_eq!(
            w.time_at(50.0),
            None,
            "the schedule ends with the last stage"
        );
    }

    #[test]
    fn holds_ramps_down_and_jumps_are_inverted_exactly() {
        // Up to 10 req/s over 2 s (Λ = 10), hold 1 s (Λ = 20), jump to 40 and hold 1 s
        // (Λ = 60), ramp down to 0 over 2 s (Λ = 100).
        let mut w = stages(&[(2, 10.0), (1, 10.0), (0, 40.0), (1, 40.0), (2, 0.0)]);
        let at = |w: &mut Warp, u: f64| w.time_at(u).unwrap();
        assert!((at(&mut w, 5.0) - 2f64.sqrt()).abs() < 1e-12);
        assert!((at(&mut w, 15.0) - 2.5).abs() < 1e-12);
        assert!((at(&mut w, 40.0) - 3.5).abs() < 1e-12);
        // Ramp down from 40 over 2 s: Λ(4 + τ) = 60 + 40τ - 10τ²; u = 90 gives τ = 1.
        assert!((at(&mut w, 90.0) - 5.0).abs() < 1e-12);
        assert_eq!(w.time_at(100.0), None);
    }

    #[test]
    fn a_fixed_rate_divides() {
        let mut w = Warp::new(&RateProfile::Fixed(4.0));
        assert_eq!(w.time_at(10.0), Some(2.5));
    }
}
