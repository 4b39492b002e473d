//! The report as templates see it: the raw `RunReport` plus per-point rows with the figures
//! already picked (medians, MADs, failure breakdowns), so templates only lay them out.
//!
//! A figure that does not exist is `None`, never `0`: latencies of a point where no request
//! succeeded, stream timings of a non-stream route. CSV writes an empty cell, JSON `null`,
//! Markdown `-`, and charts leave the point out.

use serde::Serialize;

use super::RunReport;
use super::filters::thousands;
use super::routes::by_route;
use crate::metrics::{LatencySummary, OutcomeCounts, PointResult, Spread, StreamSummary};

/// One point's figures. Spreads are the median (and MAD) of the per-run figures; counts are
/// summed over runs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PointRow {
    /// Point id.
    pub(crate) id: String,
    /// Route name.
    pub(crate) route: String,
    /// Route path.
    pub(crate) path: String,
    /// Payload name or `-`.
    pub(crate) payload: String,
    /// Request body size, bytes.
    pub(crate) payload_bytes: u64,
    /// Closed-loop workers.
    pub(crate) concurrency: u32,
    /// Whether the route is measured as a stream.
    pub(crate) stream: bool,
    /// Runs measured.
    pub(crate) runs: u32,
    /// Whether the point was cut short.
    pub(crate) partial: bool,
    /// Requests per second, median per run.
    pub(crate) rps: Spread,
    /// Whether any request succeeded, so that latencies exist.
    pub(crate) has_latency: bool,
    /// Latency p50, ms, median per run; `None` when no request succeeded.
    pub(crate) p50: Option<Spread>,
    /// Latency p90, ms.
    pub(crate) p90: Option<Spread>,
    /// Latency p95, ms.
    pub(crate) p95: Option<Spread>,
    /// Latency p99, ms.
    pub(crate) p99: Option<Spread>,
    /// Latency p99.9, ms.
    pub(crate) p999: Option<Spread>,
    /// Time to response headers p50, ms.
    pub(crate) ttfb_p50: Option<Spread>,
    /// Requests completed, summed over runs.
    pub(crate) requests: u64,
    /// Requests whose final outcome was a failure, summed over runs.
    pub(crate) errors: u64,
    /// Successful requests / requests, percent, median per run.
    pub(crate) success: Spread,
    /// Retries sent, summed over runs.
    pub(crate) retries: u64,
    /// First-attempt failures, e.g. `429 x 120`; `-` when none.
    pub(crate) first_failures: String,
    /// Final failures, e.g. `500 x 30, timeout x 2`; `-` when none.
    pub(crate) final_failures: String,
    /// Time to first token p50, ms (streams with a content event).
    pub(crate) ttft_p50: Option<Spread>,
    /// Time to first token p99, ms.
    pub(crate) ttft_p99: Option<Spread>,
    /// Inter-token latency p50, ms (streams with two content events or more).
    pub(crate) itl_p50: Option<Spread>,
    /// Inter-token latency p99, ms.
    pub(crate) itl_p99: Option<Spread>,
    /// Time per output token p50, ms.
    pub(crate) tpot_p50: Option<Spread>,
    /// Output tokens per measure second (streams).
    pub(crate) tokens_per_sec: Option<Spread>,
    /// Stream bytes per second of transfer (streams that transferred any).
    pub(crate) sse_bytes_per_sec: Option<Spread>,
    /// Whether token counts were estimated from events.
    pub(crate) tokens_estimated: bool,
    /// Peak RSS of the client over all runs, bytes.
    pub(crate) peak_rss_bytes: u64,
    /// Client CPU, cores busy, median per run.
    pub(crate) client_cpu: Spread,
    /// Busy share of the busiest runtime thread, percent (median across runs).
    pub(crate) busiest_thread_pct: f64,
    /// Client runtime lag p99, ms, median per run.
    pub(crate) lag_p99_ms: f64,
    /// Whether any run was client-bound.
    pub(crate) client_bound: bool,
    /// Requests in flight at the measure deadline (finished and counted), summed over runs.
    pub(crate) in_flight_at_end: u64,
    /// Token usage, one row per run.
    pub(crate) usage: Vec<UsageRow>,
}

