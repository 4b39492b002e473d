//! The report as templates see it: the raw `RunReport` plus per-point rows with the figures
//! already picked (medians, MADs, failure breakdowns), so templates only lay them out.
//!
//! A figure that does not exist is `None`, never `0`: latencies of a point where no request
//! succeeded, stream timings of a non-stream route, tokens/s of a route that reports no usage.
//! CSV writes an empty cell, JSON `null`, Markdown `-`, and charts leave the point out.
//! docs/templates.md lists every field for template authors; keep it in step.

use serde::Serialize;

use super::RunReport;
use super::charts::{ChartRef, charts_of};
use super::clients::{ClientGroup, ClientNote, ENGINE_LANG, client_groups, client_notes};
use super::filters::thousands;
use super::routes::by_route;
use super::slo_view::{SearchRow, SloColumn, SloRow, columns, search_row, slo_row};
use crate::judge::{self, ThresholdsView};
use crate::metrics::{
    ClientRecord, NOT_STREAMED_GAP_US, OutcomeCounts, PointResult, RunStats, Spread, basis,
    median_mad,
};
use crate::scenario::{LoadAxis, RateProfile};

/// One point's figures. Spreads are the median (and MAD) of the per-run figures; counts are
/// summed over runs. Times in milliseconds.
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
    /// Closed-loop workers; `None` for a point of another load model.
    pub(crate) concurrency: Option<u32>,
    /// The point's place on its charts' x axis (`concurrency`, 32 workers).
    pub(crate) x: LoadAxis,
    /// The load model in words: `32 workers`.
    pub(crate) load: String,
    /// The point's user axis values, in the matrix's order.
    pub(crate) axes: Vec<AxisCell>,
    /// Whether the route is measured as a stream.
    pub(crate) stream: bool,
    /// Runs measured.
    pub(crate) runs: u32,
    /// Whether the point was cut short.
    pub(crate) partial: bool,
    /// Requests per second, median per run; `None` without a measured run.
    pub(crate) rps: Option<Spread>,
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
    pub(crate) success: Option<Spread>,
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
    /// Completion tokens per measure second, on every route whose answers report usage.
    pub(crate) tokens_per_sec: Option<Spread>,
    /// Whether some token counts were estimated from stream events.
    pub(crate) tokens_estimated: bool,
    /// Stream bytes per second of transfer (streams that took any time to transfer).
    pub(crate) sse_bytes_per_sec: Option<Spread>,
    /// Successful streams, summed over runs (0 on other routes).
    pub(crate) streams: u64,
    /// Successful streams that were not streamed (all content events at once), summed over
    /// runs: ITL, TPOT and SSE bytes/s of the point are then marked.
    pub(crate) not_streamed: u64,
    /// Peak RSS of the client over all runs, bytes.
    pub(crate) peak_rss_bytes: Option<u64>,
    /// Client CPU, cores busy, median per run.
    pub(crate) client_cpu: Option<Spread>,
    /// Busy share of the busiest runtime thread, percent (median across runs).
    pub(crate) busiest_thread_pct: Option<f64>,
    /// Client runtime lag p99, ms, median per run.
    pub(crate) lag_p99_ms: Option<f64>,
    /// Whether any run was client-bound.
    pub(crate) client_bound: bool,
    /// Requests in flight at the measure deadline (finished and counted), summed over runs.
    pub(crate) in_flight_at_end: u64,
    /// Token usage, one row per run.
    pub(crate) usage: Vec<UsageRow>,
    /// Whether the point is an open loop (the fields below exist).
    pub(crate) open_loop: bool,
    /// The open loop's configured rate, requests per second; `None` for stages and searches.
    pub(crate) rate_rps: Option<f64>,
    /// Offered rate, requests per second (scheduled requests over their span).
    pub(crate) offered_rps: Option<Spread>,
    /// Achieved rate, requests per second (sent requests over their span).
    pub(crate) achieved_rps: Option<Spread>,
    /// Service time p50 (actual send to last byte), ms; `p50` is the response time.
    pub(crate) service_p50: Option<Spread>,
    /// Service time p99, ms.
    pub(crate) service_p99: Option<Spread>,
    /// TTFT from the actual send p50, ms; `ttft_p50` counts from the intended start.
    pub(crate) service_ttft_p50: Option<Spread>,
    /// TTFT from the actual send p99, ms.
    pub(crate) service_ttft_p99: Option<Spread>,
    /// Send lag (actual send less intended start) p50, ms.
    pub(crate) send_lag_p50: Option<Spread>,
    /// Send lag p99, ms.
    pub(crate) send_lag_p99: Option<Spread>,
    /// Send lag max, ms.
    pub(crate) send_lag_max: Option<Spread>,
    /// Queue time p99 of the requests that queued, ms.
    pub(crate) queue_p99: Option<Spread>,
    /// Requests scheduled, summed over runs.
    pub(crate) scheduled: u64,
    /// Requests dropped at a phase's end, summed.
    pub(crate) dropped: u64,
    /// Requests that queued for a free slot, summed.
    pub(crate) queued: u64,
    /// The most requests in flight in any run.
    pub(crate) peak_in_flight: u64,
    /// Whether a run fell behind its schedule.
    pub(crate) behind_schedule: bool,
    /// The point's client (`builtin` or a `[clients]` name); `None` when the matrix has no
    /// client axis.
    pub(crate) client: Option<String>,
    /// The client's label: an external client's `lang`, `nitro-scenario` for the built-in
    /// engine; `None` without a client axis.
    pub(crate) lang: Option<String>,
    /// Whether an external client ran the point.
    pub(crate) external: bool,
    /// Client CPU seconds per 1,000 requests, median per run (see `RunStats::cpu_per_1k_requests`).
    pub(crate) cpu_per_1k: Option<Spread>,
    /// This process's CPU seconds while an external client ran, median per run.
    pub(crate) parent_cpu_secs: Option<Spread>,
    /// An external client's runs that failed or were killed at their time limit.
    pub(crate) failed_runs: u64,
    /// Why an external client was skipped (not installed), if it was.
    pub(crate) skipped: Option<String>,
    /// Goodput and the verdict against `[slo]`; `None` without `[slo]`.
    pub(crate) slo: Option<SloRow>,
    /// A search point's answer and probes.
    pub(crate) search: Option<SearchRow>,
}

