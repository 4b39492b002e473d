//! The headline figures `compare` judges, as one table: each figure's key (what `--fail-on`
//! names), its label, how to read it off one run, which way is better, and its unit. A new
//! figure — an open-loop point's response time or goodput, say — is one more row, and a
//! threshold key at once: `[thresholds]` may bound every figure of this table and of
//! `more_figures` (more percentiles, error counts by kind, the open loop's own figures).
//!
//! Figures are read per run, because the noise rule needs every run's value, not only the
//! median: `values` gives them, over the same runs the report's medians are taken over.
//!
//! Failures are judged as shares of requests — the success rate, and 429 retries per 100
//! requests — never as counts per run: in a phase bounded by time a count grows with
//! throughput, so "fewer errors" would often mean only "fewer requests".

use serde::{Deserialize, Serialize};

use crate::metrics::{LatencySummary, OpenLoopStats, PointResult, RunStats};

/// Which way a figure improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// More is better (throughput, success rate, tokens/s).
    Higher,
    /// Less is better (latencies, retries).
    Lower,
}

/// A figure's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Requests per second.
    RequestsPerSec,
    /// Percent (of requests: the success rate).
    Percent,
    /// Events per 100 requests (retries: may pass 100).
    PercentOfRequests,
    /// Milliseconds.
    Ms,
    /// Completion tokens per second.
    TokensPerSec,
    /// A count of requests in one run (failures of a kind).
    Count,
    /// Yes or no, as 1 or 0 (client-bound).
    Bool,
}

impl Unit {
    /// The unit as people read it after a number: `req/s`, `%`, `ms`, `tokens/s`,
    /// `% of requests`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::RequestsPerSec => "req/s",
            Self::Percent => "%",
            Self::Ms => "ms",
            Self::TokensPerSec => "tokens/s",
            Self::PercentOfRequests => "% of requests",
            Self::Count => "requests",
            Self::Bool => "yes/no",
        }
    }

    /// Whether a move of this unit must reach `noise::FLOOR` to count: times (HDR bucket
    /// midpoints) and rates do; percentages of requests count every request.
    pub fn has_floor(self) -> bool {
        matches!(self, Self::Ms | Self::RequestsPerSec | Self::TokensPerSec)
    }
}

/// One headline figure.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    /// Its key, as `--fail-on` and `--json` name it: `latency_p99`.
    pub key: &'static str,
    /// Its label in Markdown: `latency p99`.
    pub label: &'static str,
    /// Its value in one run, in `unit`; `None` when the run has no such figure (no request
    /// succeeded, not a stream, no usage reported).
    pub of_run: fn(&RunStats) -> Option<f64>,
    /// Which way it improves.
    pub better: Better,
    /// Its unit.
    pub unit: Unit,
}

/// `pick` of a latency summary, in milliseconds.
fn ms(summary: Option<&LatencySummary>, pick: fn(&LatencySummary) -> u64) -> Option<f64> {
    summary.map(|s| pick(s) as f64 / 1000.0)
}

/// `count` per 100 of `requests`; `None` without a request.
fn share(count: u64, requests: u64) -> Option<f64> {
    (requests > 0).then(|| 100.0 * count as f64 / requests as f64)
}

fn stream_ms(
    r: &RunStats,
    which: fn(&crate::metrics::StreamSummary) -> Option<&LatencySummary>,
    pick: fn(&LatencySummary) -> u64,
) -> Option<f64> {
    ms(r.stream.as_ref().and_then(which), pick)
}

/// The p99 of an open loop's distribution `which`, in ms; `None` for a closed loop.
fn open_p99(r: &RunStats, which: fn(&OpenLoopStats) -> Option<&LatencySummary>) -> Option<f64> {
    ms(r.open_loop.as_ref().and_then(which), |l| l.p99_us)
}

