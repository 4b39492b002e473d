//! SLO verdicts and rate searches in the reports, on a hand-built `RunReport`: the SLO and
//! search sections of report.md (snapshots), the answer as a headline, the CSV columns, and
//! results.json read back to the same bytes.

mod report_support;

use nitro_scenario::metrics::{
    self, PointResult, Probe, RunStats, SearchEnd, SearchRun, SloCheck, SloVerdict,
};
use nitro_scenario::report;
use nitro_scenario::scenario::{
    Arrival, ArrivalProcess, LoadModel, OpenLoop, RateProfile, RateSearch, Resolution,
};
use report_support::{read, sample, write};

fn check(objective: &str, p: Option<f64>, limit: f64, value: Option<f64>) -> SloCheck {
    let meets = value.is_some_and(|v| if p.is_some() { v <= limit } else { v >= limit });
    SloCheck {
        objective: objective.into(),
        p,
        limit,
        value,
        meets,
    }
}

/// A verdict with a latency p99 of `p99_ms` against 10 ms, and success against 99%.
fn verdict(goodput: f64, p99_ms: f64, success: f64, stream: Option<f64>) -> SloVerdict {
    let mut checks = vec![check("latency", Some(99.0), 10.0, Some(p99_ms))];
    if let Some(ttft) = stream {
        checks.push(check("ttft", Some(50.0), 8.0, Some(ttft)));
    }
    checks.push(check("success_rate", None, 99.0, Some(success)));
    SloVerdict {
        good: (goodput * 10.0) as u64,
        goodput_rps: goodput,
        meets: checks.iter().all(|c| c.meets),
        checks,
    }
}

fn judged(mut runs: Vec<RunStats>, v: impl Fn(&RunStats) -> SloVerdict) -> Vec<RunStats> {
    for r in &mut runs {
        r.slo = Some(v(r));
    }
    runs
}

fn probe(rate: f64, p99_ms: f64) -> Probe {
    let slo = verdict(rate.min(100.0) * 0.98, p99_ms, 99.9, None);
    Probe {
        rate_rps: rate,
        meets: slo.meets,
        slo,
        requests: (rate * 2.0) as u64,
        achieved_rps: Some(rate * 0.999),
        success_rate: Some(99.9),
        latency_p50_ms: Some(p99_ms / 3.0),
        latency_p99_ms: Some(p99_ms),
        ..Default::default()
    }
}

/// A search point of two runs over 20–180 req/s at a resolution of 10: both find 100.
fn search_point() -> PointResult {
    let run = |n: u32, last: f64| {
        let probes = vec![
            probe(20.0, 4.0),
            probe(180.0, 900.0),
            probe(100.0, 8.0),
            probe(140.0, 400.0),
            probe(120.0, 150.0),
            probe(110.0, last),
        ];
        let mut stats = report_support::run(n, 99.9, 2_600, false);
        stats.slo = Some(probes[2].slo.clone());
        stats.search = Some(SearchRun {
            probes,
            answer_rps: Some(100.0),
            failed_rps: Some(110.0),
            end: SearchEnd::Converged,
        });
        stats
    };
    let runs = vec![run(1, 60.0), run(2, 45.0)];
    let mut point = report_support::point("chat", "/v1/chat/completions", "S", 1, runs);
    point.id = "chat-S-search".into();
    point.load = LoadModel::Open {
        open_loop: OpenLoop {
            rate: RateProfile::Search(RateSearch {
                min: 20.0,
                max: 180.0,
                resolution: Resolution::Absolute(10.0),
                probe: std::time::Duration::from_secs(2),
            }),
            arrival: Arrival {
                process: ArrivalProcess::Constant,
                seed: 42,
            },
            max_in_flight: std::num::NonZeroU32::new(1000).unwrap(),
        },
    };
    point.aggregate = metrics::aggregate(&point.runs);
    point
}

