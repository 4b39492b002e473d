//! Median and median absolute deviation of a point's headline figures across its runs.

use super::samples::merge_samples;
use super::summary::{PointAggregate, RunStats, Spread, StreamAggregate, StreamSummary, Totals};

/// Median and MAD of `values` (empty gives zeros). Even counts average the middle two.
pub fn median_mad(values: &[f64]) -> Spread {
    if values.is_empty() {
        return Spread::default();
    }
    let median = median_of(values.to_vec());
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    Spread {
        median,
        mad: median_of(deviations),
    }
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

fn spread(runs: &[&RunStats], figure: impl Fn(&RunStats) -> f64) -> Spread {
    median_mad(&runs.iter().map(|r| figure(r)).collect::<Vec<_>>())
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The headline figures of `runs`, each as median and MAD, plus totals over every run.
///
/// Which runs a figure's median is taken over: runs a stop cut short count only when no run
/// is complete (a partial run's rate and tail are not comparable with full ones); latency and
/// stream percentiles come only from runs that have successful requests, so a run where
/// everything failed adds no zero to the median.
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
        totals.journal_dropped += r.journal_dropped;
    }
    let complete: Vec<&RunStats> = runs.iter().filter(|r| !r.partial).collect();
    let basis = if complete.is_empty() {
        runs.iter().collect()
    } else {
        complete
    };
    let answered: Vec<&RunStats> = basis
        .iter()
        .copied()
        .filter(|r| r.latency.count > 0)
        .collect();
    let streams: Vec<&StreamSummary> = basis.iter().filter_map(|r| r.stream.as_ref()).collect();
    let timed: Vec<&StreamSummary> = streams
        .iter()
        .copied()
        .filter(|s| s.ttft.count > 0)
        .collect();
    let stream = (!streams.is_empty()).then(|| {
        let of = |set: &[&StreamSummary], f: &dyn Fn(&StreamSummary) -> f64| {
            median_mad(&set.iter().map(|x| f(x)).collect::<Vec<_>>())
        };
        StreamAggregate {
            ttft_p50_ms: of(&timed, &|x| ms(x.ttft.p50_us)),
            ttft_p95_ms: of(&timed, &|x| ms(x.ttft.p95_us)),
            ttft_p99_ms: of(&timed, &|x| ms(x.ttft.p99_us)),
            itl_p50_ms: of(&timed, &|x| ms(x.itl.p50_us)),
            itl_p99_ms: of(&timed, &|x| ms(x.itl.p99_us)),
            tpot_p50_ms: of(&timed, &|x| ms(x.tpot.p50_us)),
            // Rates are real figures even when nothing arrived: zero.
            tokens_per_sec: of(&streams, &|x| x.tokens_per_sec),
            bytes_per_sec: of(&streams, &|x| x.bytes_per_sec),
            tokens_estimated: streams.iter().any(|x| x.tokens_estimated),
        }
    });
    PointAggregate {
        runs: basis.len() as u32,
        throughput_rps: spread(&basis, |r| r.throughput_rps),
        success_rps: spread(&basis, |r| r.success_rps),
        success_rate: spread(&basis, |r| r.success_rate),
        latency_p50_ms: spread(&answered, |r| ms(r.latency.p50_us)),
        latency_p90_ms: spread(&answered, |r| ms(r.latency.p90_us)),
        latency_p95_ms: spread(&answered, |r| ms(r.latency.p95_us)),
        latency_p99_ms: spread(&answered, |r| ms(r.latency.p99_us)),
        latency_p999_ms: spread(&answered, |r| ms(r.latency.p999_us)),
        latency_mean_ms: spread(&answered, |r| r.latency.mean_us / 1000.0),
        ttfb_p50_ms: spread(&answered, |r| ms(r.ttfb.p50_us)),
        stream,
        totals,
        peak_rss_bytes: runs
            .iter()
            .map(|r| r.client.peak_rss_bytes)
            .max()
            .unwrap_or(0),
        client_cpu_utilization: spread(&basis, |r| r.client.cpu_utilization),
        busiest_thread_share: spread(&basis, |r| r.client.busiest_thread_share),
        lag_p99_us: spread(&basis, |r| r.client.lag_p99_us as f64),
        client_bound: runs.iter().any(|r| r.client.client_bound),
        error_samples: merge_samples(runs.iter().map(|r| r.error_samples.as_slice())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LatencySummary;

    #[test]
    fn median_and_mad_by_hand() {
        assert_eq!(
            median_mad(&[]),
            Spread {
                median: 0.0,
                mad: 0.0
            }
        );
        assert_eq!(
            median_mad(&[5.0]),
            Spread {
                median: 5.0,
                mad: 0.0
            }
        );
        // median 3; deviations 2, 1, 0, 1, 6 -> MAD 1
        assert_eq!(
            median_mad(&[1.0, 2.0, 3.0, 4.0, 9.0]),
            Spread {
                median: 3.0,
                mad: 1.0
            }
        );
        // even: median (2 + 4) / 2 = 3; deviations 2, 1, 1, 5 -> MAD (1 + 2) / 2 = 1.5
        assert_eq!(
            median_mad(&[4.0, 1.0, 8.0, 2.0]),
            Spread {
                median: 3.0,
                mad: 1.5
            }
        );
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
        assert_eq!(
            a.throughput_rps,
            Spread {
                median: 200.0,
                mad: 100.0
            }
        );
        assert_eq!(a.totals.requests, 60);
        assert!(a.stream.is_none());
    }

    #[test]
    fn runs_without_answers_and_partial_runs_stay_out_of_medians() {
        let answered = |p50_us: u64, rps: f64| RunStats {
            throughput_rps: rps,
            requests: 10,
            latency: LatencySummary {
                count: 10,
                p50_us,
                ..Default::default()
            },
            ..Default::default()
        };
        let failed = RunStats {
            throughput_rps: 50.0,
            requests: 10,
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
        assert_eq!(a.latency_p50_ms.median, 10.0, "the failed run adds no zero");
        assert_eq!(a.throughput_rps.median, 75.0);
        assert_eq!(a.totals.requests, 30, "totals count every run");

        let only_cut = aggregate(&[RunStats {
            partial: true,
            ..answered(5_000, 10.0)
        }]);
        assert_eq!(only_cut.runs, 1);
        assert_eq!(only_cut.latency_p50_ms.median, 5.0);
    }
}