/// One run's token usage.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UsageRow {
    /// Run number, 1-based.
    pub(crate) run: u32,
    /// Prompt tokens.
    pub(crate) prompt_tokens: u64,
    /// Completion tokens.
    pub(crate) completion_tokens: u64,
    /// Total tokens.
    pub(crate) total_tokens: u64,
    /// Completion tokens per measure second.
    pub(crate) tokens_per_sec: f64,
    /// Requests whose usage was estimated.
    pub(crate) estimated_requests: u64,
}

/// Failures as `kind x count`, comma-separated, stable order; `-` when none.
pub(crate) fn failures(counts: &OutcomeCounts) -> String {
    let mut parts: Vec<String> = counts
        .status
        .iter()
        .map(|(code, n)| format!("{code} x {}", thousands(*n)))
        .collect();
    for (name, n) in [
        ("timeout", counts.timeout),
        ("connect", counts.connect),
        ("reset", counts.reset),
        ("decode", counts.decode),
        ("stream", counts.stream),
    ] {
        if n > 0 {
            parts.push(format!("{name} x {}", thousands(n)));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// `spread` when any run recorded a value in the histogram `summary` picks.
fn when_recorded(
    p: &PointResult,
    summary: impl Fn(&crate::metrics::RunStats) -> Option<&LatencySummary>,
    spread: Option<Spread>,
) -> Option<Spread> {
    let recorded = p
        .runs
        .iter()
        .any(|r| summary(r).is_some_and(|s| s.count > 0));
    spread.filter(|_| recorded)
}

/// The row of one point.
pub(crate) fn row(p: &PointResult) -> PointRow {
    let a = &p.aggregate;
    let s = a.stream.as_ref();
    let latency = |spread: Spread| when_recorded(p, |r| Some(&r.latency), Some(spread));
    let stream = |pick: fn(&StreamSummary) -> &LatencySummary, spread: Option<Spread>| {
        when_recorded(p, |r| r.stream.as_ref().map(pick), spread)
    };
    PointRow {
        id: p.id.clone(),
        route: p.route.clone(),
        path: p.path.clone(),
        payload: p.payload.clone().unwrap_or_else(|| "-".into()),
        payload_bytes: p.payload_bytes,
        concurrency: p.concurrency,
        stream: p.stream,
        runs: a.runs,
        partial: p.partial,
        rps: a.throughput_rps,
        has_latency: latency(a.latency_p50_ms).is_some(),
        p50: latency(a.latency_p50_ms),
        p90: latency(a.latency_p90_ms),
        p95: latency(a.latency_p95_ms),
        p99: latency(a.latency_p99_ms),
        p999: latency(a.latency_p999_ms),
        ttfb_p50: when_recorded(p, |r| Some(&r.ttfb), Some(a.ttfb_p50_ms)),
        requests: a.totals.requests,
        errors: a.totals.outcomes.failures(),
        success: a.success_rate,
        retries: a.totals.retries,
        first_failures: failures(&a.totals.first_attempt),
        final_failures: failures(&a.totals.outcomes),
        ttft_p50: stream(|x| &x.ttft, s.map(|s| s.ttft_p50_ms)),
        ttft_p99: stream(|x| &x.ttft, s.map(|s| s.ttft_p99_ms)),
        itl_p50: stream(|x| &x.itl, s.map(|s| s.itl_p50_ms)),
        itl_p99: stream(|x| &x.itl, s.map(|s| s.itl_p99_ms)),
        tpot_p50: stream(|x| &x.tpot, s.map(|s| s.tpot_p50_ms)),
        tokens_per_sec: s.map(|s| s.tokens_per_sec),
        sse_bytes_per_sec: s.map(|s| s.bytes_per_sec).filter(|_| {
            // A rate over no transfer at all does not exist.
            p.runs
                .iter()
                .any(|r| r.stream.as_ref().is_some_and(|x| x.total_bytes > 0))
        }),
        tokens_estimated: s.is_some_and(|s| s.tokens_estimated),
        peak_rss_bytes: a.peak_rss_bytes,
        client_cpu: a.client_cpu_utilization,
        busiest_thread_pct: a.busiest_thread_share.median * 100.0,
        lag_p99_ms: a.lag_p99_us.median / 1000.0,
        client_bound: a.client_bound,
        in_flight_at_end: p.runs.iter().map(|r| r.in_flight_at_end).sum(),
        usage: p
            .runs
            .iter()
            .map(|r| UsageRow {
                run: r.run,
                prompt_tokens: r.usage.prompt_tokens,
                completion_tokens: r.usage.completion_tokens,
                total_tokens: r.usage.total_tokens,
                tokens_per_sec: r.usage.completion_tokens_per_sec,
                estimated_requests: r.usage.estimated_requests,
            })
            .collect(),
    }
}

/// One error sample of one point: a message and how many final failures carried it, over
/// all runs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorSampleRow {
    /// Point id.
    pub(crate) point: String,
    /// Failure kind label (`connect`, `reset`, `timeout`, `decode`, `stream`).
    pub(crate) kind: String,
    /// The message.
    pub(crate) message: String,
    /// Failures that carried it.
    pub(crate) count: u64,
}

/// Every point's error samples, plan order.
fn error_samples(report: &RunReport) -> Vec<ErrorSampleRow> {
    report
        .points
        .iter()
        .flat_map(|p| {
            p.aggregate.error_samples.iter().map(|e| ErrorSampleRow {
                point: p.id.clone(),
                kind: e.kind.clone(),
                message: e.message.clone(),
                count: e.count,
            })
        })
        .collect()
}

/// A route with its rows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RouteView {
    /// Route name.
    pub(crate) name: String,
    /// Route path.
    pub(crate) path: String,
    /// Whether the route streams.
    pub(crate) stream: bool,
    /// Its points, plan order.
    pub(crate) points: Vec<PointRow>,
    /// Chart files beside the report: latency, then throughput.
    pub(crate) charts: Vec<String>,
}

/// The phases as people read them.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PhasesView {
    /// `none`, `30s`, `500 requests` or `30s or 500 requests`.
    pub(crate) warmup: String,
    /// The measure phase, in the same words.
    pub(crate) measure: String,
}