fn report_with_slos() -> report::RunReport {
    let mut report = sample(false);
    for p in &mut report.points {
        let stream = p.stream;
        let runs = std::mem::take(&mut p.runs);
        p.runs = judged(runs, |r| {
            let p99 = r.latency.map(|l| l.p99_us as f64 / 1000.0);
            let ttft = r
                .stream
                .as_ref()
                .and_then(|s| s.ttft)
                .map(|t| t.p50_us as f64 / 1000.0);
            let mut v = verdict(
                r.success_rps * 0.9,
                p99.unwrap_or(f64::NAN),
                r.success_rate.unwrap_or(0.0),
                stream.then_some(ttft.unwrap_or(f64::NAN)),
            );
            if p99.is_none() {
                for c in v.checks.iter_mut().filter(|c| c.p.is_some()) {
                    c.value = None;
                    c.meets = false;
                }
                v.meets = false;
            }
            v
        });
        p.aggregate = metrics::aggregate(&p.runs);
    }
    report.points.push(search_point());
    report
}

/// The section of `md` from the heading `start` to the next `## ` heading.
fn section<'a>(md: &'a str, start: &str) -> &'a str {
    let from = md.find(start).unwrap_or_else(|| panic!("{start} in {md}"));
    let rest = &md[from..];
    let end = rest[start.len()..]
        .find("\n## ")
        .map_or(rest.len(), |i| i + start.len() + 1);
    &rest[..end]
}

#[test]
fn slo_and_search_sections_of_the_report() {
    let report = report_with_slos();
    let (dir, _) = write(&report, None);
    let md = read(dir.path(), "report.md");
    insta::assert_snapshot!("slo_section", section(&md, "## SLOs"));
    insta::assert_snapshot!("search_section", section(&md, "## Rate search"));
    assert!(
        md.contains("**Highest rate that meets the SLOs:** `chat-S-search` 100 ± 0 req/s"),
        "the answer is a headline: {md}"
    );
    assert!(
        md.contains("| goodput req/s | SLOs |\n"),
        "the summary has goodput and the verdict: {md}"
    );
}

#[test]
fn goodput_verdict_and_answer_are_csv_columns() {
    let (dir, _) = write(&report_with_slos(), None);
    let csv = read(dir.path(), "results.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| {
        let i = header.iter().position(|h| *h == name).unwrap();
        csv.lines()
            .skip(1)
            .map(|line| line.split(',').nth(i).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(column("id").last().unwrap(), "chat-S-search");
    assert_eq!(
        column("slo_met"),
        ["true", "false", "false", "false", "false", "true"]
    );
    assert_eq!(column("goodput_rps")[0], "278.8");
    assert_eq!(column("search_answer_rps"), ["", "", "", "", "", "100.0"]);
}

#[test]
fn searches_and_verdicts_read_back_from_results_json() {
    let report = report_with_slos();
    let json = report::results_json(&report).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    std::fs::write(&path, &json).unwrap();
    let back = report::load_results(&path).unwrap();
    assert_eq!(report::results_json(&back).unwrap(), json);
    let search = back.points.last().unwrap();
    let agg = search.aggregate.search.as_ref().unwrap();
    assert_eq!(agg.answer_rps.unwrap().median, 100.0);
    assert_eq!(agg.probes, 12);
    assert_eq!(
        search.runs[0].search.as_ref().unwrap().probes[1].rate_rps,
        180.0
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let point = &value["points"][5];
    assert_eq!(point["open_loop"]["rate"]["search"]["min"], 20.0);
    assert_eq!(point["aggregate"]["slo"]["meets"], true);
    assert_eq!(point["runs"][0]["search"]["end"], "converged");
}

#[test]
fn the_terminal_summary_names_the_verdicts_and_the_answer() {
    let text = report::summary_table(&report_with_slos());
    assert!(
        text.contains("SLOs met by 2 of 6 points: chat-S-c1, chat-S-search\n"),
        "{text}"
    );
    assert!(
        text.contains("highest rate that meets the SLOs, chat-S-search: 100 ± 0 req/s\n"),
        "{text}"
    );
}
