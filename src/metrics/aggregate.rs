//! Median and median absolute deviation of a point's headline figures across its runs.

use super::external::ExternalFigures;
use super::open_loop::OpenLoopAggregate;
use super::samples::merge_samples;
use super::search::SearchAggregate;
use super::slo::SloAggregate;
use super::summary::{
    LatencySummary, PointAggregate, RunStats, Spread, StreamAggregate, StreamSummary, Totals,
};
use crate::external::Percentiles;

/// Median and MAD of `values`; `None` when there are none. Even counts average the middle two.
pub fn median_mad(values: &[f64]) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    let median = median_of(values.to_vec());
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    Some(Spread {
        median,
        mad: median_of(deviations),
    })
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Median and MAD of `figure` over the runs that have it.
fn spread<T>(items: &[&T], figure: impl Fn(&T) -> Option<f64>) -> Option<Spread> {
    median_mad(&items.iter().filter_map(|x| figure(x)).collect::<Vec<_>>())
}

/// `pick` of a summary, in milliseconds.
fn ms(summary: Option<&LatencySummary>, pick: fn(&LatencySummary) -> u64) -> Option<f64> {
    summary.map(|s| pick(s) as f64 / 1000.0)
}

/// The runs a point's medians are taken over: the complete ones, or every run when a stop cut
/// each of them short.
pub fn basis(runs: &[RunStats]) -> Vec<&RunStats> {
    let complete: Vec<&RunStats> = runs.iter().filter(|r| !r.partial).collect();
    if complete.is_empty() {
        runs.iter().collect()
    } else {
        complete
    }
}

/// The stream figures external clients reported (TTFT percentiles, bytes per second), when
/// any run has one.
fn reported_stream(basis: &[&RunStats]) -> Option<StreamAggregate> {
    let reported: Vec<&ExternalFigures> =
        basis.iter().filter_map(|r| r.external.as_ref()).collect();
    let ttft = |pick: fn(&Percentiles) -> Option<f64>| {
        spread(&reported, move |e: &ExternalFigures| {
            e.ttft_ms.as_ref().and_then(pick)
        })
    };
    let stream = StreamAggregate {
        ttft_p50_ms: ttft(|p| p.p50),
        ttft_p95_ms: ttft(|p| p.p95),
        ttft_p99_ms: ttft(|p| p.p99),
        bytes_per_sec: spread(&reported, |e| e.sse_bytes_per_sec),
        ..StreamAggregate::default()
    };
    let any = reported
        .iter()
        .any(|e| e.ttft_ms.is_some() || e.sse_bytes_per_sec.is_some());
    any.then_some(stream)
}