/// One user axis value of a point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AxisCell {
    /// The axis name (`model`).
    pub(crate) name: String,
    /// The point's value, as text (`small-model`).
    pub(crate) value: String,
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
    /// Completion tokens per measure second; `None` when no request reported usage.
    pub(crate) tokens_per_sec: Option<f64>,
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
        ("non-2xx", counts.status_unknown),
        ("timeout", counts.timeout),
        ("connect", counts.connect),
        ("reset", counts.reset),
        ("decode", counts.decode),
        ("stream", counts.stream),
        ("other", counts.other),
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

/// The user axis values of `p`, in the order of `axes` (the report's axis names).
pub(crate) fn axis_cells(p: &PointResult, axes: &[String]) -> Vec<AxisCell> {
    axes.iter()
        .map(|name| AxisCell {
            name: name.clone(),
            value: p.vars.get(name).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The row of one point; `axes` are the report's user axis names.
pub(crate) fn row(p: &PointResult, axes: &[String]) -> PointRow {
    let a = &p.aggregate;
    let s = a.stream.as_ref();
    let o = a.open_loop.as_ref();
    PointRow {
        id: p.id.clone(),
        route: p.route.clone(),
        path: p.path.clone(),
        payload: p.payload.clone().unwrap_or_else(|| "-".into()),
        payload_bytes: p.payload_bytes,
        concurrency: p.load.concurrency().map(std::num::NonZeroU32::get),
        x: p.load.axis(),
        load: p.load.describe(),
        axes: axis_cells(p, axes),
        stream: p.stream,
        runs: a.runs,
        partial: p.partial,
        rps: a.throughput_rps,
        has_latency: a.latency_p50_ms.is_some(),
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
        ttft_p50: s.and_then(|s| s.ttft_p50_ms),
        ttft_p99: s.and_then(|s| s.ttft_p99_ms),
        itl_p50: s.and_then(|s| s.itl_p50_ms),
        itl_p99: s.and_then(|s| s.itl_p99_ms),
        tpot_p50: s.and_then(|s| s.tpot_p50_ms),
        tokens_per_sec: a.tokens_per_sec,
        tokens_estimated: a.totals.estimated_requests > 0,
        sse_bytes_per_sec: s.and_then(|s| s.bytes_per_sec),
        streams: if p.stream {
            a.totals.outcomes.success
        } else {
            0
        },
        not_streamed: a.totals.not_streamed,
        peak_rss_bytes: a.peak_rss_bytes,
        client_cpu: a.client_cpu_utilization,
        busiest_thread_pct: a.busiest_thread_share.map(|s| s.median * 100.0),
        lag_p99_ms: a.lag_p99_us.map(|s| s.median / 1000.0),
        client_bound: a.client_bound,
        in_flight_at_end: p.runs.iter().map(|r| r.in_flight_at_end).sum(),
        // An external client reports no token usage: its ledger rows would be zeros.
        usage: p
            .runs
            .iter()
            .filter(|r| r.external.is_none())
            .map(|r| UsageRow {
                run: r.run,
                prompt_tokens: r.usage.prompt_tokens,
                completion_tokens: r.usage.completion_tokens,
                total_tokens: r.usage.total_tokens,
                tokens_per_sec: r.usage.completion_tokens_per_sec,
                estimated_requests: r.usage.estimated_requests,
            })
            .collect(),
        open_loop: o.is_some(),
        rate_rps: p.load.open_loop().and_then(|o| match o.rate {
            RateProfile::Fixed(rps) => Some(rps),
            RateProfile::Stages(_) | RateProfile::Search(_) => None,
        }),
        offered_rps: o.and_then(|o| o.offered_rps),
        achieved_rps: o.and_then(|o| o.achieved_rps),
        service_p50: o.and_then(|o| o.service_p50_ms),
        service_p99: o.and_then(|o| o.service_p99_ms),
        service_ttft_p50: o.and_then(|o| o.service_ttft_p50_ms),
        service_ttft_p99: o.and_then(|o| o.service_ttft_p99_ms),
        send_lag_p50: o.and_then(|o| o.send_lag_p50_ms),
        send_lag_p99: o.and_then(|o| o.send_lag_p99_ms),
        send_lag_max: o.and_then(|o| o.send_lag_max_ms),
        queue_p99: o.and_then(|o| o.queue_p99_ms),
        scheduled: o.map_or(0, |o| o.scheduled),
        dropped: o.map_or(0, |o| o.dropped),
        queued: o.map_or(0, |o| o.queued),
        peak_in_flight: o.map_or(0, |o| o.peak_in_flight),
        behind_schedule: o.is_some_and(|o| o.behind_schedule),
        client: p.vars.get("client").cloned(),
        lang: client_lang(p),
        external: p.client.is_some(),
        cpu_per_1k: per_run_spread(p, RunStats::cpu_per_1k_requests),
        parent_cpu_secs: per_run_spread(p, |r| r.external.as_ref().map(|e| e.parent_cpu_secs)),
        failed_runs: p.client.as_ref().map_or(0, ClientRecord::failed_runs),
        skipped: p
            .client
            .as_ref()
            .and_then(|c| c.skipped().map(str::to_string)),
        slo: slo_row(p),
        search: search_row(p, a.runs > 1),
    }
}

/// The label of `p`'s client: an external client's, `nitro-scenario` for the built-in engine
/// on a client axis; `None` without one.
fn client_lang(p: &PointResult) -> Option<String> {
    match &p.client {
        Some(record) => Some(record.lang.clone()),
        None => p
            .vars
            .contains_key("client")
            .then(|| ENGINE_LANG.to_string()),
    }
}

/// Median and MAD of `figure` over the runs the point's medians are taken over.
fn per_run_spread(p: &PointResult, figure: impl Fn(&RunStats) -> Option<f64>) -> Option<Spread> {
    let values: Vec<f64> = basis(&p.runs).into_iter().filter_map(figure).collect();
    median_mad(&values)
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
    /// Chart files beside the report, per load axis of the route's points: for concurrency,
    /// latency then throughput.
    pub(crate) charts: Vec<String>,
    /// The same charts with their alt text.
    pub(crate) figures: Vec<ChartRef>,
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
    /// Whether any point has a tokens/s figure.
    pub(crate) any_tokens: bool,
    /// Whether any point is an open loop.
    pub(crate) any_open_loop: bool,
    /// The objectives of `[slo]` points were judged by, as columns; empty without `[slo]`.
    pub(crate) slo_columns: Vec<SloColumn>,
    /// Whether any point is a search.
    pub(crate) any_search: bool,
    /// The matrix's user axis names, in file order.
    pub(crate) axes: &'a [String],
    /// What "not streamed" means, in words, for the report's footnotes.
    pub(crate) not_streamed_rule: String,
    /// The comparison with a baseline as Markdown (`run --baseline`), else `none`.
    pub(crate) comparison: Option<&'a str>,
    /// Whether the matrix has a client axis.
    pub(crate) any_client: bool,
    /// The points side by side per route, payload, load and user axis values: one row per
    /// client.
    pub(crate) client_groups: Vec<ClientGroup>,
    /// External clients' runs that did not complete, and skipped clients.
    pub(crate) client_notes: Vec<ClientNote>,
    /// The thresholds' results, rows formatted; `none` for a scenario without thresholds.
    pub(crate) thresholds: Option<ThresholdsView>,
}

/// The view of `report`, with the Markdown of its comparison with a baseline when there is one.
pub(crate) fn view<'a>(report: &'a RunReport, comparison: Option<&'a str>) -> View<'a> {
    let routes: Vec<RouteView> = by_route(&report.points)
        .into_iter()
        .map(|g| {
            let figures = charts_of(&g);
            RouteView {
                name: g.name.to_string(),
                path: g.path.to_string(),
                stream: g.stream,
                points: g.points.iter().map(|p| row(p, &report.axes)).collect(),
                charts: figures.iter().map(|c| c.file.clone()).collect(),
                figures,
            }
        })
        .collect();
    let points: Vec<PointRow> = report.points.iter().map(|p| row(p, &report.axes)).collect();
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
        any_tokens: points.iter().any(|p| p.tokens_per_sec.is_some()),
        any_open_loop: points.iter().any(|p| p.open_loop),
        slo_columns: columns(&report.points),
        any_search: points.iter().any(|p| p.search.is_some()),
        axes: &report.axes,
        not_streamed_rule: format!(
            "all its content events arrived at once: in one read of the body, or each less \
             than {NOT_STREAMED_GAP_US} µs after the one before"
        ),
        comparison,
        any_client: points.iter().any(|p| p.client.is_some()),
        client_groups: client_groups(&points),
        client_notes: client_notes(&report.points),
        thresholds: report.thresholds.as_ref().map(|t| {
            let order: Vec<String> = report.points.iter().map(|p| p.id.clone()).collect();
            judge::threshold_view(t, &order)
        }),
        points,
        routes,
    }
}
