//! The figures `[thresholds]` may bound beyond the headline ones `compare` judges (`FIGURES`):
//! the other percentiles, failures counted by kind, whether the client limited the run, and
//! an open loop's own figures. One row each, read off one run like every figure; `all` is
//! both tables, the headline rows first, so a new headline row is a threshold key at once.
//!
//! Failures here are counts per run (`errors_timeout`), which a threshold may also bound as a
//! share of the run's requests (`"< 1%"`); a status code of its own (`errors_503`) is a
//! `Measure`, not a row.

use super::figures::{Better, FIGURES, Figure, Unit};
use crate::metrics::{LatencySummary, OpenLoopStats, OutcomeCounts, RunStats, StreamSummary};

/// Every figure a threshold may bound: the headline ones, then the others.
pub fn all() -> impl Iterator<Item = &'static Figure> {
    FIGURES.iter().chain(MORE)
}

/// The figure named `key`, from either table.
pub fn lookup(key: &str) -> Option<&'static Figure> {
    all().find(|f| f.key == key)
}

/// A time in milliseconds, lower is better.
const fn ms(key: &'static str, label: &'static str, of_run: RunFigure) -> Figure {
    row(key, label, of_run, Better::Lower, Unit::Ms)
}

/// A count of failures, fewer is better.
const fn count(key: &'static str, label: &'static str, of_run: RunFigure) -> Figure {
    row(key, label, of_run, Better::Lower, Unit::Count)
}

const fn row(
    key: &'static str,
    label: &'static str,
    of_run: RunFigure,
    better: Better,
    unit: Unit,
) -> Figure {
    Figure {
        key,
        label,
        of_run,
        better,
        unit,
    }
}

type RunFigure = fn(&RunStats) -> Option<f64>;

/// `pick` of a latency summary, in milliseconds.
fn at(summary: Option<&LatencySummary>, pick: fn(&LatencySummary) -> u64) -> Option<f64> {
    summary.map(|s| pick(s) as f64 / 1000.0)
}

/// `pick` of a stream distribution (`None` on a JSON route), in milliseconds.
fn stream(
    r: &RunStats,
    which: fn(&StreamSummary) -> Option<&LatencySummary>,
    pick: fn(&LatencySummary) -> u64,
) -> Option<f64> {
    at(r.stream.as_ref().and_then(which), pick)
}

/// `pick` of an open-loop distribution (`None` on a closed loop), in milliseconds.
fn open(
    r: &RunStats,
    which: fn(&OpenLoopStats) -> Option<&LatencySummary>,
    pick: fn(&LatencySummary) -> u64,
) -> Option<f64> {
    at(r.open_loop.as_ref().and_then(which), pick)
}

/// A count of the run's final outcomes.
fn failed(r: &RunStats, pick: fn(&OutcomeCounts) -> u64) -> Option<f64> {
    Some(pick(&r.outcomes) as f64)
}

/// Answers whose status is in `codes`.
fn statuses(counts: &OutcomeCounts, codes: std::ops::Range<u16>) -> u64 {
    counts
        .status
        .iter()
        .filter(|(code, _)| codes.contains(code))
        .map(|(_, n)| n)
        .sum()
}

fn yes(flag: bool) -> Option<f64> {
    Some(if flag { 1.0 } else { 0.0 })
}

