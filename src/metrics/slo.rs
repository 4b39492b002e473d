//! Judging against `[slo]`, at two levels.
//!
//! - A request is *good* when it succeeded and its own figures are within every bound:
//!   latency, TTFT and TPOT each at most its objective's `max`, and at least `p`% of its own
//!   gaps between content events (its p-th gap, nearest rank) at most ITL's `max`. Goodput is
//!   good requests per measure second (vLLM's definition). The recorder counts them as they end
//!   (`RequestGoals::met_by`): a few comparisons, no allocation, no lock.
//! - A run *meets the SLOs* when, over all its requests, each time objective's `p`-th
//!   percentile is at most its `max` and its success rate at least `success_rate`.
//!
//! Times count from the request's start — an open loop's intended start — as every latency
//! of the report does. TTFT, TPOT and ITL apply to stream routes only.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::aggregate::median_mad;
use super::attempt::Observation;
use super::summary::{RunStats, Spread};
use crate::scenario::slo::{Objective, Slo, TIME_OBJECTIVES};

/// The bounds one request must stay within to be good, from `[slo]`, in µs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RequestGoals {
    latency_us: Option<u64>,
    ttft_us: Option<u64>,
    tpot_us: Option<u64>,
    /// ITL's bound, and the percentile of a request's gaps that must be within it.
    itl: Option<(u64, f64)>,
}

/// Whole microseconds of an objective's bound.
fn bound_us(o: Option<Objective>) -> Option<u64> {
    o.map(|o| u64::try_from(o.max.as_micros()).unwrap_or(u64::MAX))
}

impl RequestGoals {
    /// The per-request bounds of `slo`.
    pub fn of(slo: &Slo) -> Self {
        Self {
            latency_us: bound_us(slo.latency),
            ttft_us: bound_us(slo.ttft),
            tpot_us: bound_us(slo.tpot),
            itl: slo.itl.and_then(|o| Some((bound_us(Some(o))?, o.p))),
        }
    }

    /// Whether a request met every bound: its last attempt observed `last` and started
    /// `offset_us` after the request (its intended start in an open loop). A stream without
    /// a first token fails a TTFT bound; one with fewer than two tokens has no TPOT or gap to
    /// judge, and passes those.
    pub fn met_by(&self, last: &Observation, offset_us: u64) -> bool {
        let within = |bound: Option<u64>, value: u64| bound.is_none_or(|b| value <= b);
        if !last.is_success() || !within(self.latency_us, offset_us + last.latency_us) {
            return false;
        }
        let s = &last.stream;
        if !s.active {
            return true;
        }
        let ttft_ok = match (self.ttft_us, s.ttft_us) {
            (None, _) => true,
            (Some(_), None) => false,
            (bound, Some(ttft)) => within(bound, offset_us + ttft),
        };
        let tpot_ok = last.tpot_us().is_none_or(|tpot| within(self.tpot_us, tpot));
        let itl_ok = self.itl.is_none_or(|(bound, p)| {
            // The p-th gap by nearest rank is within the bound when at least ceil(p% of n)
            // gaps are: counted, not sorted, so nothing is allocated. (Less a hair, so that
            // 99.9% of 1000 is 999, not 1000 by a rounding error.)
            let n = s.gaps_us.len();
            let needed = (p * n as f64 / 100.0 - 1e-9).ceil() as usize;
            s.gaps_us.iter().filter(|&&g| g <= bound).count() >= needed
        });
        ttft_ok && tpot_ok && itl_ok
    }
}

/// One run's verdict against `[slo]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SloVerdict {
    /// Requests that succeeded within every per-request bound.
    pub good: u64,
    /// Good requests per measure second.
    pub goodput_rps: f64,
    /// Whether every objective held over the run.
    pub meets: bool,
    /// One check per objective that applies, in the order latency, TTFT, TPOT, ITL, success
    /// rate (TTFT, TPOT and ITL on stream routes only).
    pub checks: Vec<SloCheck>,
}

/// One objective judged over one run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SloCheck {
    /// `latency`, `ttft`, `tpot`, `itl` or `success_rate`.
    pub objective: String,
    /// The percentile judged, for a time objective.
    pub p: Option<f64>,
    /// The bound: ms for a time, percent for the success rate.
    pub limit: f64,
    /// What the run measured, in the bound's unit; `None` when it measured none (no
    /// successful request, no stream event): the objective then does not hold.
    pub value: Option<f64>,
    /// Whether it held: a time at most its bound, the success rate at least its own.
    pub meets: bool,
}

