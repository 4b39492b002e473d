//! `[thresholds]` end to end through the binary, against the built-in mock, phases bounded by
//! request counts: thresholds that pass exit 0, one that fails exits 3 with every report
//! written, `abort_on_fail` ends the run after the first failing point (partial, exit 3),
//! and `report` renders the stored thresholds again. Bounds are on counts and success rates
//! the mock fixes (its `:error` route always answers 500), never on times.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// A scenario of the chat and error routes at concurrency 1 and 2, 20 requests a run, with
/// `thresholds` appended.
fn write_scenario(dir: &Path, thresholds: &str) -> PathBuf {
    let path = dir.join("judged.toml");
    let text = format!(
        r#"
name = "judged"

[target]
base_url = "mock"

[run]
duration = "30s"
requests = 20

[routes.error]
path = "/v1/chat/completions:error"

[routes.chat]
path = "/v1/chat/completions"

[matrix]
route = ["error", "chat"]
concurrency = [1, 2]

{thresholds}
"#
    );
    std::fs::write(&path, text).expect("write scenario");
    path
}

fn run(dir: &Path, scenario: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .current_dir(dir)
        .env_remove("RESULTS_FILE")
        .args(["run", "--out", "out"])
        .arg(scenario)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
}

fn results(dir: &Path) -> serde_json::Value {
    let bytes = std::fs::read(dir.join("out/results.json")).expect("results.json");
    serde_json::from_slice(&bytes).expect("results.json is JSON")
}

#[test]
fn thresholds_that_hold_exit_0_and_are_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(
        tmp.path(),
        r#"
[thresholds]
requests = "== 20"

[thresholds.route.chat]
success_rate = ">= 99.5%"
errors = "== 0"

[[thresholds.when]]
match = { route = "error", concurrency = [1, 2] }
errors_5xx = ">= 100%"
errors_500 = "== 20"
"#,
    );
    run(tmp.path(), &scenario)
        .success()
        .stderr(predicate::str::contains(
            "thresholds: 12 passed, 0 failed, 0 not applicable",
        ))
        .stderr(predicate::str::contains("threshold failed").not());
    let stored = &results(tmp.path())["thresholds"];
    assert_eq!(
        (&stored["passed"], &stored["failed"]),
        (&12.into(), &0.into())
    );
    let first = &stored["thresholds"][0];
    assert_eq!(first["figure"], "requests");
    assert_eq!(first["bound"], "== 20");
    assert_eq!(first["checks"].as_array().map(Vec::len), Some(4));
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).expect("report.md");
    assert!(
        report.contains("✅ **No threshold failed**: 12 passed"),
        "{report}"
    );
    assert!(
        report.contains("| `error-c2` | `errors_500 == 20` | route = error, concurrency = 1 or 2 | 20 | 0 (0.0%) | pass |"),
        "{report}"
    );
}

#[test]
fn a_failed_threshold_exits_3_after_every_report_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(
        tmp.path(),
        "[thresholds]\nsuccess_rate = \">= 99%\"\nrequests = \"== 20\"\n",
    );
    run(tmp.path(), &scenario)
        .code(3)
        .stderr(predicate::str::contains(
            "threshold failed: `error-c1`: success_rate >= 99% (all points): 0.00%, 99.00% past",
        ))
        .stderr(predicate::str::contains("threshold failed: `error-c2`"))
        .stderr(predicate::str::contains("threshold failed: `chat").not());
    for name in ["report.md", "results.csv", "results.json"] {
        assert!(
            tmp.path().join("out").join(name).is_file(),
            "{name} missing"
        );
    }
    let r = results(tmp.path());
    assert_eq!(r["partial"], false, "every point ran");
    assert_eq!(r["points"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        (&r["thresholds"]["passed"], &r["thresholds"]["failed"]),
        (&6.into(), &2.into())
    );

    // `report` renders the stored thresholds again, without judging anything anew.
    let out = tmp.path().join("out");
    let first = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(first.contains("❌ **2 of 8 checks failed**"), "{first}");
    std::fs::remove_file(out.join("report.md")).expect("remove report.md");
    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .arg("report")
        .arg(out.join("results.json"))
        .assert()
        .success();
    let again = std::fs::read_to_string(out.join("report.md")).expect("report.md again");
    assert_eq!(first, again);
}

#[test]
fn abort_on_fail_ends_the_run_at_the_first_failing_point() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(
        tmp.path(),
        "[thresholds]\nabort_on_fail = true\nsuccess_rate = \">= 99%\"\n",
    );
    run(tmp.path(), &scenario)
        .code(3)
        .stderr(predicate::str::contains(
            "stopping after this point: point `error-c1` failed the threshold \
             `success_rate >= 99%` (`abort_on_fail`)",
        ));
    let r = results(tmp.path());
    let ids: Vec<&str> = r["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, ["error-c1"], "no point ran after the failing one");
    assert_eq!(r["partial"], true);
    assert_eq!(
        r["interruption"],
        "point `error-c1` failed the threshold `success_rate >= 99%` (`abort_on_fail`)"
    );
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).expect("report.md");
    assert!(
        report.contains("> **Partial run:** point `error-c1` failed the threshold"),
        "{report}"
    );
}
