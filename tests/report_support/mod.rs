//! Hand-built `RunReport`s with fixed timestamps for the report tests, and a small XML
//! well-formedness check for the charts.

#![allow(dead_code, reason = "each test binary uses part of the support module")]

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use nitro_scenario::journal::JournalStats;
use nitro_scenario::metrics::{
    self, ClientStats, LatencySummary, OutcomeCounts, PointResult, RunStats, StreamSummary,
    UsageTotals,
};
use nitro_scenario::report::{self, HostFacts, OutputPlan, RunReport, Templates};
use nitro_scenario::scenario::LoadModel;

/// 2026-01-02T03:14:05.250Z
pub const POINT_FINISHED_MS: u64 = 1_767_323_645_250;

pub fn latency(p50_us: u64) -> Option<LatencySummary> {
    Some(LatencySummary {
        count: 1000,
        min_us: p50_us / 2,
        mean_us: p50_us as f64 * 1.1,
        p50_us,
        p90_us: p50_us * 3 / 2,
        p95_us: p50_us * 2,
        p99_us: p50_us * 3,
        p999_us: p50_us * 4,
        max_us: p50_us * 5,
    })
}

pub fn run(run: u32, rps: f64, p50_us: u64, stream: bool) -> RunStats {
    let requests = (rps * 10.0) as u64;
    let mut status = BTreeMap::new();
    status.insert(429, 3);
    RunStats {
        run,
        measure_secs: 10.0,
        requests,
        attempts: requests + 5,
        retries: 5,
        first_attempt: OutcomeCounts {
            success: requests - 5,
            status,
            ..Default::default()
        },
        outcomes: OutcomeCounts {
            success: requests - 2,
            timeout: 2,
            ..Default::default()
        },
        throughput_rps: rps,
        success_rps: rps - 0.2,
        success_rate: Some(100.0 * (requests - 2) as f64 / requests as f64),
        latency: latency(p50_us),
        ttfb: latency(p50_us / 4),
        stream: stream.then(|| StreamSummary {
            ttft: latency(p50_us / 3),
            itl: latency(1_000),
            tpot: latency(1_100),
            total_bytes: 4_000_000,
            bytes_per_sec: Some(150_000.0),
            output_tokens: requests * 32,
            tokens_estimated: false,
            ..Default::default()
        }),
        usage: UsageTotals {
            prompt_tokens: requests * 256,
            completion_tokens: requests * 32,
            total_tokens: requests * 288,
            requests: requests - 2,
            estimated_requests: 0,
            completion_tokens_per_sec: Some(rps * 32.0),
        },
        body_bytes: 4_000_000,
        client: ClientStats {
            peak_rss_bytes: 9 * 1024 * 1024,
            cpu_secs: 4.0,
            cpu_utilization: 0.4,
            busiest_thread_share: 0.45,
            lag_p99_us: 800,
            lag_max_us: 2_000,
            client_bound: false,
        },
        in_flight_at_end: 8,
        journal_dropped: 0,
        error_samples: vec![metrics::ErrorSample {
            kind: "timeout".into(),
            message: "`target.timeout` elapsed before the answer's headers".into(),
            count: 2,
        }],
        ..Default::default()
    }
}

/// A run where every request failed with a 500: no latency, no stream timings.
pub fn failed_run(run: u32, rps: f64) -> RunStats {
    let requests = (rps * 10.0) as u64;
    let mut status = BTreeMap::new();
    status.insert(500, requests);
    RunStats {
        run,
        measure_secs: 10.0,
        requests,
        attempts: requests,
        retries: 0,
        first_attempt: OutcomeCounts {
            status: status.clone(),
            ..Default::default()
        },
        outcomes: OutcomeCounts {
            status,
            ..Default::default()
        },
        throughput_rps: rps,
        success_rps: 0.0,
        success_rate: Some(0.0),
        latency: None,
        ttfb: None,
        // The recorder keeps no stream summary when no stream succeeded.
        stream: None,
        usage: UsageTotals::default(),
        body_bytes: requests * 120,
        client: ClientStats {
            peak_rss_bytes: 8 * 1024 * 1024,
            cpu_secs: 3.0,
            cpu_utilization: 0.3,
            busiest_thread_share: 0.35,
            lag_p99_us: 700,
            lag_max_us: 1_500,
            client_bound: false,
        },
        in_flight_at_end: 8,
        journal_dropped: 0,
        ..Default::default()
    }
}

