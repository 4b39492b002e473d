//! The per-point object of the benchmark framework nitro-scenario replaces (its "Output
//! Format"), written into `results.json` as `framework_results` so its tooling keeps working.
//!
//! Every figure is per run: the median across the point's runs (counts rounded to a whole
//! number), so `reqs / test_config.duration_seconds ≈ throughput_rps` holds as it did for the
//! framework's single runs. A latency that does not exist (no request succeeded) is `null`.

use std::num::NonZeroU32;

use serde::Serialize;

use super::RunReport;
use super::clients::ENGINE_LANG;
use super::view::row;
use crate::metrics::{PointResult, RunStats, median_mad};

/// One point in the framework's format, plus `partial` (and `measure_requests` when the
/// measure phase is bounded by a request count).
#[derive(Debug, Serialize)]
pub(crate) struct FrameworkResult {
    /// The client that measured: `nitro-scenario`, or an external client's label.
    lang: String,
    /// Route path, e.g. `/v1/chat/completions`.
    route: String,
    /// Closed-loop workers; `null` for a point of another load model.
    concurrency: Option<u32>,
    /// Payload name (`S`, `M`, `L`); empty when the matrix has no payload axis.
    payload_size: String,
    /// Requests completed in one measure phase, median across runs.
    reqs: u64,
    /// Requests per second of one measure phase, median across runs (`null` without a run).
    throughput_rps: Option<f64>,
    /// Latency of successful requests, ms, medians across runs.
    latency_ms: Percentiles,
    /// Failed requests, retries and 429s of one measure phase, medians across runs.
    errors: Errors,
    /// Successful requests / requests, percent, median across runs (`null` without a
    /// request).
    success_rate: Option<f64>,
    /// When the point's last run ended, UTC, to the millisecond: `2024-01-01T12:00:00.000Z`.
    timestamp: String,
    /// What was run.
    test_config: TestConfig,
    /// Whether the point was cut short (Ctrl-C or error); not in the framework's format.
    partial: bool,
    /// Stream bytes per second of transfer, median across runs (streams only; `null` when
    /// no stream transferred anything).
    #[serde(skip_serializing_if = "Option::is_none")]
    sse_bytes_per_sec: Option<Option<f64>>,
    /// Time to first token, ms, medians across runs (streams only).
    #[serde(skip_serializing_if = "Option::is_none")]
    time_to_first_ms: Option<Percentiles>,
    /// Response body bytes of one measure phase, median across runs (streams only).
    #[serde(skip_serializing_if = "Option::is_none")]
    total_bytes: Option<u64>,
}

/// Three percentiles, ms; each `null` when nothing was recorded.
#[derive(Debug, Serialize)]
struct Percentiles {
    /// Median, ms.
    p50: Option<f64>,
    /// 95th percentile, ms.
    p95: Option<f64>,
    /// 99th percentile, ms.
    p99: Option<f64>,
}

/// Failed requests of one measure phase (final outcomes), plus the retries and first-attempt
/// 429s behind them, medians across runs.
#[derive(Debug, Serialize)]
struct Errors {
    /// Answers with a non-2xx status.
    non2xx: u64,
    /// Timeouts.
    timeouts: u64,
    /// Every failure: statuses, timeouts, connect, decode and stream errors.
    total: u64,
    /// Retries sent after a 429 answer: a point whose every request succeeded only on a retry
    /// has `total` 0 and its retries here.
    retries: u64,
    /// First attempts answered 429 (rate limited), whether a retry then succeeded or not.
    rate_limited: u64,
}

