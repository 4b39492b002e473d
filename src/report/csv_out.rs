//! `results.csv`: one row per point, the columns of `COLUMNS` (documented in the README).
//! Rates, percentages and times are medians of the per-run figures, times in milliseconds;
//! counts are summed over runs. A figure that does not exist (latency of a point where no
//! request succeeded, stream timings of a non-stream route) is an empty cell.

use super::view::row;
use super::{ReportError, RunReport};
use crate::metrics::Spread;

/// The column set, in order.
pub(crate) const COLUMNS: [&str; 38] = [
    "id",
    "route",
    "path",
    "payload",
    "payload_bytes",
    "concurrency",
    "runs",
    "requests",
    "throughput_rps",
    "throughput_rps_mad",
    "success_rate",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_p99_ms_mad",
    "ttfb_p50_ms",
    "errors",
    "non2xx",
    "timeouts",
    "connect_errors",
    "reset_errors",
    "decode_errors",
    "stream_errors",
    "retries",
    "ttft_p50_ms",
    "ttft_p99_ms",
    "itl_p50_ms",
    "itl_p99_ms",
    "tpot_p50_ms",
    "tokens_per_sec",
    "prompt_tokens",
    "completion_tokens",
    "sse_bytes_per_sec",
    "peak_rss_bytes",
    "client_bound",
    "partial",
];

fn f(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

fn median(v: Option<Spread>, decimals: usize) -> String {
    v.map_or(String::new(), |s| f(s.median, decimals))
}

fn mad(v: Option<Spread>, decimals: usize) -> String {
    v.map_or(String::new(), |s| f(s.mad, decimals))
}

/// Render `results.csv`.
pub(crate) fn render(report: &RunReport) -> Result<String, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(ReportError::Csv)?;
    for p in &report.points {
        let r = row(p);
        let o = &p.aggregate.totals.outcomes;
        let record: [String; COLUMNS.len()] = [
            r.id.clone(),
            r.route.clone(),
            r.path.clone(),
            r.payload.clone(),
            r.payload_bytes.to_string(),
            r.concurrency.to_string(),
            r.runs.to_string(),
            r.requests.to_string(),
            f(r.rps.median, 1),
            f(r.rps.mad, 1),
            f(r.success.median, 2),
            median(r.p50, 3),
            median(r.p90, 3),
            median(r.p95, 3),
            median(r.p99, 3),
            median(r.p999, 3),
            mad(r.p99, 3),
            median(r.ttfb_p50, 3),
            r.errors.to_string(),
            o.non2xx().to_string(),
            o.timeout.to_string(),
            o.connect.to_string(),
            o.reset.to_string(),
            o.decode.to_string(),
            o.stream.to_string(),
            r.retries.to_string(),
            median(r.ttft_p50, 3),
            median(r.ttft_p99, 3),
            median(r.itl_p50, 3),
            median(r.itl_p99, 3),
            median(r.tpot_p50, 3),
            median(r.tokens_per_sec, 1),
            p.aggregate.totals.prompt_tokens.to_string(),
            p.aggregate.totals.completion_tokens.to_string(),
            median(r.sse_bytes_per_sec, 0),
            r.peak_rss_bytes.to_string(),
            r.client_bound.to_string(),
            r.partial.to_string(),
        ];
        w.write_record(&record).map_err(ReportError::Csv)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))?;
    // Every cell above is a Rust `String`, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