/// The headline figures of `runs`, each as median and MAD, plus totals over every run.
///
/// Which runs a figure's median is taken over: runs a stop cut short count only when no run
/// is complete (a partial run's rate and tail are not comparable with full ones); of those,
/// only the runs that have the figure — so a run where everything failed adds no latency, and
/// a figure no run has is `None`.
pub fn aggregate(runs: &[RunStats]) -> PointAggregate {
    let mut totals = Totals::default();
    for r in runs {
        totals.requests += r.requests;
        totals.attempts += r.attempts;
        totals.retries += r.retries;
        totals.first_attempt.add(&r.first_attempt);
        totals.outcomes.add(&r.outcomes);
        totals.body_bytes += r.body_bytes;
        totals.prompt_tokens += r.usage.prompt_tokens;
        totals.completion_tokens += r.usage.completion_tokens;
        totals.estimated_requests += r.usage.estimated_requests;
        totals.not_streamed += r.stream.as_ref().map_or(0, |s| s.not_streamed);
        totals.journal_dropped += r.journal_dropped;
    }
    let basis = basis(runs);
    let streams: Vec<&StreamSummary> = basis.iter().filter_map(|r| r.stream.as_ref()).collect();
    let stream = if streams.is_empty() {
        reported_stream(&basis)
    } else {
        Some(StreamAggregate {
            ttft_p50_ms: spread(&streams, |x| ms(x.ttft.as_ref(), |l| l.p50_us)),
            ttft_p95_ms: spread(&streams, |x| ms(x.ttft.as_ref(), |l| l.p95_us)),
            ttft_p99_ms: spread(&streams, |x| ms(x.ttft.as_ref(), |l| l.p99_us)),
            itl_p50_ms: spread(&streams, |x| ms(x.itl.as_ref(), |l| l.p50_us)),
            itl_p99_ms: spread(&streams, |x| ms(x.itl.as_ref(), |l| l.p99_us)),
            tpot_p50_ms: spread(&streams, |x| ms(x.tpot.as_ref(), |l| l.p50_us)),
            bytes_per_sec: spread(&streams, |x| x.bytes_per_sec),
        })
    };
    // An external client's run has no histogram: its own p50, p95 and p99 stand in.
    let latency = |pick: fn(&LatencySummary) -> u64, reported: fn(&Percentiles) -> Option<f64>| {
        spread(&basis, move |r: &RunStats| match &r.external {
            Some(e) => reported(&e.latency_ms),
            None => ms(r.latency.as_ref(), pick),
        })
    };
    let none = |_: &Percentiles| None;
    // Runtime figures exist for the built-in engine only.
    let engine: Vec<&RunStats> = basis
        .iter()
        .copied()
        .filter(|r| r.external.is_none())
        .collect();
    PointAggregate {
        runs: basis.len() as u32,
        throughput_rps: spread(&basis, |r| Some(r.throughput_rps)),
        success_rps: spread(&basis, |r| Some(r.success_rps)),
        success_rate: spread(&basis, |r| r.success_rate),
        latency_p50_ms: latency(|l| l.p50_us, |p| p.p50),
        latency_p90_ms: latency(|l| l.p90_us, none),
        latency_p95_ms: latency(|l| l.p95_us, |p| p.p95),
        latency_p99_ms: latency(|l| l.p99_us, |p| p.p99),
        latency_p999_ms: latency(|l| l.p999_us, none),
        latency_mean_ms: spread(&basis, |r| r.latency.map(|l| l.mean_us / 1000.0)),
        ttfb_p50_ms: spread(&basis, |r| ms(r.ttfb.as_ref(), |l| l.p50_us)),
        tokens_per_sec: spread(&basis, |r| r.usage.completion_tokens_per_sec),
        stream,
        totals,
        peak_rss_bytes: runs.iter().map(|r| r.client.peak_rss_bytes).max(),
        client_cpu_utilization: spread(&basis, |r| Some(r.client.cpu_utilization)),
        busiest_thread_share: spread(&engine, |r| Some(r.client.busiest_thread_share)),
        lag_p99_us: spread(&engine, |r| Some(r.client.lag_p99_us as f64)),
        client_bound: runs.iter().any(|r| r.client.client_bound),
        error_samples: merge_samples(runs.iter().map(|r| r.error_samples.as_slice())),
        open_loop: OpenLoopAggregate::of(
            &basis
                .iter()
                .filter_map(|r| r.open_loop.as_ref())
                .collect::<Vec<_>>(),
            &runs
                .iter()
                .filter_map(|r| r.open_loop.as_ref())
                .collect::<Vec<_>>(),
        ),
        slo: SloAggregate::of(
            &basis
                .iter()
                .filter_map(|r| r.slo.as_ref())
                .collect::<Vec<_>>(),
            &runs
                .iter()
                .filter_map(|r| r.slo.as_ref())
                .collect::<Vec<_>>(),
        ),
        search: SearchAggregate::of(
            &basis
                .iter()
                .filter_map(|r| r.search.as_ref())
                .collect::<Vec<_>>(),
            &runs
                .iter()
                .filter_map(|r| r.search.as_ref())
                .collect::<Vec<_>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::UsageTotals;

    fn spread(median: f64, mad: f64) -> Option<Spread> {
        Some(Spread { median, mad })
    }

    #[test]
    fn median_and_mad_by_hand() {
        assert_eq!(median_mad(&[]), None);
        assert_eq!(median_mad(&[5.0]), spread(5.0, 0.0));
        // median 3; deviations 2, 1, 0, 1, 6 -> MAD 1
        assert_eq!(median_mad(&[1.0, 2.0, 3.0, 4.0, 9.0]), spread(3.0, 1.0));
        // even: median (2 + 4) / 2 = 3; deviations 2, 1, 1, 5 -> MAD (1 + 2) / 2 = 1.5
        assert_eq!(median_mad(&[4.0, 1.0, 8.0, 2.0]), spread(3.0, 1.5));
    }

    #[test]
    fn aggregate_sums_totals_and_takes_medians() {
        let run = |rps: f64, requests: u64| RunStats {
            throughput_rps: rps,
            requests,
            ..Default::default()
        };
        let a = aggregate(&[run(100.0, 10), run(300.0, 30), run(200.0, 20)]);
        assert_eq!(a.runs, 3);
        assert_eq!(a.throughput_rps, spread(200.0, 100.0));
        assert_eq!(a.totals.requests, 60);
        assert!(a.stream.is_none());
    }

    fn answered(p50_us: u64, rps: f64) -> RunStats {
        RunStats {
            throughput_rps: rps,
            requests: 10,
            success_rate: Some(100.0),
            latency: Some(LatencySummary {
                count: 10,
                p50_us,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn runs_without_answers_and_partial_runs_stay_out_of_medians() {
        let failed = RunStats {
            throughput_rps: 50.0,
            requests: 10,
            success_rate: Some(0.0),
            ..Default::default()
        };
        let cut = RunStats {
            partial: true,
            ..answered(99_000, 1.0)
        };
        let a = aggregate(&[answered(10_000, 100.0), failed, cut]);
        assert_eq!(
            a.runs, 2,
            "the partial run is left out while complete runs exist"
        );
        assert_eq!(
            a.latency_p50_ms,
            spread(10.0, 0.0),
            "the failed run adds no zero"
        );
        assert_eq!(a.throughput_rps, spread(75.0, 25.0));
        assert_eq!(a.success_rate, spread(50.0, 50.0));
        assert_eq!(a.totals.requests, 30, "totals count every run");

        let only_cut = aggregate(&[RunStats {
            partial: true,
            ..answered(5_000, 10.0)
        }]);
        assert_eq!(only_cut.runs, 1);
        assert_eq!(only_cut.latency_p50_ms, spread(5.0, 0.0));
    }

    #[test]
    fn a_figure_no_run_has_does_not_exist() {
        let failed = RunStats {
            throughput_rps: 300.0,
            requests: 3_000,
            success_rate: Some(0.0),
            stream: Some(StreamSummary::default()),
            ..Default::default()
        };
        let a = aggregate(&[failed.clone(), failed]);
        assert_eq!(
            a.throughput_rps,
            spread(300.0, 0.0),
            "a rate of failures exists"
        );
        for (name, figure) in [
            ("p50", a.latency_p50_ms),
            ("p99.9", a.latency_p999_ms),
            ("mean", a.latency_mean_ms),
            ("ttfb", a.ttfb_p50_ms),
            ("tokens/s", a.tokens_per_sec),
        ] {
            assert_eq!(figure, None, "{name}");
        }
        let s = a.stream.expect("a stream route");
        assert_eq!(
            (s.ttft_p50_ms, s.itl_p99_ms, s.bytes_per_sec),
            (None, None, None)
        );

        let nothing = aggregate(&[]);
        assert_eq!(nothing.runs, 0);
        assert_eq!(nothing.throughput_rps, None, "no run, no rate");
        assert_eq!(nothing.peak_rss_bytes, None);
    }

    #[test]
    fn tokens_per_second_come_from_usage_on_every_route() {
        let with_usage = |tokens_per_sec: f64| RunStats {
            usage: UsageTotals {
                requests: 10,
                completion_tokens: 100,
                completion_tokens_per_sec: Some(tokens_per_sec),
                ..Default::default()
            },
            ..answered(2_000, 10.0)
        };
        let a = aggregate(&[with_usage(2_599.5), with_usage(2_600.5)]);
        assert_eq!(a.tokens_per_sec, spread(2_600.0, 0.5));
        assert!(a.stream.is_none(), "a JSON route has tokens/s too");
    }

    #[test]
    fn an_external_clients_reported_figures_stand_in_for_its_histograms() {
        use crate::external::Percentiles;
        use crate::metrics::ExternalFigures;
        let reported = |p50: f64| Percentiles {
            p50: Some(p50),
            p95: Some(p50 * 2.0),
            p99: None,
        };
        let run = |p50: f64| RunStats {
            throughput_rps: 100.0,
            requests: 10,
            external: Some(ExternalFigures {
                latency_ms: reported(p50),
                ttft_ms: Some(reported(p50 / 4.0)),
                sse_bytes_per_sec: Some(5_000.0),
                total_bytes: Some(50_000),
                cpu_per_1k_requests: Some(0.5),
                parent_cpu_secs: 0.01,
                wall_secs: 4.0,
            }),
            ..Default::default()
        };
        let a = aggregate(&[run(2.0), run(4.0)]);
        assert_eq!(a.latency_p50_ms, spread(3.0, 1.0));
        assert_eq!(a.latency_p95_ms, spread(6.0, 2.0));
        assert_eq!(a.latency_p99_ms, None, "not reported");
        assert_eq!(a.latency_p90_ms, None, "never reported");
        let s = a.stream.expect("reported stream figures");
        assert_eq!(s.ttft_p50_ms, spread(0.75, 0.25));
        assert_eq!(s.bytes_per_sec, spread(5_000.0, 0.0));
        assert_eq!(s.itl_p50_ms, None);
        assert_eq!(
            (a.busiest_thread_share, a.lag_p99_us),
            (None, None),
            "a program has no runtime figures, not zeros"
        );
    }

    #[test]
    fn not_streamed_requests_are_summed_over_every_run() {
        let run = |not_streamed: u64, partial: bool| RunStats {
            partial,
            stream: Some(StreamSummary {
                not_streamed,
                ..Default::default()
            }),
            ..answered(2_000, 10.0)
        };
        let a = aggregate(&[run(13, false), run(7, false), run(2, true)]);
        assert_eq!(a.totals.not_streamed, 22);
    }
}