pub fn point(
    route: &str,
    path: &str,
    payload: &str,
    concurrency: u32,
    runs: Vec<RunStats>,
) -> PointResult {
    let stream = path.ends_with(":stream");
    let mut vars = BTreeMap::new();
    vars.insert("route".to_string(), route.to_string());
    PointResult {
        id: format!("{route}-{payload}-c{concurrency}"),
        route: route.into(),
        path: path.into(),
        payload: Some(payload.into()),
        payload_bytes: 1024,
        load: LoadModel::Closed {
            concurrency: NonZeroU32::new(concurrency).unwrap(),
        },
        stream,
        vars,
        aggregate: metrics::aggregate(&runs),
        runs,
        partial: false,
        finished_unix_ms: Some(POINT_FINISHED_MS),
        client: None,
    }
}

/// Three routes: `chat` (two levels), `stream` (one payload succeeding, one failing) and
/// `error` (nothing succeeds).
pub fn sample(partial: bool) -> RunReport {
    let chat = "/v1/chat/completions";
    let stream = "/v1/chat/completions:stream";
    let mut points = vec![
        point(
            "chat",
            chat,
            "S",
            1,
            vec![
                run(1, 310.0, 3_200, false),
                run(2, 305.0, 3_300, false),
                run(3, 312.0, 3_250, false),
            ],
        ),
        point(
            "chat",
            chat,
            "S",
            32,
            vec![
                run(1, 8_800.0, 3_800, false),
                run(2, 8_900.0, 3_700, false),
                run(3, 8_700.0, 3_900, false),
            ],
        ),
        point(
            "stream",
            stream,
            "S",
            8,
            vec![
                run(1, 400.0, 20_000, true),
                run(2, 410.0, 19_500, true),
                run(3, 395.0, 20_500, true),
            ],
        ),
        point(
            "stream",
            stream,
            "L",
            8,
            vec![
                failed_run(1, 90.0),
                failed_run(2, 95.0),
                failed_run(3, 92.0),
            ],
        ),
        point(
            "error",
            "/v1/chat/completions:error",
            "S",
            8,
            vec![
                failed_run(1, 300.0),
                failed_run(2, 310.0),
                failed_run(3, 305.0),
            ],
        ),
    ];
    // 12 of the second run's streams arrived at once (in one read).
    if let Some(s) = points[2].runs[1].stream.as_mut() {
        s.not_streamed = 12;
    }
    points[2].aggregate = metrics::aggregate(&points[2].runs);
    if partial {
        points[2].runs.truncate(1);
        points[2].partial = true;
        points[2].aggregate = metrics::aggregate(&points[2].runs);
    }
    RunReport {
        tool_version: "0.1.0".into(),
        scenario_name: "sample".into(),
        scenario: serde_json::json!({
            "name": "sample",
            "description": "A hand-built report for snapshot tests",
            "source": "scenarios/sample.toml",
            "output": { "dir": null, "templates": null, "results_file": null, "requests_log": true },
            "run": {
                "runs": 3,
                "warmup": { "duration": null, "requests": 500 },
                "measure": { "duration": "10s", "requests": 5000 },
            },
        }),
        target: "mock (built-in)".into(),
        base_url: "mock".into(),
        host: HostFacts {
            cpu_model: "Test CPU | 2 GHz".into(),
            cores: 2,
            os: "TestOS".into(),
            memory_bytes: 24 << 30,
        },
        started_at: "2026-01-02T03:04:05Z".into(),
        finished_at: "2026-01-02T03:14:05Z".into(),
        partial,
        interruption: partial.then(|| "interrupted (Ctrl-C)".into()),
        axes: Vec::new(),
        points,
        journal: Some(JournalStats {
            accepted: 100,
            written: 100,
            dropped: 0,
            disk_writes: 3,
            ..JournalStats::default()
        }),
        thresholds: None,
    }
}

