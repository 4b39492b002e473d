//! Hand-built pairs of runs for the `compare` tests: a clear regression, a change within the
//! noise, points missing on either side, different scenarios. Built on `report_support`.

#![allow(dead_code, reason = "each test binary uses part of the support module")]

use std::path::Path;

use nitro_scenario::judge::Loaded;
use nitro_scenario::metrics::{self, PointResult, RunStats};
use nitro_scenario::report::RunReport;

use crate::report_support;

/// The scenario text every fixture run echoes, unless a test changes it.
pub const SCENARIO: &str = "name = \"sample\"\n\
    [run]\nruns = 5\nduration = \"10s\"\n\
    [matrix]\nroute = [\"chat\", \"stream\"]\nconcurrency = [1, 8]\n";

/// One run: `rps` requests per second for 10 s, latency p50 `p50_us` (p95 2x, p99 3x), one
/// timeout and two 429 retries per 1,000 requests (so whole-hundred rates give equal shares).
pub fn run(n: u32, rps: f64, p50_us: u64, stream: bool) -> RunStats {
    let mut r = report_support::run(n, rps, p50_us, stream);
    r.outcomes.timeout = r.requests / 1000;
    r.outcomes.success = r.requests - r.outcomes.timeout;
    r.success_rate = Some(100.0 * r.outcomes.success as f64 / r.requests as f64);
    r.retries = r.requests / 500;
    r
}

/// A point of `route` (`chat` or `stream`) at `concurrency`, one run per (rps, p50 µs).
pub fn point(route: &str, concurrency: u32, runs: &[(f64, u64)]) -> PointResult {
    let stream = route == "stream";
    let path = if stream {
        "/v1/chat/completions:stream"
    } else {
        "/v1/chat/completions"
    };
    let runs = runs
        .iter()
        .enumerate()
        .map(|(i, &(rps, p50))| run(i as u32 + 1, rps, p50, stream))
        .collect();
    report_support::point(route, path, "S", concurrency, runs)
}

/// A point whose every request failed with a 500, in `runs` runs.
pub fn failed_point(route: &str, concurrency: u32, runs: u32) -> PointResult {
    let runs = (1..=runs)
        .map(|n| report_support::failed_run(n, 300.0))
        .collect();
    report_support::point(route, "/v1/chat/completions", "S", concurrency, runs)
}

/// The sample report's facts with `points` and `SCENARIO` as the scenario's text.
pub fn report(points: Vec<PointResult>) -> RunReport {
    let mut r = report_support::sample(false);
    for p in &points {
        assert_eq!(p.aggregate, metrics::aggregate(&p.runs));
    }
    r.points = points;
    r.scenario["text"] = SCENARIO.into();
    r.scenario["overrides"] = serde_json::json!([]);
    r
}

/// `report` as read from `path`.
pub fn loaded(path: &str, report: RunReport) -> Loaded {
    Loaded {
        path: path.into(),
        report,
    }
}

/// Five runs a side: chat at c1 slower (throughput down about 20%, latency up 20%), the
/// stream point unchanged.
pub fn regression() -> (RunReport, RunReport) {
    let stream = [(400.0, 20_000); 5];
    let base = report(vec![
        point(
            "chat",
            1,
            &[
                (1000.0, 3_000),
                (1100.0, 3_100),
                (900.0, 2_900),
                (1000.0, 3_000),
                (1000.0, 3_050),
            ],
        ),
        point("stream", 8, &stream),
    ]);
    let new = report(vec![
        point(
            "chat",
            1,
            &[
                (800.0, 3_600),
                (700.0, 3_700),
                (800.0, 3_500),
                (900.0, 3_650),
                (800.0, 3_600),
            ],
        ),
        point("stream", 8, &stream),
    ]);
    (base, new)
}

/// Two runs a side that overlap: nothing beyond the noise.
pub fn within_noise() -> (RunReport, RunReport) {
    let base = report(vec![point("chat", 1, &[(1000.0, 3_000), (1200.0, 3_400)])]);
    let new = report(vec![point("chat", 1, &[(1100.0, 3_300), (1000.0, 3_100)])]);
    (base, new)
}

/// `chat-S-c1` only in the base, `chat-S-c64` only in the new run, and `chat-S-c8` failing
/// everything in the new run (its latencies disappear).
pub fn missing_points() -> (RunReport, RunReport) {
    let ok = [(1000.0, 3_000), (1000.0, 3_100)];
    let base = report(vec![point("chat", 1, &ok), point("chat", 8, &ok)]);
    let new = report(vec![failed_point("chat", 8, 2), point("chat", 64, &ok)]);
    (base, new)
}

/// One run a side, of different scenarios on different hosts and tool versions.
pub fn different_scenarios() -> (RunReport, RunReport) {
    let base = report(vec![point("chat", 1, &[(1000.0, 3_000)])]);
    let mut new = report(vec![point("chat", 1, &[(900.0, 3_300)])]);
    new.tool_version = "0.2.0".into();
    new.host.cores = 8;
    new.host.cpu_model = "Other CPU".into();
    new.scenario["text"] = SCENARIO
        .replace("duration = \"10s\"", "duration = \"30s\"\nwarmup = \"5s\"")
        .replace("[1, 8]", "[1]")
        .into();
    new.scenario["overrides"] = serde_json::json!(["--set run.runs=1"]);
    (base, new)
}

/// Write `report` as `dir/name/results.json` (through the report writer) and return the
/// folder.
pub fn store(dir: &Path, name: &str, report: &RunReport) -> std::path::PathBuf {
    let folder = dir.join(name);
    nitro_scenario::report::write_all(report, &report_support::plan(&folder, None))
        .expect("write the fixture's reports");
    folder
}