/// The figures beyond the headline ones, in the order the README lists them.
pub const MORE: &[Figure] = &[
    ms("latency_p90", "latency p90", |r| {
        at(r.latency.as_ref(), |l| l.p90_us)
    }),
    ms("latency_p999", "latency p99.9", |r| {
        at(r.latency.as_ref(), |l| l.p999_us)
    }),
    ms("latency_max", "latency max", |r| {
        at(r.latency.as_ref(), |l| l.max_us)
    }),
    ms("latency_mean", "latency mean", |r| {
        r.latency.map(|l| l.mean_us / 1000.0)
    }),
    ms("ttfb_p90", "TTFB p90", |r| {
        at(r.ttfb.as_ref(), |l| l.p90_us)
    }),
    ms("ttfb_p95", "TTFB p95", |r| {
        at(r.ttfb.as_ref(), |l| l.p95_us)
    }),
    ms("ttfb_p99", "TTFB p99", |r| {
        at(r.ttfb.as_ref(), |l| l.p99_us)
    }),
    ms("ttft_p90", "TTFT p90", |r| {
        stream(r, |s| s.ttft.as_ref(), |l| l.p90_us)
    }),
    ms("ttft_p95", "TTFT p95", |r| {
        stream(r, |s| s.ttft.as_ref(), |l| l.p95_us)
    }),
    ms("itl_p90", "ITL p90", |r| {
        stream(r, |s| s.itl.as_ref(), |l| l.p90_us)
    }),
    ms("itl_p95", "ITL p95", |r| {
        stream(r, |s| s.itl.as_ref(), |l| l.p95_us)
    }),
    ms("itl_p99", "ITL p99", |r| {
        stream(r, |s| s.itl.as_ref(), |l| l.p99_us)
    }),
    ms("tpot_p90", "TPOT p90", |r| {
        stream(r, |s| s.tpot.as_ref(), |l| l.p90_us)
    }),
    ms("tpot_p95", "TPOT p95", |r| {
        stream(r, |s| s.tpot.as_ref(), |l| l.p95_us)
    }),
    ms("tpot_p99", "TPOT p99", |r| {
        stream(r, |s| s.tpot.as_ref(), |l| l.p99_us)
    }),
    row(
        "success_throughput",
        "successful throughput",
        |r| Some(r.success_rps),
        Better::Higher,
        Unit::RequestsPerSec,
    ),
    row(
        "requests",
        "requests",
        |r| Some(r.requests as f64),
        Better::Higher,
        Unit::Count,
    ),
    count("errors", "failed requests", |r| {
        failed(r, OutcomeCounts::failures)
    }),
    count("errors_connect", "connect failures", |r| {
        failed(r, |c| c.connect)
    }),
    count("errors_reset", "connection resets", |r| {
        failed(r, |c| c.reset)
    }),
    count("errors_timeout", "timeouts", |r| failed(r, |c| c.timeout)),
    count("errors_decode", "decode failures", |r| {
        failed(r, |c| c.decode)
    }),
    count("errors_stream", "broken streams", |r| {
        failed(r, |c| c.stream)
    }),
    count("errors_4xx", "4xx answers", |r| {
        failed(r, |c| statuses(c, 400..500))
    }),
    count("errors_5xx", "5xx answers", |r| {
        failed(r, |c| statuses(c, 500..600))
    }),
    row(
        "client_bound",
        "client-bound",
        |r| yes(r.client.client_bound),
        Better::Lower,
        Unit::Bool,
    ),
    ms("service_p50", "service time p50", |r| {
        open(r, |o| o.service_time.as_ref(), |l| l.p50_us)
    }),
    ms("service_p90", "service time p90", |r| {
        open(r, |o| o.service_time.as_ref(), |l| l.p90_us)
    }),
    ms("service_p95", "service time p95", |r| {
        open(r, |o| o.service_time.as_ref(), |l| l.p95_us)
    }),
    ms("service_ttft_p50", "service TTFT p50", |r| {
        open(r, |o| o.service_ttft.as_ref(), |l| l.p50_us)
    }),
    ms("service_ttft_p99", "service TTFT p99", |r| {
        open(r, |o| o.service_ttft.as_ref(), |l| l.p99_us)
    }),
    ms("send_lag_p50", "send lag p50", |r| {
        open(r, |o| o.send_lag.as_ref(), |l| l.p50_us)
    }),
    ms("send_lag_max", "send lag max", |r| {
        open(r, |o| o.send_lag.as_ref(), |l| l.max_us)
    }),
    ms("queue_p99", "queue time p99", |r| {
        open(r, |o| o.queue_time.as_ref(), |l| l.p99_us)
    }),
    count("dropped", "dropped requests", |r| {
        r.open_loop.as_ref().map(|o| o.dropped as f64)
    }),
    row(
        "behind_schedule",
        "behind schedule",
        |r| r.open_loop.as_ref().and_then(|o| yes(o.behind_schedule)),
        Better::Lower,
        Unit::Bool,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ClientStats;

    #[test]
    fn keys_are_unique_across_both_tables() {
        let keys: Vec<&str> = all().map(|f| f.key).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "`{k}` twice");
            assert_eq!(lookup(k).map(|f| f.key), Some(*k));
        }
        assert_eq!(lookup("latency_p99").map(|f| f.label), Some("latency p99"));
        assert!(lookup("latency_p98").is_none());
    }

    #[test]
    fn failures_are_counted_by_kind_and_status_class() {
        let mut outcomes = OutcomeCounts {
            success: 90,
            timeout: 2,
            reset: 1,
            ..Default::default()
        };
        outcomes.status.insert(404, 3);
        outcomes.status.insert(500, 4);
        outcomes.status.insert(503, 5);
        let run = RunStats {
            requests: 105,
            outcomes,
            client: ClientStats {
                client_bound: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let read = |key: &str| (lookup(key).unwrap().of_run)(&run);
        assert_eq!(read("errors"), Some(15.0));
        assert_eq!(read("errors_4xx"), Some(3.0));
        assert_eq!(read("errors_5xx"), Some(9.0));
        assert_eq!(read("errors_timeout"), Some(2.0));
        assert_eq!(read("errors_reset"), Some(1.0));
        assert_eq!(read("errors_connect"), Some(0.0), "a count of none is 0");
        assert_eq!(read("requests"), Some(105.0));
        assert_eq!(read("client_bound"), Some(1.0));
        // Figures of other kinds of point do not exist here.
        assert_eq!(read("itl_p99"), None);
        assert_eq!(read("send_lag_p99"), None);
        assert_eq!(read("behind_schedule"), None);
        assert_eq!(read("dropped"), None);
    }

    #[test]
    fn open_loop_figures_come_from_the_open_loop() {
        let run = RunStats {
            open_loop: Some(OpenLoopStats {
                achieved_rps: Some(49.5),
                send_lag: Some(LatencySummary {
                    p99_us: 1_250,
                    ..Default::default()
                }),
                dropped: 3,
                behind_schedule: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let read = |key: &str| (lookup(key).unwrap().of_run)(&run);
        assert_eq!(read("achieved_rate"), Some(49.5));
        assert_eq!(read("send_lag_p99"), Some(1.25));
        assert_eq!(read("dropped"), Some(3.0));
        assert_eq!(read("behind_schedule"), Some(1.0));
        assert_eq!(read("service_p99"), None, "no request succeeded");
    }
}
