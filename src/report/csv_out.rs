//! `results.csv`: one row per point, the columns of `COLUMNS` (documented in the README).
//! Times in milliseconds, medians across runs.

use super::view::row;
use super::{ReportError, RunReport};

/// The column set, in order.
pub(crate) const COLUMNS: [&str; 36] = [
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
];

fn f(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

fn opt(v: Option<crate::metrics::Spread>, decimals: usize) -> String {
    v.map_or(String::new(), |s| f(s.median, decimals))
}

/// Render `results.csv`.
pub(crate) fn render(report: &RunReport) -> Result<String, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ReportError::Template {
        name: "results.csv".into(),
        message: e.to_string(),
    };
    w.write_record(COLUMNS).map_err(fail)?;
    for p in &report.points {
        let r = row(p);
        let o = &p.aggregate.totals.outcomes;
        let record: [String; 36] = [
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
            f(r.p50.median, 3),
            f(r.p90.median, 3),
            f(r.p95.median, 3),
            f(r.p99.median, 3),
            f(r.p999.median, 3),
            f(r.p99.mad, 3),
            f(r.ttfb_p50.median, 3),
            r.errors.to_string(),
            o.non2xx().to_string(),
            o.timeout.to_string(),
            o.connect.to_string(),
            o.decode.to_string(),
            o.stream.to_string(),
            r.retries.to_string(),
            opt(r.ttft_p50, 3),
            opt(r.ttft_p99, 3),
            opt(r.itl_p50, 3),
            opt(r.itl_p99, 3),
            opt(r.tpot_p50, 3),
            opt(r.tokens_per_sec, 1),
            p.aggregate.totals.prompt_tokens.to_string(),
            p.aggregate.totals.completion_tokens.to_string(),
            opt(r.sse_bytes_per_sec, 0),
            r.peak_rss_bytes.to_string(),
            r.client_bound.to_string(),
        ];
        w.write_record(&record).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| ReportError::Template {
        name: "results.csv".into(),
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| ReportError::Template {
        name: "results.csv".into(),
        message: e.to_string(),
    })
}