/// The distributions of one run an SLO verdict reads; a stream figure is `None` when the
/// route does not stream (its objectives do not apply), empty when it streamed nothing.
pub(crate) struct Distributions<'a> {
    pub(crate) latency: &'a Histogram<u32>,
    pub(crate) ttft: Option<&'a Histogram<u32>>,
    pub(crate) tpot: Option<&'a Histogram<u32>>,
    pub(crate) itl: Option<&'a Histogram<u32>>,
}

/// The verdict of `run`, whose distributions are `d` and which counted `good` good requests.
pub(crate) fn verdict(slo: &Slo, d: &Distributions<'_>, good: u64, run: &RunStats) -> SloVerdict {
    let mut checks = Vec::new();
    for key in TIME_OBJECTIVES {
        let Some(objective) = slo.objective(key) else {
            continue;
        };
        let histogram = match key {
            "latency" => Some(d.latency),
            "ttft" => d.ttft,
            "tpot" => d.tpot,
            _ => d.itl,
        };
        let Some(h) = histogram else { continue };
        let value = (!h.is_empty()).then(|| {
            let at = h.value_at_quantile(objective.p / 100.0);
            // The bucket's midpoint, as every reported percentile.
            h.median_equivalent(at) as f64 / 1000.0
        });
        let limit = objective.max.as_secs_f64() * 1000.0;
        checks.push(SloCheck {
            objective: key.into(),
            p: Some(objective.p),
            limit,
            value,
            meets: value.is_some_and(|v| v <= limit),
        });
    }
    if let Some(limit) = slo.success_rate {
        checks.push(SloCheck {
            objective: "success_rate".into(),
            p: None,
            limit,
            value: run.success_rate,
            meets: run.success_rate.is_some_and(|v| v >= limit),
        });
    }
    SloVerdict {
        good,
        goodput_rps: if run.measure_secs > 0.0 {
            good as f64 / run.measure_secs
        } else {
            0.0
        },
        meets: checks.iter().all(|c| c.meets),
        checks,
    }
}

/// A point's verdicts across its runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SloAggregate {
    /// Goodput, requests per second: median and MAD over the runs.
    pub goodput_rps: Option<Spread>,
    /// Good requests, summed over every run.
    pub good: u64,
    /// Runs judged (those the medians are taken over).
    pub runs: u32,
    /// Of those, the runs that met the SLOs.
    pub runs_meeting: u32,
    /// Whether the point meets the SLOs: every run judged met them.
    pub meets: bool,
    /// Each objective across the runs, in the runs' order.
    pub checks: Vec<CheckAggregate>,
}

/// One objective across a point's runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CheckAggregate {
    /// `latency`, `ttft`, `tpot`, `itl` or `success_rate`.
    pub objective: String,
    /// The percentile judged, for a time objective.
    pub p: Option<f64>,
    /// The bound: ms for a time, percent for the success rate.
    pub limit: f64,
    /// What the runs measured: median and MAD over the runs that measured it.
    pub value: Option<Spread>,
    /// Runs where it held.
    pub runs_meeting: u32,
}

impl SloAggregate {
    /// The aggregate of `runs` (the runs medians are taken over) and `all` (every run, for
    /// sums); `None` when no run was judged.
    pub(crate) fn of(runs: &[&SloVerdict], all: &[&SloVerdict]) -> Option<Self> {
        let first = all.first()?;
        let checks = first
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let same = || runs.iter().filter_map(|r| r.checks.get(i));
                CheckAggregate {
                    objective: c.objective.clone(),
                    p: c.p,
                    limit: c.limit,
                    value: median_mad(&same().filter_map(|c| c.value).collect::<Vec<_>>()),
                    runs_meeting: same().filter(|c| c.meets).count() as u32,
                }
            })
            .collect();
        let runs_meeting = runs.iter().filter(|r| r.meets).count() as u32;
        Some(Self {
            goodput_rps: median_mad(&runs.iter().map(|r| r.goodput_rps).collect::<Vec<_>>()),
            good: all.iter().map(|r| r.good).sum(),
            runs: runs.len() as u32,
            runs_meeting,
            meets: !runs.is_empty() && runs_meeting == runs.len() as u32,
            checks,
        })
    }
}

#[cfg(test)]
mod tests;
