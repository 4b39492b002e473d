//! `results.json`: the whole `RunReport`, plus for each point the object of the benchmark
//! framework nitro-scenario replaces (`framework_results`), so its tooling keeps working.

use serde::Serialize;

use super::{ReportError, RunReport};
use crate::metrics::PointResult;

/// The framework's per-point object.
#[derive(Debug, Serialize)]
pub(crate) struct FrameworkResult {
    lang: &'static str,
    route: String,
    concurrency: u32,
    payload_size: String,
    reqs: u64,
    throughput_rps: f64,
    latency_ms: Percentiles,
    errors: Errors,
    success_rate: f64,
    timestamp: String,
    test_config: TestConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    sse_bytes_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_to_first_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
}

#[derive(Debug, Serialize)]
struct Errors {
    non2xx: u64,
    timeouts: u64,
    total: u64,
}

#[derive(Debug, Serialize)]
struct TestConfig {
    route: String,
    concurrency: u32,
    payload_size: String,
    duration_seconds: f64,
    mockoon_base: String,
}

#[derive(Serialize)]
struct ResultsFile<'a> {
    #[serde(flatten)]
    report: &'a RunReport,
    framework_results: Vec<FrameworkResult>,
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

fn framework(report: &RunReport, p: &PointResult) -> FrameworkResult {
    let a = &p.aggregate;
    let o = &a.totals.outcomes;
    let payload_size = p.payload.clone().unwrap_or_default();
    let duration_seconds =
        p.runs.iter().map(|r| r.measure_secs).sum::<f64>() / p.runs.len().max(1) as f64;
    let stream = a.stream.as_ref();
    FrameworkResult {
        lang: "nitro-scenario",
        route: p.path.clone(),
        concurrency: p.concurrency,
        payload_size: payload_size.clone(),
        reqs: a.totals.requests,
        throughput_rps: round(a.throughput_rps.median, 1),
        latency_ms: Percentiles {
            p50: round(a.latency_p50_ms.median, 3),
            p95: round(a.latency_p95_ms.median, 3),
            p99: round(a.latency_p99_ms.median, 3),
        },
        errors: Errors {
            non2xx: o.non2xx(),
            timeouts: o.timeout,
            total: o.failures(),
        },
        success_rate: round(a.success_rate.median, 2),
        timestamp: report.finished_at.clone(),
        test_config: TestConfig {
            route: p.path.clone(),
            concurrency: p.concurrency,
            payload_size,
            duration_seconds: round(duration_seconds, 3),
            mockoon_base: report.base_url.clone(),
        },
        sse_bytes_per_sec: stream.map(|s| round(s.bytes_per_sec.median, 1)),
        time_to_first_ms: stream.map(|s| Percentiles {
            p50: round(s.ttft_p50_ms.median, 3),
            p95: round(s.ttft_p95_ms.median, 3),
            p99: round(s.ttft_p99_ms.median, 3),
        }),
        total_bytes: p.stream.then_some(a.totals.body_bytes),
    }
}

/// Render `results.json`.
pub(crate) fn render(report: &RunReport) -> Result<String, ReportError> {
    let file = ResultsFile {
        report,
        framework_results: report.points.iter().map(|p| framework(report, p)).collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| ReportError::Template {
        name: "results.json".into(),
        message: e.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}
