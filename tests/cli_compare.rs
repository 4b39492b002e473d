//! `compare`, `run --baseline` and `completions` through the binary: exit codes (0 fine, 3 a
//! tolerance failed, 2 errors), Markdown and `--json` on stdout, warnings on stderr.

mod judge_support;
mod report_support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn nitro(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("nitro-scenario").expect("binary");
    cmd.current_dir(dir)
        .env_remove("RESULTS_FILE")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// The fixture pair stored as two report folders under `dir`: (base, new).
fn stored(
    dir: &Path,
    pair: (
        nitro_scenario::report::RunReport,
        nitro_scenario::report::RunReport,
    ),
) -> (PathBuf, PathBuf) {
    (
        judge_support::store(dir, "base", &pair.0),
        judge_support::store(dir, "new", &pair.1),
    )
}

#[test]
fn a_change_within_noise_exits_0_with_markdown_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, new) = stored(tmp.path(), judge_support::within_noise());
    nitro(tmp.path())
        .args([
            "compare",
            "base",
            "new/results.json",
            "--fail-on",
            "latency_p99=+1%",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("## Comparison: `sample`"))
        .stdout(predicate::str::contains(
            "0 worse, 0 better, 8 within noise",
        ))
        .stdout(predicate::str::contains(
            "| results | `base` | `new/results.json` |",
        ))
        .stderr(predicate::str::is_empty());
    assert!(base.join("results.json").is_file() && new.is_dir());
}

#[test]
fn a_regression_past_a_tolerance_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    stored(tmp.path(), judge_support::regression());
    nitro(tmp.path())
        .args([
            "compare",
            "base",
            "new",
            "--fail-on",
            "latency_p99=+10%,throughput=-5%",
        ])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("❌ **2 past tolerance.**"))
        .stderr(predicate::str::contains(
            "failed: `chat-S-c1` latency_p99 is past `--fail-on latency_p99=+10%`",
        ))
        .stderr(predicate::str::contains(
            "failed: `chat-S-c1` throughput is past `--fail-on throughput=-5%`",
        ));
    // Worse beyond noise but within the tolerances: fine.
    nitro(tmp.path())
        .args(["compare", "base", "new", "--fail-on", "latency_p99=+25%"])
        .arg("--fail-on=throughput=-25%")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("**6 worse**"));
    // No tolerance, no failure: the verdicts inform, tolerances decide.
    nitro(tmp.path())
        .args(["compare", "base", "new"])
        .assert()
        .code(0);
}

#[test]
fn json_on_stdout_and_warnings_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    stored(tmp.path(), judge_support::different_scenarios());
    let out = nitro(tmp.path())
        .args(["compare", "base", "new", "--json"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "warning: different tool versions: nitro-scenario `0.1.0` (base), `0.2.0` (new)",
        ))
        .stderr(predicate::str::contains("warning: different hosts: "))
        .stderr(predicate::str::contains(
            "warning: different scenario contents: `matrix.concurrency` `[1,8]` → `[1]`",
        ))
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).expect("stdout is JSON");
    assert_eq!(json["points"][0]["id"], "chat-S-c1");
    assert_eq!(json["points"][0]["figures"][0]["verdict"], "no_estimate");
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(3));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    stored(tmp.path(), judge_support::within_noise());
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    std::fs::write(tmp.path().join("not-results.json"), "{\"points\": 3}").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["compare", "base", "nowhere"],
            "error: cannot read `nowhere`: No such file",
        ),
        (
            &["compare", "empty", "new"],
            "error: empty: no `results.json` in this folder",
        ),
        (
            &["compare", "base", "not-results.json"],
            "error: not-results.json: not a nitro-scenario results file",
        ),
        (
            &["compare", "base", "new", "--fail-on", "latency_p99=-5%"],
            "error: `--fail-on latency_p99=-5%`: lower `latency_p99` is better, so its \
             tolerance is a rise: `latency_p99=+5%`",
        ),
        (
            &["compare", "base", "new", "--fail-on", "p99=+5%"],
            "error: `--fail-on p99=+5%`: `p99` is not a figure",
        ),
        (
            &["compare", "base", "new", "--templates", "empty"],
            "compare.md.j2: not found; a templates folder needs `compare.md.j2`",
        ),
    ];
    for (args, message) in cases {
        nitro(tmp.path())
            .args(args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn completions_name_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = nitro(tmp.path())
            .args(["completions", shell])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let script = String::from_utf8(out).expect("utf-8");
        assert!(script.contains("nitro-scenario"), "{shell}");
        for sub in [
            "run",
            "plan",
            "validate",
            "mock",
            "report",
            "compare",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell}: `{sub}` missing");
        }
        assert!(script.contains("baseline"), "{shell}: `--baseline` missing");
    }
    nitro(tmp.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
}

