//! Report renderers on hand-built `RunReport`s with fixed timestamps: snapshots of report.md,
//! results.csv and the framework objects; user template folders; reading back.

mod report_support;

use nitro_scenario::report::{self, ReportError, Templates};
use report_support::{POINT_FINISHED_MS, names, plan, read, sample, write};

#[test]
fn markdown_csv_and_json_snapshots() {
    let (dir, files) = write(&sample(false), None);
    insta::assert_snapshot!("report_md", read(dir.path(), "report.md"));
    insta::assert_snapshot!("results_csv", read(dir.path(), "results.csv"));
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    insta::assert_snapshot!(
        "framework_results",
        serde_json::to_string_pretty(&json["framework_results"]).unwrap()
    );
    assert_eq!(
        files.last(),
        Some(&dir.path().join("report.md")),
        "written last"
    );
    assert_eq!(
        names(dir.path()),
        [
            "chart-chat-latency.svg",
            "chart-chat-throughput.svg",
            "chart-error-latency.svg",
            "chart-error-throughput.svg",
            "chart-stream-latency.svg",
            "chart-stream-throughput.svg",
            "report.md",
            "results.csv",
            "results.json",
        ],
        "every file, and no temporary file left"
    );
}

#[test]
fn a_partial_report_says_so() {
    let (dir, _) = write(&sample(true), None);
    insta::assert_snapshot!("report_partial_md", read(dir.path(), "report.md"));
    let csv = read(dir.path(), "results.csv");
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains(",client_bound,partial,rate_rps,")
    );
    assert!(
        csv.lines()
            .nth(3)
            .unwrap()
            .ends_with(",false,true,,,,,,,,,,,,,,,,,,,1.0000,,,,,,"),
        "{csv}"
    );
}

