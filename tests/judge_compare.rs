//! `compare` on hand-built pairs of runs: verdicts, appeared and disappeared figures, points on
//! one side only, warnings naming what differs, tolerances; the Markdown pinned by snapshots.

mod judge_support;
mod report_support;

use judge_support::{different_scenarios, loaded, missing_points, regression, within_noise};
use nitro_scenario::judge::{self, Comparison, Verdict};
use nitro_scenario::report::{RunReport, Templates};

fn compare(pair: (RunReport, RunReport), fail_on: &[&str]) -> Comparison {
    let fail_on: Vec<String> = fail_on.iter().map(|s| s.to_string()).collect();
    let tolerances = judge::parse_tolerances(&fail_on).expect("tolerances");
    judge::compare(
        &loaded("main/reports/sample", pair.0),
        &loaded("reports/sample/results.json", pair.1),
        &tolerances,
    )
}

fn markdown(c: &Comparison) -> String {
    judge::markdown(c, &judge::templates_for(&Templates::built_in())).expect("markdown")
}

fn verdict(c: &Comparison, point: &str, figure: &str) -> Option<Verdict> {
    c.points
        .iter()
        .find(|p| p.id == point)?
        .figures
        .iter()
        .find(|f| f.figure == figure)
        .map(|f| f.verdict)
}

#[test]
fn a_clear_regression() {
    let c = compare(regression(), &["latency_p99=+10%", "throughput=-30%"]);
    assert_eq!(verdict(&c, "chat-S-c1", "throughput"), Some(Verdict::Worse));
    assert_eq!(
        verdict(&c, "chat-S-c1", "latency_p99"),
        Some(Verdict::Worse)
    );
    assert_eq!(
        verdict(&c, "chat-S-c1", "success_rate"),
        Some(Verdict::WithinNoise)
    );
    assert_eq!(
        verdict(&c, "stream-S-c8", "ttft_p50"),
        Some(Verdict::WithinNoise)
    );
    // Throughput fell 20%: past no tolerance of 30%; p99 rose 20%: past 10%.
    let failed: Vec<(&str, &str)> = c
        .failures
        .iter()
        .map(|f| (f.point.as_str(), f.figure))
        .collect();
    assert_eq!(failed, [("chat-S-c1", "latency_p99")]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    insta::assert_snapshot!("compare_regression", markdown(&c));
}

#[test]
fn a_change_within_noise() {
    let c = compare(within_noise(), &["latency_p99=+1%"]);
    assert!(
        c.points[0]
            .figures
            .iter()
            .all(|f| f.verdict == Verdict::WithinNoise),
        "{c:#?}"
    );
    assert!(!c.failed(), "past the tolerance, but within the noise");
    insta::assert_snapshot!("compare_within_noise", markdown(&c));
}

#[test]
fn points_missing_on_either_side() {
    let c = compare(missing_points(), &["latency_p50=+50%"]);
    assert_eq!(c.base_only, ["chat-S-c1"]);
    assert_eq!(c.new_only, ["chat-S-c64"]);
    assert_eq!(c.points.len(), 1);
    assert_eq!(
        verdict(&c, "chat-S-c8", "latency_p50"),
        Some(Verdict::Disappeared)
    );
    assert_eq!(
        verdict(&c, "chat-S-c8", "success_rate"),
        Some(Verdict::Worse)
    );
    // A figure with a tolerance that the new run no longer has cannot pass it.
    assert_eq!(c.failures.len(), 1);
    assert_eq!(c.failures[0].verdict, Verdict::Disappeared);
    let md = markdown(&c);
    assert!(md.contains("- only in the base: `chat-S-c1`"), "{md}");
    insta::assert_snapshot!("compare_missing_points", md);
}

#[test]
fn different_scenarios_hosts_and_versions_are_named() {
    let c = compare(different_scenarios(), &["throughput=-5%"]);
    assert_eq!(
        c.warnings,
        [
            "different tool versions: nitro-scenario `0.1.0` (base), `0.2.0` (new)",
            "different hosts: CPU `Test CPU | 2 GHz` → `Other CPU`, 2 → 8 cores",
            "different scenario contents: `matrix.concurrency` `[1,8]` → `[1]`; \
             `run.duration` `\"10s\"` → `\"30s\"`; `run.warmup` added (`\"5s\"`); \
             overrides none → `--set run.runs=1`",
        ]
    );
    // One run a side: no noise estimate, so the tolerance alone judges (-10% is past -5%).
    assert_eq!(
        verdict(&c, "chat-S-c1", "throughput"),
        Some(Verdict::NoEstimate)
    );
    assert!(c.failed());
    insta::assert_snapshot!("compare_different_scenarios", markdown(&c));
}

#[test]
fn the_json_has_every_figure_with_base_new_ratio_and_verdict() {
    let c = compare(regression(), &[]);
    let json: serde_json::Value =
        serde_json::from_str(&judge::json(&c).expect("json")).expect("valid json");
    let p99 = &json["points"][0]["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|f| f["figure"] == "latency_p99")
        .expect("latency_p99")
        .clone();
    assert_eq!(p99["base"]["median"], 9.0);
    assert_eq!(p99["new"]["median"], 10.8);
    assert_eq!(p99["base"]["runs"], 5);
    assert!((p99["ratio"].as_f64().unwrap() - 1.2).abs() < 1e-12);
    assert_eq!(p99["verdict"], "worse");
    assert_eq!(p99["rule"], "rank_test");
    assert_eq!(p99["better"], "lower");
    assert_eq!(p99["unit"], "ms");
    // 5 against 5 runs, every new value above every base value: p = 2 / 252.
    assert!((p99["p_value"].as_f64().unwrap() - 2.0 / 252.0).abs() < 1e-12);
    assert_eq!(json["base"]["path"], "main/reports/sample");
    assert_eq!(json["failures"], serde_json::json!([]));
}

#[test]
fn a_user_template_replaces_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(judge::TEMPLATE),
        "{{ tally.worse }} worse{% for r in worse %}; {{ r.point }} {{ r.figure }} {{ r.change }}{% endfor %}",
    )
    .unwrap();
    let templates = Templates::load_for(dir.path(), judge::TEMPLATE).expect("templates");
    let c = compare(within_noise(), &[]);
    assert_eq!(judge::markdown(&c, &templates).unwrap(), "0 worse\n");
    let missing = Templates::load_for(tempfile::tempdir().unwrap().path(), judge::TEMPLATE)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("compare.md.j2: not found"), "{missing}");
}
