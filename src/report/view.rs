//! The report as templates see it: the raw `RunReport` plus per-point rows with the figures
//! already picked (medians, MADs, failure breakdowns), so templates only lay them out.

use serde::Serialize;

use super::RunReport;
use crate::metrics::{OutcomeCounts, PointResult, Spread};

/// One summary row.
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
    /// Request body bytes.
    pub(crate) payload_bytes: u64,
    /// Workers.
    pub(crate) concurrency: u32,
    /// Stream route.
    pub(crate) stream: bool,
    /// Runs measured.
    pub(crate) runs: u32,
    /// Whether the point was cut short.
    pub(crate) partial: bool,
    /// Requests per second.
    pub(crate) rps: Spread,
    /// Whether any request succeeded, so that latencies exist.
    pub(crate) has_latency: bool,
    /// Latency percentiles, ms.
    pub(crate) p50: Spread,
    /// 90th percentile, ms.
    pub(crate) p90: Spread,
    /// 95th percentile, ms.
    pub(crate) p95: Spread,
    /// 99th percentile, ms.
    pub(crate) p99: Spread,
    /// 99.9th percentile, ms.
    pub(crate) p999: Spread,
    /// TTFB p50, ms.
    pub(crate) ttfb_p50: Spread,
    /// Requests completed, all runs.
    pub(crate) requests: u64,
    /// Failed requests (final outcome), all runs.
    pub(crate) errors: u64,
    /// Success rate, percent.
    pub(crate) success: Spread,
    /// Retries sent.
    pub(crate) retries: u64,
    /// First-attempt failures, e.g. `429 x 120`.
    pub(crate) first_failures: String,
    /// Final failures, e.g. `500 x 30, timeout x 2`.
    pub(crate) final_failures: String,
    /// TTFT p50, ms (streams).
    pub(crate) ttft_p50: Option<Spread>,
    /// TTFT p99, ms.
    pub(crate) ttft_p99: Option<Spread>,
    /// ITL p50, ms.
    pub(crate) itl_p50: Option<Spread>,
    /// ITL p99, ms.
    pub(crate) itl_p99: Option<Spread>,
    /// TPOT p50, ms.
    pub(crate) tpot_p50: Option<Spread>,
    /// Output tokens per second.
    pub(crate) tokens_per_sec: Option<Spread>,
    /// Stream bytes per second.
    pub(crate) sse_bytes_per_sec: Option<Spread>,
    /// Token counts estimated from events.
    pub(crate) tokens_estimated: bool,
    /// Peak RSS of the client, bytes.
    pub(crate) peak_rss_bytes: u64,
    /// Client CPU, cores busy.
    pub(crate) client_cpu: Spread,
    /// Runtime lag p99, ms.
    pub(crate) lag_p99_ms: f64,
    /// Client-bound flag.
    pub(crate) client_bound: bool,
    /// Requests still in flight at the measure deadline (finished and counted), all runs.
    pub(crate) in_flight_at_end: u64,
    /// Usage per run.
    pub(crate) usage: Vec<UsageRow>,
}

/// One run's token usage.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UsageRow {
    /// Run number.
    pub(crate) run: u32,
    /// Prompt tokens.
    pub(crate) prompt_tokens: u64,
    /// Completion tokens.
    pub(crate) completion_tokens: u64,
    /// Total tokens.
    pub(crate) total_tokens: u64,
    /// Completion tokens per second.
    pub(crate) tokens_per_sec: f64,
    /// Requests whose usage was estimated.
    pub(crate) estimated_requests: u64,
}

/// Failures as `kind x count`, comma-separated, stable order; `-` when none.
pub(crate) fn failures(counts: &OutcomeCounts) -> String {
    let mut parts: Vec<String> = counts
        .status
        .iter()
        .map(|(code, n)| format!("{code} x {}", super::markdown::thousands(*n)))
        .collect();
    for (name, n) in [
        ("timeout", counts.timeout),
        ("connect", counts.connect),
        ("decode", counts.decode),
        ("stream", counts.stream),
    ] {
        if n > 0 {
            parts.push(format!("{name} x {}", super::markdown::thousands(n)));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The row of one point.
pub(crate) fn row(p: &PointResult) -> PointRow {
    let a = &p.aggregate;
    let s = a.stream.as_ref();
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
        has_latency: a.totals.outcomes.success > 0,
        p50: a.latency_p50_ms,
        p90: a.latency_p90_ms,
        p95: a.latency_p95_ms,
        p99: a.latency_p99_ms,
        p999: a.latency_p999_ms,
        ttfb_p50: a.ttfb_p50_ms,
        requests: a.totals.requests,
        errors: a.totals.outcomes.failures(),
        success: a.success_rate,
        retries: a.totals.retries,
        first_failures: failures(&a.totals.first_attempt),
        final_failures: failures(&a.totals.outcomes),
        ttft_p50: s.map(|s| s.ttft_p50_ms),
        ttft_p99: s.map(|s| s.ttft_p99_ms),
        itl_p50: s.map(|s| s.itl_p50_ms),
        itl_p99: s.map(|s| s.itl_p99_ms),
        tpot_p50: s.map(|s| s.tpot_p50_ms),
        tokens_per_sec: s.map(|s| s.tokens_per_sec),
        sse_bytes_per_sec: s.map(|s| s.bytes_per_sec),
        tokens_estimated: s.is_some_and(|s| s.tokens_estimated),
        peak_rss_bytes: a.peak_rss_bytes,
        client_cpu: a.client_cpu_utilization,
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

/// Routes in plan order, each with its rows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RouteView {
    /// Route name.
    pub(crate) name: String,
    /// Route path.
    pub(crate) path: String,
    /// Whether the route streams.
    pub(crate) stream: bool,
    /// Its points.
    pub(crate) points: Vec<PointRow>,
    /// Chart file names beside the report (latency, throughput).
    pub(crate) charts: Vec<String>,
}

/// Everything a template sees.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct View<'a> {
    /// The raw report.
    pub(crate) report: &'a RunReport,
    /// One row per point, plan order.
    pub(crate) points: Vec<PointRow>,
    /// Points grouped by route, plan order.
    pub(crate) routes: Vec<RouteView>,
    /// Whether any point ran more than once (show ± MAD).
    pub(crate) multi_run: bool,
    /// Whether any point is a stream.
    pub(crate) any_stream: bool,
}

/// The view of `report`.
pub(crate) fn view(report: &RunReport) -> View<'_> {
    let points: Vec<PointRow> = report.points.iter().map(row).collect();
    let mut routes: Vec<RouteView> = Vec::new();
    for p in &points {
        match routes.iter_mut().find(|r| r.name == p.route) {
            Some(r) => r.points.push(p.clone()),
            None => routes.push(RouteView {
                name: p.route.clone(),
                path: p.path.clone(),
                stream: p.stream,
                points: vec![p.clone()],
                charts: super::charts::file_names(&p.route),
            }),
        }
    }
    View {
        report,
        multi_run: points.iter().any(|p| p.runs > 1),
        any_stream: points.iter().any(|p| p.stream),
        points,
        routes,
    }
}
