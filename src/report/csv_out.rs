//! `results.csv`: one row per point, the columns of `COLUMNS` (documented in the README) and
//! then one column per user axis of the matrix, named after the axis (`axis_<name>` when the
//! name is already a column), so a spreadsheet can pivot on it.
//! Rates, percentages and times are medians of the per-run figures, times in milliseconds;
//! counts are summed over runs. `client` and `lang` name who sent a point's requests (empty
//! without a client axis). A figure that does not exist (latency of a point where no
//! request succeeded, stream timings of a non-stream route) is an empty cell.

use super::filters::rate_decimals;
use super::view::row;
use super::{ReportError, RunReport};
use crate::metrics::Spread;

/// The fixed columns, in order.
pub(crate) const COLUMNS: [&str; 64] = [
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
    "not_streamed",
    "peak_rss_bytes",
    "client_bound",
    "partial",
    "rate_rps",
    "offered_rps",
    "achieved_rps",
    "service_p50_ms",
    "service_p99_ms",
    "service_ttft_p50_ms",
    "service_ttft_p99_ms",
    "send_lag_p50_ms",
    "send_lag_p99_ms",
    "send_lag_max_ms",
    "queue_p99_ms",
    "scheduled",
    "dropped",
    "queued",
    "peak_in_flight",
    "behind_schedule",
    "client",
    "lang",
    "cpu_per_1k_requests",
    "parent_cpu_secs",
    "failed_runs",
    "skipped",
    "goodput_rps",
    "slo_met",
    "search_answer_rps",
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

/// A rate to 3 significant digits and at least one decimal: `11886.2`, `0.496`.
fn rate(v: f64) -> String {
    f(v, rate_decimals(v).max(1))
}

/// An open-loop count; empty for a closed loop, which has none.
fn open_count(open_loop: bool, n: u64) -> String {
    if open_loop {
        n.to_string()
    } else {
        String::new()
    }
}

/// An external client's figure; empty for the built-in engine.
fn external_cell(external: bool, value: String) -> String {
    if external { value } else { String::new() }
}

/// The header cell of user axis `name`.
fn axis_column(name: &str) -> String {
    if COLUMNS.contains(&name) {
        format!("axis_{name}")
    } else {
        name.to_string()
    }
}

/// Render `results.csv`.
pub(crate) fn render(report: &RunReport) -> Result<String, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(report.axes.iter().map(|a| axis_column(a)));
    w.write_record(header).map_err(ReportError::Csv)?;
    for p in &report.points {
        let r = row(p, &report.axes);
        let o = &p.aggregate.totals.outcomes;
        let fixed: [String; COLUMNS.len()] = [
            r.id.clone(),
            r.route.clone(),
            r.path.clone(),
            r.payload.clone(),
            r.payload_bytes.to_string(),
            r.concurrency.map_or(String::new(), |c| c.to_string()),
            r.runs.to_string(),
            r.requests.to_string(),
            r.rps.map_or(String::new(), |s| rate(s.median)),
            r.rps
                .map_or(String::new(), |s| f(s.mad, rate_decimals(s.median).max(1))),
            median(r.success, 2),
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
            r.tokens_per_sec.map_or(String::new(), |s| rate(s.median)),
            p.aggregate.totals.prompt_tokens.to_string(),
            p.aggregate.totals.completion_tokens.to_string(),
            median(r.sse_bytes_per_sec, 0),
            r.not_streamed.to_string(),
            r.peak_rss_bytes.map_or(String::new(), |b| b.to_string()),
            r.client_bound.to_string(),
            r.partial.to_string(),
            r.rate_rps.map_or(String::new(), rate),
            r.offered_rps.map_or(String::new(), |s| rate(s.median)),
            r.achieved_rps.map_or(String::new(), |s| rate(s.median)),
            median(r.service_p50, 3),
            median(r.service_p99, 3),
            median(r.service_ttft_p50, 3),
            median(r.service_ttft_p99, 3),
            median(r.send_lag_p50, 3),
            median(r.send_lag_p99, 3),
            median(r.send_lag_max, 3),
            median(r.queue_p99, 3),
            open_count(r.open_loop, r.scheduled),
            open_count(r.open_loop, r.dropped),
            open_count(r.open_loop, r.queued),
            open_count(r.open_loop, r.peak_in_flight),
            if r.open_loop {
                r.behind_schedule.to_string()
            } else {
                String::new()
            },
            r.client.clone().unwrap_or_default(),
            r.lang.clone().unwrap_or_default(),
            median(r.cpu_per_1k, 4),
            median(r.parent_cpu_secs, 4),
            external_cell(r.external, r.failed_runs.to_string()),
            external_cell(r.external, r.skipped.is_some().to_string()),
            r.slo
                .as_ref()
                .and_then(|s| s.goodput)
                .map_or(String::new(), |s| rate(s.median)),
            r.slo
                .as_ref()
                .map_or(String::new(), |s| s.meets.to_string()),
            r.search
                .as_ref()
                .and_then(|s| s.answer_rps)
                .map_or(String::new(), |s| rate(s.median)),
        ];
        let record = fixed.into_iter().chain(r.axes.into_iter().map(|a| a.value));
        w.write_record(record).map_err(ReportError::Csv)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))?;
    // Every cell above is a Rust `String`, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
