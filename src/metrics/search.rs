//! What a search for the highest rate that meets the SLOs found: per run, every probe in the
//! order it ran and the answer; per point, the answer across runs. The search itself is run
//! by `runner::search`.

use serde::{Deserialize, Serialize};

use super::aggregate::median_mad;
use super::slo::SloVerdict;
use super::summary::{RunStats, Spread};

/// One search (one run of a search point).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchRun {
    /// Every probe, in the order it ran: `min`, `max`, then the bisection.
    pub probes: Vec<Probe>,
    /// The highest probed rate that met the SLOs, requests per second; `None` when `min` did
    /// not.
    pub answer_rps: Option<f64>,
    /// The lowest probed rate that did not meet them, requests per second; `None` when `max`
    /// did.
    pub failed_rps: Option<f64>,
    /// How the search ended.
    pub end: SearchEnd,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchEnd {
    /// The answer and the lowest failing rate are within the resolution.
    #[default]
    Converged,
    /// `max` met the SLOs: the answer is at least `max`.
    AtMax,
    /// `min` did not: the answer is below `min`.
    BelowMin,
    /// A stop cut the search short: the answer is the best so far.
    Stopped,
}

impl SearchEnd {
    /// The end in words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Converged => "within the resolution",
            Self::AtMax => "max met the SLOs: the answer is at least max",
            Self::BelowMin => "min did not meet the SLOs: the answer is below min",
            Self::Stopped => "stopped early: the best so far",
        }
    }
}

/// One probe: an open-loop run at one fixed rate, judged against the SLOs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Probe {
    /// The rate probed, requests per second.
    pub rate_rps: f64,
    /// Whether the probe met the SLOs (a probe cut short by a stop never does).
    pub meets: bool,
    /// The verdict: goodput and each objective.
    pub slo: SloVerdict,
    /// Requests completed.
    pub requests: u64,
    /// Achieved rate, requests per second.
    pub achieved_rps: Option<f64>,
    /// Success rate, percent.
    pub success_rate: Option<f64>,
    /// Response time p50, ms.
    pub latency_p50_ms: Option<f64>,
    /// Response time p99, ms.
    pub latency_p99_ms: Option<f64>,
    /// TTFT p99 from the intended start, ms (streams).
    pub ttft_p99_ms: Option<f64>,
    /// Whether the load generator fell behind the probe's schedule.
    pub behind_schedule: bool,
    /// Whether a stop cut the probe short.
    pub partial: bool,
}

impl Probe {
    /// The probe of `stats`, a measure phase at `rate_rps` already judged.
    pub fn of(rate_rps: f64, stats: &RunStats) -> Self {
        let slo = stats.slo.clone().unwrap_or_default();
        let ms = |us: u64| us as f64 / 1000.0;
        let open = stats.open_loop.as_ref();
        Self {
            rate_rps,
            meets: slo.meets && !stats.partial,
            requests: stats.requests,
            achieved_rps: open.and_then(|o| o.achieved_rps),
            success_rate: stats.success_rate,
            latency_p50_ms: stats.latency.map(|l| ms(l.p50_us)),
            latency_p99_ms: stats.latency.map(|l| ms(l.p99_us)),
            ttft_p99_ms: stats
                .stream
                .as_ref()
                .and_then(|s| s.ttft)
                .map(|t| ms(t.p99_us)),
            behind_schedule: open.is_some_and(|o| o.behind_schedule),
            partial: stats.partial,
            slo,
        }
    }
}

/// A search point's answer across its runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SearchAggregate {
    /// The highest rate that met the SLOs, requests per second: median and MAD over the runs
    /// that found one.
    pub answer_rps: Option<Spread>,
    /// How each run's search ended, in run order.
    pub ends: Vec<SearchEnd>,
    /// Probes run, summed over every run.
    pub probes: u64,
}

impl SearchAggregate {
    /// The aggregate of `runs` (the runs medians are taken over) and `all` (every run);
    /// `None` when no run searched.
    pub(crate) fn of(runs: &[&SearchRun], all: &[&SearchRun]) -> Option<Self> {
        if all.is_empty() {
            return None;
        }
        Some(Self {
            answer_rps: median_mad(&runs.iter().filter_map(|r| r.answer_rps).collect::<Vec<_>>()),
            ends: all.iter().map(|r| r.end).collect(),
            probes: all.iter().map(|r| r.probes.len() as u64).sum(),
        })
    }
}