#[test]
fn request_log_losses_reach_the_report_and_the_json() {
    let mut report = sample(false);
    let journal = report.journal.as_mut().unwrap();
    journal.dropped = 5;
    journal.lost_after_error = 7;
    journal.error = Some("No space left on device (os error 28)".into());
    let (dir, _) = write(&report, None);
    let md = read(dir.path(), "report.md");
    assert!(md.contains("5 dropped because the buffer was full"), "{md}");
    assert!(
        md.contains("**The request log is incomplete:** No space left on device (os error 28) (7 accepted records not written)"),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    assert_eq!(json["journal"]["dropped"], 5);
    assert_eq!(json["journal"]["lost_after_error"], 7);
}

#[test]
fn a_point_without_successes_has_no_latency_anywhere() {
    let (dir, _) = write(&sample(false), None);
    let csv = read(dir.path(), "results.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("error-S-c8,"))
        .unwrap()
        .split(',')
        .collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    for column in [
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_p99_ms_mad",
        "ttfb_p50_ms",
    ] {
        assert_eq!(cell(column), "", "{column}");
    }
    assert_eq!(cell("errors"), "9150");

    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    // results.json writes `null` for every figure that does not exist, never 0.
    let error = &json["points"][4];
    assert_eq!(error["id"], "error-S-c8");
    for key in ["latency", "ttfb", "stream"] {
        assert_eq!(
            error["runs"][0][key],
            serde_json::Value::Null,
            "runs[0].{key}"
        );
    }
    assert_eq!(
        error["runs"][0]["usage"]["completion_tokens_per_sec"],
        serde_json::Value::Null
    );
    for key in [
        "latency_p50_ms",
        "latency_p999_ms",
        "latency_mean_ms",
        "ttfb_p50_ms",
        "tokens_per_sec",
    ] {
        assert_eq!(error["aggregate"][key], serde_json::Value::Null, "{key}");
    }
    assert_eq!(error["aggregate"]["throughput_rps"]["median"], 305.0);
    assert_eq!(error["aggregate"]["success_rate"]["median"], 0.0);
    let fw = &json["framework_results"];
    assert_eq!(
        fw[4]["latency_ms"],
        serde_json::json!({"p50": null, "p95": null, "p99": null})
    );
    assert_eq!(
        fw[3]["time_to_first_ms"],
        serde_json::json!({"p50": null, "p95": null, "p99": null})
    );
    let md = read(dir.path(), "report.md");
    assert!(
        md.contains("| `error-S-c8` | 305 ± 5 | - | - | - | 9,150 | 0.0 |"),
        "{md}"
    );
    let chart = read(dir.path(), "chart-error-latency.svg");
    assert!(chart.contains(">no successful requests</text>"));
    assert!(!chart.contains("<polyline"));
    assert!(
        !chart.contains(">S p50</text>"),
        "no legend without data: {chart}"
    );
}

#[test]
fn framework_figures_are_per_run_medians() {
    let (dir, _) = write(&sample(false), None);
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    let chat = &json["framework_results"][1];
    // Runs of 88,000, 89,000 and 87,000 requests: the median, not the sum.
    assert_eq!(chat["reqs"], 88_000);
    assert_eq!(chat["throughput_rps"], 8_800.0);
    assert_eq!(chat["errors"]["timeouts"], 2);
    assert_eq!(chat["test_config"]["duration_seconds"], 10);
    assert_eq!(chat["test_config"]["measure_requests"], 5000);
    assert_eq!(chat["timestamp"], "2026-01-02T03:14:05.250Z");
    assert_eq!(chat["partial"], false);
    assert_eq!(chat["test_config"]["mockoon_base"], "mock");
    // The timestamp is the point's finish, to the millisecond (the fixture's has 250 of them).
    let stamped = time::OffsetDateTime::parse(
        chat["timestamp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let finished_ns = i128::from(POINT_FINISHED_MS) * 1_000_000;
    assert_eq!(stamped.unix_timestamp_nanos(), finished_ns);
}

#[test]
fn a_fully_retried_point_does_not_read_as_a_plain_success() {
    let mut report = sample(false);
    // Every request succeeded in the end, after 429s and retries.
    for run in &mut report.points[0].runs {
        run.outcomes = nitro_scenario::metrics::OutcomeCounts {
            success: run.requests,
            ..Default::default()
        };
        run.first_attempt
            .status
            .insert(429, 40 + u64::from(run.run));
        run.retries = 60 + u64::from(run.run);
    }
    let (dir, _) = write(&report, None);
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    let errors = &json["framework_results"][0]["errors"];
    assert_eq!(errors["total"], 0);
    // Medians of runs 1, 2 and 3.
    assert_eq!(errors["retries"], 62);
    assert_eq!(errors["rate_limited"], 42);
    assert_eq!(json["framework_results"][2]["errors"]["rate_limited"], 3);
}

#[test]
fn a_user_template_folder_replaces_the_built_in_template() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::create_dir(templates.path().join("parts")).unwrap();
    // An include and an import: the folder is loaded whole, by relative path.
    std::fs::write(
        templates.path().join("report.md.j2"),
        "{% from \"parts/lines.j2\" import line %}{% include \"parts/head.j2\" %}\n\n\
         {% for p in points %}{{ line(p) }}\n{% endfor %}",
    )
    .unwrap();
    std::fs::write(
        templates.path().join("parts/head.j2"),
        "# {{ report.scenario_name }}\n",
    )
    .unwrap();
    std::fs::write(
        templates.path().join("parts/lines.j2"),
        "{% macro line(p) %}- {{ p.id }}: {{ p.rps | spread(1, false) }} req/s, \
         p99 {{ p.p99.median | fixed(1) if p.p99 else \"-\" }} ms{% endmacro %}",
    )
    .unwrap();
    let (dir, _) = write(&sample(false), Some(templates.path()));
    assert_eq!(
        read(dir.path(), "report.md"),
        "# sample\n- chat-S-c1: 310.0 req/s, p99 9.8 ms\n- chat-S-c32: 8,800.0 req/s, p99 11.4 ms\n\
         - stream-S-c8: 400.0 req/s, p99 60.0 ms\n- stream-L-c8: 92.0 req/s, p99 - ms\n\
         - error-S-c8: 305.0 req/s, p99 - ms\n"
    );
}

#[test]
fn missing_template_folders_and_files_are_errors_naming_the_path() {
    let templates = tempfile::tempdir().unwrap();
    let missing = templates.path().join("nope");
    let err = Templates::load(&missing).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}: templates folder not found", missing.display())
    );
    let err = Templates::load(templates.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: not found; a templates folder needs `report.md.j2`",
            templates.path().join("report.md.j2").display()
        )
    );
}

#[test]
fn a_template_error_still_writes_the_data() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("report.md.j2"),
        "line one\n{{ no_such_value }}",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err =
        report::write_all(&sample(false), &plan(dir.path(), Some(templates.path()))).unwrap_err();
    let text = err.to_string();
    let user_file = templates.path().join("report.md.j2");
    assert!(
        text.starts_with(&format!("{}:2: undefined value", user_file.display())),
        "{text}"
    );
    assert!(text.contains("`report.md` was not written"), "{text}");
    let ReportError::MarkdownNotWritten { written, .. } = err else {
        panic!("not MarkdownNotWritten: {text}");
    };
    assert!(written.contains(&dir.path().join("results.json")));
    assert!(dir.path().join("results.json").is_file());
    assert!(dir.path().join("results.csv").is_file());
    assert!(!dir.path().join("report.md").exists());
}