pub fn plan(dir: &Path, templates: Option<&Path>) -> OutputPlan {
    OutputPlan {
        dir: dir.to_path_buf(),
        results_file: None,
        templates: Templates::from_folder(templates).expect("templates load"),
    }
}

/// Write `report` into a new temporary folder.
pub fn write(report: &RunReport, templates: Option<&Path>) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = report::write_all(report, &plan(dir.path(), templates)).expect("write_all");
    (dir, files)
}

pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("read report file")
}

/// The names of the files in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Panic unless `xml` is one well-formed XML element (tags balanced and properly nested,
/// attributes quoted and unique, entities known): enough to catch what a hand-written SVG
/// emitter gets wrong.
pub fn assert_well_formed(xml: &str) {
    let b = xml.as_bytes();
    let mut i = 0;
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let name_end = |from: usize| {
        let mut j = from;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b"-_:.".contains(&b[j])) {
            j += 1;
        }
        assert!(j > from, "a name expected at byte {from}");
        j
    };
    let check_text = |text: &str, at: usize| {
        for (k, _) in text.match_indices('&') {
            let rest = &text[k..];
            let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| rest.starts_with(e))
                || (rest.starts_with("&#") && rest[2..].find(';').is_some_and(|e| e > 0));
            assert!(ok, "bad entity at byte {}", at + k);
        }
    };
    while i < b.len() {
        if b[i] != b'<' {
            let end = xml[i..].find('<').map_or(b.len(), |k| i + k);
            let text = &xml[i..end];
            assert!(
                !stack.is_empty() || text.trim().is_empty(),
                "text outside the root at byte {i}"
            );
            check_text(text, i);
            i = end;
            continue;
        }
        if xml[i..].starts_with("<?") {
            i += xml[i..].find("?>").expect("unclosed <?") + 2;
        } else if xml[i..].starts_with("<!--") {
            i += xml[i..].find("-->").expect("unclosed comment") + 3;
        } else if xml[i..].starts_with("</") {
            let end = name_end(i + 2);
            let name = &xml[i + 2..end];
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}> at byte {i}");
            assert_eq!(b[end], b'>', "junk in </{name}>");
            i = end + 1;
        } else {
            let end = name_end(i + 1);
            let name = &xml[i + 1..end];
            if stack.is_empty() {
                roots += 1;
            }
            let mut j = end;
            let mut attrs: Vec<&str> = Vec::new();
            loop {
                while b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if xml[j..].starts_with("/>") {
                    j += 2;
                    break;
                }
                if b[j] == b'>' {
                    stack.push(name);
                    j += 1;
                    break;
                }
                assert!(
                    b[j - 1].is_ascii_whitespace(),
                    "attributes need a space before them in <{name}>"
                );
                let attr_end = name_end(j);
                let attr = &xml[j..attr_end];
                assert!(!attrs.contains(&attr), "attribute {attr} twice in <{name}>");
                attrs.push(attr);
                assert_eq!(b[attr_end], b'=', "{attr} without a value in <{name}>");
                let quote = b[attr_end + 1];
                assert!(
                    quote == b'"' || quote == b'\'',
                    "{attr} value unquoted in <{name}>"
                );
                let value_start = attr_end + 2;
                let value_end = value_start
                    + xml[value_start..]
                        .find(quote as char)
                        .expect("unterminated attribute value");
                let value = &xml[value_start..value_end];
                assert!(!value.contains('<'), "`<` in {attr} of <{name}>");
                check_text(value, value_start);
                j = value_end + 1;
            }
            i = j;
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "one root element");
}