/// The framework's `test_config`.
#[derive(Debug, Serialize)]
struct TestConfig {
    /// Route path.
    route: String,
    /// Closed-loop workers; `null` for a point of another load model.
    concurrency: Option<u32>,
    /// Payload name.
    payload_size: String,
    /// The configured measure duration, seconds (an integer when whole); `null` when the
    /// phase is bounded by a request count only.
    duration_seconds: Option<serde_json::Number>,
    /// The configured request count that ends the measure phase, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    measure_requests: Option<u64>,
    /// The target: its redacted base URL, or `mock` for the built-in mock (whose port
    /// changes every run).
    mockoon_base: String,
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// The median across runs of a per-run count, to the nearest whole number.
fn per_run(runs: &[RunStats], count: impl Fn(&RunStats) -> u64) -> u64 {
    let values: Vec<f64> = runs.iter().map(|r| count(r) as f64).collect();
    median_mad(&values).map_or(0, |s| s.median.round() as u64)
}

/// `2024-01-01T12:00:00.000Z`.
fn millis_utc(unix_ms: i128) -> Option<String> {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(unix_ms * 1_000_000)
        .ok()?
        .format(format)
        .ok()
}

/// The point's finish time; results written before points carried one use the run's end.
fn timestamp(report: &RunReport, p: &PointResult) -> String {
    let run_end = || {
        time::OffsetDateTime::parse(
            &report.finished_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|t| t.unix_timestamp_nanos() / 1_000_000)
    };
    p.finished_unix_ms
        .map(i128::from)
        .or_else(run_end)
        .and_then(millis_utc)
        .unwrap_or_else(|| report.finished_at.clone())
}

/// The framework object of point `p`.
pub(crate) fn framework(report: &RunReport, p: &PointResult) -> FrameworkResult {
    let r = row(p, &report.axes);
    let ms = |s: Option<crate::metrics::Spread>| s.map(|s| round(s.median, 3));
    let measure = report.measure_echo().unwrap_or_default();
    let duration_seconds = measure.duration().and_then(|d| {
        if d.subsec_nanos() == 0 {
            Some(d.as_secs().into())
        } else {
            serde_json::Number::from_f64(round(d.as_secs_f64(), 3))
        }
    });
    FrameworkResult {
        lang: r.lang.clone().unwrap_or_else(|| ENGINE_LANG.to_string()),
        route: p.path.clone(),
        concurrency: p.load.concurrency().map(NonZeroU32::get),
        payload_size: p.payload.clone().unwrap_or_default(),
        reqs: per_run(&p.runs, |x| x.requests),
        throughput_rps: r.rps.map(|s| round(s.median, 1)),
        latency_ms: Percentiles {
            p50: ms(r.p50),
            p95: ms(r.p95),
            p99: ms(r.p99),
        },
        errors: Errors {
            non2xx: per_run(&p.runs, |x| x.outcomes.non2xx()),
            timeouts: per_run(&p.runs, |x| x.outcomes.timeout),
            total: per_run(&p.runs, |x| x.outcomes.failures()),
            retries: per_run(&p.runs, |x| x.retries),
            rate_limited: per_run(&p.runs, |x| {
                x.first_attempt.status.get(&429).copied().unwrap_or(0)
            }),
        },
        success_rate: r.success.map(|s| round(s.median, 2)),
        timestamp: timestamp(report, p),
        test_config: TestConfig {
            route: p.path.clone(),
            concurrency: p.load.concurrency().map(NonZeroU32::get),
            payload_size: p.payload.clone().unwrap_or_default(),
            duration_seconds,
            measure_requests: measure.requests,
            mockoon_base: report.base_url.clone(),
        },
        partial: p.partial,
        sse_bytes_per_sec: p
            .stream
            .then(|| r.sse_bytes_per_sec.map(|s| round(s.median, 1))),
        time_to_first_ms: p.stream.then(|| {
            let s = p.aggregate.stream.as_ref();
            Percentiles {
                p50: ms(s.and_then(|s| s.ttft_p50_ms)),
                p95: ms(s.and_then(|s| s.ttft_p95_ms)),
                p99: ms(s.and_then(|s| s.ttft_p99_ms)),
            }
        }),
        total_bytes: p.stream.then(|| per_run(&p.runs, |x| x.body_bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(
            millis_utc(1_704_110_400_123).as_deref(),
            Some("2024-01-01T12:00:00.123Z")
        );
        assert_eq!(
            millis_utc(1_704_110_400_000).as_deref(),
            Some("2024-01-01T12:00:00.000Z")
        );
    }

    #[test]
    fn per_run_counts_are_medians() {
        let run = |requests| RunStats {
            requests,
            ..Default::default()
        };
        assert_eq!(per_run(&[run(10), run(30), run(20)], |r| r.requests), 20);
        assert_eq!(per_run(&[run(10), run(13)], |r| r.requests), 12);
        assert_eq!(per_run(&[], |r| r.requests), 0);
    }
}
