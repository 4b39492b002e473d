//! Report renderers on hand-built `RunReport`s with fixed timestamps: snapshots of report.md,
//! results.csv and results.json; a user template folder; atomic writes; reading back.

use std::collections::BTreeMap;

use nitro_scenario::journal::JournalStats;
use nitro_scenario::metrics::{
    self, ClientStats, LatencySummary, OutcomeCounts, PointResult, RunStats, StreamSummary,
    UsageTotals,
};
use nitro_scenario::report::{self, HostFacts, OutputPlan, RunReport};

fn latency(p50_us: u64) -> LatencySummary {
    LatencySummary {
        count: 1000,
        min_us: p50_us / 2,
        mean_us: p50_us as f64 * 1.1,
        p50_us,
        p90_us: p50_us * 3 / 2,
        p95_us: p50_us * 2,
        p99_us: p50_us * 3,
        p999_us: p50_us * 4,
        max_us: p50_us * 5,
    }
}

fn run(run: u32, rps: f64, p50_us: u64, stream: bool) -> RunStats {
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
        success_rate: 100.0 * (requests - 2) as f64 / requests as f64,
        latency: latency(p50_us),
        ttfb: latency(p50_us / 4),
        stream: stream.then(|| StreamSummary {
            ttft: latency(p50_us / 3),
            itl: latency(1_000),
            tpot: latency(1_100),
            total_bytes: 4_000_000,
            bytes_per_sec: 150_000.0,
            output_tokens: requests * 32,
            tokens_per_sec: rps * 32.0,
            tokens_estimated: false,
        }),
        usage: UsageTotals {
            prompt_tokens: requests * 256,
            completion_tokens: requests * 32,
            total_tokens: requests * 288,
            estimated_requests: 0,
            completion_tokens_per_sec: rps * 32.0,
        },
        body_bytes: 4_000_000,
        client: ClientStats {
            peak_rss_bytes: 9 * 1024 * 1024,
            cpu_secs: 4.0,
            cpu_utilization: 0.4,
            lag_p99_us: 800,
            lag_max_us: 2_000,
            client_bound: false,
        },
        in_flight_at_end: 8,
        journal_dropped: 0,
    }
}

fn point(
    route: &str,
    path: &str,
    payload: &str,
    concurrency: u32,
    runs: Vec<RunStats>,
) -> PointResult {
    let stream = runs.iter().any(|r| r.stream.is_some());
    let mut vars = BTreeMap::new();
    vars.insert("route".to_string(), route.to_string());
    PointResult {
        id: format!("{route}-{payload}-c{concurrency}"),
        route: route.into(),
        path: path.into(),
        payload: Some(payload.into()),
        payload_bytes: 1024,
        concurrency,
        stream,
        vars,
        aggregate: metrics::aggregate(&runs),
        runs,
        partial: false,
    }
}

fn sample(partial: bool) -> RunReport {
    let mut points = vec![
        point(
            "chat",
            "/v1/chat/completions",
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
            "/v1/chat/completions",
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
            "/v1/chat/completions:stream",
            "S",
            8,
            vec![
                run(1, 400.0, 20_000, true),
                run(2, 410.0, 19_500, true),
                run(3, 395.0, 20_500, true),
            ],
        ),
    ];
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
            "run": { "runs": 3, "warmup": { "duration": "1s", "requests": null }, "measure": { "duration": "10s", "requests": null } }
        }),
        target: "mock (built-in, http://127.0.0.1:4000/)".into(),
        base_url: "http://127.0.0.1:4000/".into(),
        host: HostFacts {
            cpu_model: "Test CPU".into(),
            cores: 2,
            os: "TestOS".into(),
            memory_bytes: 24 << 30,
        },
        started_at: "2026-01-02T03:04:05Z".into(),
        finished_at: "2026-01-02T03:14:05Z".into(),
        partial,
        interruption: partial.then(|| "interrupted (Ctrl-C)".into()),
        points,
        journal: Some(JournalStats {
            accepted: 100,
            written: 100,
            dropped: 0,
            disk_writes: 3,
            ..JournalStats::default()
        }),
    }
}

fn write(
    report: &RunReport,
    templates: Option<&std::path::Path>,
) -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let plan = OutputPlan {
        dir: dir.path().to_path_buf(),
        results_file: None,
        templates: templates.map(Into::into),
    };
    let files = report::write_all(report, &plan).unwrap();
    (dir, files)
}

fn read(dir: &tempfile::TempDir, name: &str) -> String {
    std::fs::read_to_string(dir.path().join(name)).unwrap()
}

#[test]
fn markdown_csv_and_json_snapshots() {
    let (dir, files) = write(&sample(false), None);
    insta::assert_snapshot!("report_md", read(&dir, "report.md"));
    insta::assert_snapshot!("results_csv", read(&dir, "results.csv"));
    let json: serde_json::Value = serde_json::from_str(&read(&dir, "results.json")).unwrap();
    insta::assert_snapshot!(
        "framework_results",
        serde_json::to_string_pretty(&json["framework_results"]).unwrap()
    );
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"chart-stream-latency.svg".to_string()));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "no temporary files remain");
}

#[test]
fn a_partial_report_says_so() {
    let (dir, _) = write(&sample(true), None);
    insta::assert_snapshot!("report_partial_md", read(&dir, "report.md"));
}

#[test]
fn a_user_template_folder_replaces_the_built_in_template() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("report.md.j2"),
        "# {{ report.scenario_name }}\n{% for p in points %}- {{ p.id }}: {{ p.rps | spread(1, false) }} req/s, p99 {{ p.p99.median | fixed(1) }} ms\n{% endfor %}",
    )
    .unwrap();
    let (dir, _) = write(&sample(false), Some(templates.path()));
    assert_eq!(
        read(&dir, "report.md"),
        "# sample\n- chat-S-c1: 310.0 req/s, p99 9.8 ms\n- chat-S-c32: 8800.0 req/s, p99 11.4 ms\n- stream-S-c8: 400.0 req/s, p99 60.0 ms\n"
    );
}

#[test]
fn a_template_error_is_reported_not_panicked() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("report.md.j2"), "{{ no_such_value }}").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = OutputPlan {
        dir: dir.path().into(),
        results_file: None,
        templates: Some(templates.path().into()),
    };
    let err = report::write_all(&sample(false), &plan)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("template `report.md.j2`"), "{err}");
}

#[test]
fn results_json_reads_back_and_other_files_are_refused() {
    let original = sample(false);
    let (dir, _) = write(&original, None);
    let back = report::load_results(&dir.path().join("results.json")).unwrap();
    assert_eq!(back, original);
    std::fs::write(dir.path().join("other.json"), "{\"hello\": 1}").unwrap();
    let err = report::load_results(&dir.path().join("other.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a nitro-scenario results file"), "{err}");
}