#[test]
fn results_json_reads_back_to_the_same_bytes() {
    let (dir, _) = write(&sample(false), None);
    let first = read(dir.path(), "results.json");
    let back = report::load_results(&dir.path().join("results.json")).unwrap();
    assert_eq!(back.points.len(), 5);
    assert_eq!(back.points[0].finished_unix_ms, Some(POINT_FINISHED_MS));
    let (again, _) = write(&back, None);
    assert_eq!(read(again.path(), "results.json"), first);
    assert_eq!(
        read(again.path(), "report.md"),
        read(dir.path(), "report.md")
    );

    std::fs::write(dir.path().join("other.json"), "{\"hello\": 1}").unwrap();
    let err = report::load_results(&dir.path().join("other.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a nitro-scenario results file"), "{err}");
}

#[test]
fn results_json_has_no_float_noise() {
    let (dir, _) = write(&sample(false), None);
    let text = read(dir.path(), "results.json");
    let noisy: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|n| n.split_once('.').is_some_and(|(_, f)| f.len() > 4))
        .collect();
    assert!(noisy.is_empty(), "{noisy:?}");
    // The fixture's mean latency is p50 x 1.1: float noise before rounding.
    assert!(text.contains("\"mean_us\": 3520.0,"), "rounded mean");
}

#[test]
fn tokens_per_second_is_one_figure_everywhere() {
    let report = sample(false);
    let (dir, _) = write(&report, None);
    // chat-S-c1, a JSON route: runs of 9,920, 9,760 and 9,984 completion tokens/s.
    let md = read(dir.path(), "report.md");
    assert!(
        md.contains("| 6 | 99.9 | - | 9,920 ± 64 |"),
        "summary: {md}"
    );
    assert!(
        md.contains("| `chat-S-c1` | 1 | 793,600 | 99,200 | 892,800 | 9,920 | 0 |"),
        "ledger: {md}"
    );
    let csv = read(dir.path(), "results.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "tokens_per_sec").unwrap();
    let cell = |id: &str| {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap();
        line.split(',').nth(column).unwrap().to_string()
    };
    assert_eq!(cell("chat-S-c1"), "9920.0");
    assert_eq!(
        cell("stream-S-c8"),
        "12800.0",
        "streams use the same figure"
    );
    assert_eq!(cell("error-S-c8"), "", "no usage, no tokens/s");
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    assert_eq!(
        json["points"][0]["aggregate"]["tokens_per_sec"]["median"],
        9920.0
    );
    let terminal = report::summary_table(&report);
    let chat = terminal
        .lines()
        .find(|l| l.starts_with("chat-S-c1 "))
        .unwrap();
    let cells: Vec<&str> = chat.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["-", "9,920"], "{terminal}");
}

#[test]
fn the_terminal_summary_shows_stream_and_token_columns_only_when_a_point_has_them() {
    let mut report = sample(false);
    let full = report::summary_table(&report);
    let header = full.lines().next().unwrap();
    assert!(header.ends_with("  ttft p50 ms  tokens/s"), "{full}");
    report.points.retain(|p| !p.stream);
    let no_stream = report::summary_table(&report);
    assert!(!no_stream.contains("ttft"), "{no_stream}");
    assert!(
        no_stream.lines().next().unwrap().ends_with("  tokens/s"),
        "{no_stream}"
    );
    report.points.retain(|p| p.id.starts_with("error"));
    let no_tokens = report::summary_table(&report);
    let header = no_tokens.lines().next().unwrap();
    assert!(header.ends_with("  success %"), "{no_tokens}");
    // Rows end where the header does.
    let row = no_tokens.lines().nth(1).unwrap();
    assert!(row.ends_with("  0.0"), "{no_tokens}");
}

#[test]
fn rates_below_one_per_second_keep_their_digits() {
    let mut report = sample(false);
    report.points.truncate(1);
    let p = &mut report.points[0];
    for (r, rps) in p.runs.iter_mut().zip([0.496, 0.5, 0.48]) {
        r.throughput_rps = rps;
        r.usage.completion_tokens_per_sec = Some(rps * 16.0);
    }
    p.aggregate = nitro_scenario::metrics::aggregate(&p.runs);
    let (dir, _) = write(&report, None);
    let md = read(dir.path(), "report.md");
    // median 0.496, deviations 0, 0.004, 0.016: MAD 0.004.
    assert!(md.contains("| `chat-S-c1` | 0.496 ± 0.004 |"), "{md}");
    assert!(md.contains("| 7.94 ± 0.06 |"), "tokens/s: {md}");
    let terminal = report::summary_table(&report);
    let line = terminal.lines().nth(1).unwrap();
    assert!(line.starts_with("chat-S-c1  0.496  "), "{terminal}");
    let csv = read(dir.path(), "results.csv");
    assert!(
        csv.lines().nth(1).unwrap().contains(",3,9270,0.496,0.004,"),
        "{csv}"
    );
}