/// Every headline figure, in the order reports list them. An open loop's latency is its
/// response time (from the intended start), so `latency_*` and `response_*` agree on rate
/// points; `response_*` exist on rate points only.
pub const FIGURES: &[Figure] = &[
    Figure {
        key: "throughput",
        label: "throughput",
        of_run: |r| Some(r.throughput_rps),
        better: Better::Higher,
        unit: Unit::RequestsPerSec,
    },
    Figure {
        key: "success_rate",
        label: "success rate",
        of_run: |r| r.success_rate,
        better: Better::Higher,
        unit: Unit::Percent,
    },
    Figure {
        key: "latency_p50",
        label: "latency p50",
        of_run: |r| ms(r.latency.as_ref(), |l| l.p50_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "latency_p95",
        label: "latency p95",
        of_run: |r| ms(r.latency.as_ref(), |l| l.p95_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "latency_p99",
        label: "latency p99",
        of_run: |r| ms(r.latency.as_ref(), |l| l.p99_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "ttfb_p50",
        label: "TTFB p50",
        of_run: |r| ms(r.ttfb.as_ref(), |l| l.p50_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "ttft_p50",
        label: "TTFT p50",
        of_run: |r| stream_ms(r, |s| s.ttft.as_ref(), |l| l.p50_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "ttft_p99",
        label: "TTFT p99",
        of_run: |r| stream_ms(r, |s| s.ttft.as_ref(), |l| l.p99_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "itl_p50",
        label: "ITL p50",
        of_run: |r| stream_ms(r, |s| s.itl.as_ref(), |l| l.p50_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "tpot_p50",
        label: "TPOT p50",
        of_run: |r| stream_ms(r, |s| s.tpot.as_ref(), |l| l.p50_us),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "tokens_per_sec",
        label: "completion tokens",
        of_run: |r| r.usage.completion_tokens_per_sec,
        better: Better::Higher,
        unit: Unit::TokensPerSec,
    },
    Figure {
        key: "retries",
        label: "429 retries",
        of_run: |r| share(r.retries, r.requests),
        better: Better::Lower,
        unit: Unit::PercentOfRequests,
    },
    Figure {
        key: "goodput",
        label: "goodput",
        of_run: |r| r.slo.as_ref().map(|s| s.goodput_rps),
        better: Better::Higher,
        unit: Unit::RequestsPerSec,
    },
    Figure {
        key: "response_p50",
        label: "response time p50",
        of_run: |r| {
            r.open_loop
                .as_ref()
                .and(ms(r.latency.as_ref(), |l| l.p50_us))
        },
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "response_p99",
        label: "response time p99",
        of_run: |r| {
            r.open_loop
                .as_ref()
                .and(ms(r.latency.as_ref(), |l| l.p99_us))
        },
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "service_p99",
        label: "service time p99",
        of_run: |r| open_p99(r, |o| o.service_time.as_ref()),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "send_lag_p99",
        label: "send lag p99",
        of_run: |r| open_p99(r, |o| o.send_lag.as_ref()),
        better: Better::Lower,
        unit: Unit::Ms,
    },
    Figure {
        key: "achieved_rate",
        label: "achieved rate",
        of_run: |r| r.open_loop.as_ref().and_then(|o| o.achieved_rps),
        better: Better::Higher,
        unit: Unit::RequestsPerSec,
    },
    Figure {
        key: "search_rate",
        label: "highest rate meeting the SLOs",
        of_run: |r| r.search.as_ref().and_then(|s| s.answer_rps),
        better: Better::Higher,
        unit: Unit::RequestsPerSec,
    },
];

/// The figure named `key`.
pub fn figure(key: &str) -> Option<&'static Figure> {
    FIGURES.iter().find(|f| f.key == key)
}

/// `figure`'s value in each run of `point` that has it, in run order. The runs are those the
/// report's medians are taken over (`runs`).
pub fn values(point: &PointResult, figure: &Figure) -> Vec<f64> {
    runs(point).filter_map(|r| (figure.of_run)(r)).collect()
}

/// The runs of `point` the report's medians are taken over, in run order: the complete ones,
/// or all of them when none is complete.
pub fn runs(point: &PointResult) -> impl Iterator<Item = &RunStats> {
    let any_complete = point.runs.iter().any(|r| !r.partial);
    point
        .runs
        .iter()
        .filter(move |r| !(any_complete && r.partial))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{StreamSummary, aggregate};

    fn run(p99_us: u64, partial: bool) -> RunStats {
        RunStats {
            throughput_rps: 100.0,
            latency: Some(LatencySummary {
                p99_us,
                ..Default::default()
            }),
            partial,
            ..Default::default()
        }
    }

    #[test]
    fn keys_are_unique_and_found() {
        for (i, f) in FIGURES.iter().enumerate() {
            assert!(FIGURES[i + 1..].iter().all(|g| g.key != f.key), "{}", f.key);
            assert_eq!(figure(f.key).map(|g| g.label), Some(f.label));
        }
        assert!(figure("latency_p98").is_none());
    }

    #[test]
    fn open_loop_slo_and_search_figures_exist_where_measured() {
        let keys = [
            "goodput",
            "response_p50",
            "response_p99",
            "service_p99",
            "send_lag_p99",
            "achieved_rate",
            "search_rate",
        ];
        let of = |r: &RunStats| keys.map(|k| (figure(k).unwrap().of_run)(r));
        let closed = run(4_000, false);
        assert_eq!(
            of(&closed),
            [None; 7],
            "a closed run without [slo] has none"
        );
        let mut open = closed.clone();
        open.open_loop = Some(crate::metrics::OpenLoopStats {
            achieved_rps: Some(99.5),
            service_time: Some(LatencySummary {
                p99_us: 3_000,
                ..Default::default()
            }),
            send_lag: Some(LatencySummary {
                p99_us: 250,
                ..Default::default()
            }),
            ..Default::default()
        });
        open.slo = Some(crate::metrics::SloVerdict {
            goodput_rps: 97.0,
            ..Default::default()
        });
        open.search = Some(crate::metrics::SearchRun {
            answer_rps: Some(120.0),
            ..Default::default()
        });
        assert_eq!(
            of(&open),
            [97.0, 0.0, 4.0, 3.0, 0.25, 99.5, 120.0].map(Some)
        );
    }

    #[test]
    fn values_come_from_the_runs_the_medians_use() {
        let point = |runs: Vec<RunStats>| PointResult {
            id: "p".into(),
            route: "chat".into(),
            path: "/".into(),
            payload: None,
            payload_bytes: 0,
            load: crate::scenario::LoadModel::Closed {
                concurrency: std::num::NonZeroU32::MIN,
            },
            stream: false,
            vars: Default::default(),
            aggregate: aggregate(&runs),
            runs,
            partial: false,
            finished_unix_ms: None,
            client: None,
        };
        let p99 = figure("latency_p99").unwrap();
        let p = point(vec![run(2_000, false), run(9_000, true), run(4_000, false)]);
        assert_eq!(values(&p, p99), [2.0, 4.0]);
        assert_eq!(
            crate::metrics::median_mad(&values(&p, p99)),
            p.aggregate.latency_p99_ms
        );
        // Only cut runs: they are all there is.
        let cut = point(vec![run(9_000, true)]);
        assert_eq!(values(&cut, p99), [9.0]);
        // A figure a run lacks is skipped, not zero.
        let mut failed = run(0, false);
        failed.latency = None;
        assert!(values(&point(vec![failed]), p99).is_empty());
        let ttft = figure("ttft_p50").unwrap();
        let mut streamed = run(1_000, false);
        streamed.stream = Some(StreamSummary {
            ttft: Some(LatencySummary {
                p50_us: 1_500,
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(values(&point(vec![streamed]), ttft), [1.5]);
    }
}