/// Everything a template sees.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct View<'a> {
    /// The raw report.
    pub(crate) report: &'a RunReport,
    /// One row per point, plan order.
    pub(crate) points: Vec<PointRow>,
    /// Rows grouped by route, plan order.
    pub(crate) routes: Vec<RouteView>,
    /// Warmup and measure limits in words.
    pub(crate) phases: PhasesView,
    /// Whether any point ran more than once (show ± MAD).
    pub(crate) multi_run: bool,
    /// Whether any point is a stream.
    pub(crate) any_stream: bool,
    /// A few messages per failure kind and point, with counts (empty when nothing failed but
    /// by status).
    pub(crate) error_samples: Vec<ErrorSampleRow>,
}

/// The view of `report`.
pub(crate) fn view(report: &RunReport) -> View<'_> {
    let routes: Vec<RouteView> = by_route(&report.points)
        .into_iter()
        .map(|g| RouteView {
            name: g.name.to_string(),
            path: g.path.to_string(),
            stream: g.stream,
            points: g.points.iter().map(|p| row(p)).collect(),
            charts: super::charts::file_names(g.name).to_vec(),
        })
        .collect();
    let points: Vec<PointRow> = report.points.iter().map(row).collect();
    View {
        report,
        phases: PhasesView {
            warmup: report
                .warmup_echo()
                .map_or_else(|| "none".into(), |w| w.describe()),
            measure: report
                .measure_echo()
                .map_or_else(|| "-".into(), |m| m.describe()),
        },
        multi_run: points.iter().any(|p| p.runs > 1),
        any_stream: points.iter().any(|p| p.stream),
        error_samples: error_samples(report),
        points,
        routes,
    }
}