#[test]
fn streams_that_arrived_at_once_are_counted_in_the_json() {
    let (dir, _) = write(&sample(false), None);
    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "results.json")).unwrap();
    let stream = &json["points"][2];
    assert_eq!(stream["id"], "stream-S-c8");
    assert_eq!(stream["runs"][1]["stream"]["not_streamed"], 12);
    assert_eq!(stream["aggregate"]["totals"]["not_streamed"], 12);
    let md = read(dir.path(), "report.md");
    assert!(
        md.contains("| 1.00 † | 3.00 † | 1.10 † | 12,800 | 146.5 KiB/s † |"),
        "{md}"
    );
    assert!(
        md.contains("- `stream-S-c8`: 12 of 12,044 streams not streamed"),
        "{md}"
    );
}

#[test]
fn the_template_example_in_the_docs_renders() {
    let docs = std::fs::read_to_string("docs/templates.md").expect("docs/templates.md");
    let example = docs
        .split("```jinja\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a jinja example");
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("report.md.j2"), example).unwrap();
    let (dir, _) = write(&sample(false), Some(templates.path()));
    let md = read(dir.path(), "report.md");
    assert!(
        md.contains("- chat-S-c1: 310 ± 2 req/s, p99 9.75 ms, 6 errors\n"),
        "{md}"
    );
    assert!(
        md.contains("- error-S-c8: 305 ± 5 req/s, p99 - ms, 9,150 errors\n"),
        "{md}"
    );
}

#[test]
fn an_open_loop_point_has_its_rates_lag_and_charts() {
    use nitro_scenario::metrics::{self, OpenLoopStats};
    use nitro_scenario::scenario::{Arrival, ArrivalProcess, LoadModel, OpenLoop, RateProfile};
    let mut report = sample(false);
    let mut open_run = report_support::run(1, 49.5, 4_000, false);
    open_run.open_loop = Some(OpenLoopStats {
        scheduled: 500,
        sent: 498,
        dropped: 2,
        queued: 7,
        peak_in_flight: 12,
        offered_rps: Some(50.0),
        achieved_rps: Some(49.5),
        service_time: report_support::latency(3_000),
        send_lag: report_support::latency(40),
        queue_time: report_support::latency(2_000),
        behind_schedule: true,
        ..Default::default()
    });
    let mut point = report_support::point("chat", "/v1/chat/completions", "S", 1, vec![open_run]);
    point.id = "chat-S-r50".into();
    point.load = LoadModel::Open {
        open_loop: OpenLoop {
            rate: RateProfile::Fixed(50.0),
            arrival: Arrival {
                process: ArrivalProcess::Poisson,
                seed: 42,
            },
            max_in_flight: std::num::NonZeroU32::new(16).unwrap(),
        },
    };
    point.aggregate = metrics::aggregate(&point.runs);
    report.points.push(point);
    let (dir, written) = write(&report, None);
    let csv = read(dir.path(), "results.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("id"), "chat-S-r50");
    assert_eq!(cell("concurrency"), "", "a rate point has no concurrency");
    assert_eq!(
        [cell("rate_rps"), cell("offered_rps"), cell("achieved_rps")],
        ["50.0", "50.0", "49.5"]
    );
    assert_eq!(
        [cell("service_p50_ms"), cell("send_lag_p99_ms")],
        ["3.000", "0.120"]
    );
    assert_eq!(
        [
            cell("scheduled"),
            cell("dropped"),
            cell("queued"),
            cell("peak_in_flight")
        ],
        ["500", "2", "7", "12"]
    );
    assert_eq!(cell("behind_schedule"), "true");
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        first[header.iter().position(|h| *h == "scheduled").unwrap()],
        ""
    );
    let md = read(dir.path(), "report.md");
    assert!(md.contains("## Open loop"), "{md}");
    assert!(md.contains("`chat-S-r50` ⚠ behind schedule | 50 req/s poisson | 50.0 | 49.5 |"));
    assert!(md.contains("(chart-chat-rate-latency.svg)"));
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .collect();
    for chart in [
        "chart-chat-rate-latency.svg",
        "chart-chat-rate-throughput.svg",
    ] {
        assert!(names.iter().any(|n| n == chart), "{chart} in {names:?}");
    }
    let svg = read(dir.path(), "chart-chat-rate-latency.svg");
    assert!(svg.contains(">rate, req/s (levels evenly spaced)</text>"));
    assert!(svg.contains(">S service p99</text>"));
}