/// A one-point scenario against the built-in mock: chat at concurrency 1, one run of 30
/// requests.
fn write_tiny(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(
        &path,
        "name = \"tiny\"\n\
         [target]\nbase_url = \"mock\"\n\
         [run]\nruns = 1\nduration = \"30s\"\nrequests = 30\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n",
    )
    .unwrap();
    path
}

#[test]
fn run_with_a_baseline_adds_the_comparison_to_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny(tmp.path());
    // A bad baseline fails before any traffic: no report folder appears.
    nitro(tmp.path())
        .args([
            "run",
            "tiny.toml",
            "--quiet",
            "--out",
            "nope",
            "--baseline",
            "missing",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: cannot read `missing`: No such file",
        ));
    assert!(!tmp.path().join("nope").exists());
    nitro(tmp.path())
        .args(["run", "tiny.toml", "--quiet", "--out", "first"])
        .assert()
        .code(0);
    // A baseline a thousand times faster than anything the mock serves.
    let mut base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("first/results.json")).unwrap())
            .unwrap();
    for run in base["points"][0]["runs"].as_array_mut().unwrap() {
        let rps = run["throughput_rps"].as_f64().unwrap();
        run["throughput_rps"] = (rps * 1000.0).into();
    }
    std::fs::create_dir(tmp.path().join("fast")).unwrap();
    std::fs::write(
        tmp.path().join("fast/results.json"),
        serde_json::to_string(&base).unwrap(),
    )
    .unwrap();

    nitro(tmp.path())
        .args([
            "run",
            "tiny.toml",
            "--quiet",
            "--out",
            "second",
            "--baseline",
            "first",
        ])
        .assert()
        .code(0);
    let report = std::fs::read_to_string(tmp.path().join("second/report.md")).unwrap();
    assert!(report.contains("## Comparison: `tiny`"), "{report}");
    assert!(
        report.contains("| results | `first` | `second/results.json` |"),
        "{report}"
    );
    // The comparison sits between the summary and the charts.
    let at = |s: &str| report.find(s).unwrap_or_else(|| panic!("{s} in {report}"));
    assert!(at("## Summary") < at("## Comparison") && at("## Comparison") < at("## Charts"));

    nitro(tmp.path())
        .args([
            "run",
            "tiny.toml",
            "--quiet",
            "--out",
            "third",
            "--baseline",
            "fast",
        ])
        .args(["--fail-on", "throughput=-3%"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "failed: `chat-c1` throughput is past `--fail-on throughput=-3%`",
        ));
    let report = std::fs::read_to_string(tmp.path().join("third/report.md")).unwrap();
    assert!(report.contains("1 run: no noise estimate"), "{report}");
    // The report without a baseline has no comparison.
    let first = std::fs::read_to_string(tmp.path().join("first/report.md")).unwrap();
    assert!(!first.contains("## Comparison"));
    // `--fail-on` needs `--baseline`.
    nitro(tmp.path())
        .args(["run", "tiny.toml", "--fail-on", "throughput=-3%"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--baseline"));
}
