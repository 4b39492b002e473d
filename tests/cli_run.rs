//! End to end through the binary: `run` against the built-in mock (a child process), bounded
//! by request counts, into a temporary folder; then `report` re-renders the stored result.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const SECRET: &str = "sk-test-0123456789abcdef";

/// A small scenario: two routes, one payload, two concurrency levels, phases bounded by count.
fn write_scenario(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("tiny.toml");
    let text = r#"
name = "tiny"

[target]
base_url = "mock"
model = "mock-gpt"
headers = { authorization = "Bearer ${env:NITRO_TEST_KEY}" }

[run]
runs = 2
warmup = "10s"
warmup_requests = 5
duration = "30s"
requests = 40

[payloads]
S = { bytes = 1024, fill = "Hello, world! " }

[routes.chat]
path = "/v1/chat/completions"

[routes.stream]
path = "/v1/chat/completions:stream"
stream = true

[matrix]
route = ["chat", "stream"]
payload = ["S"]
concurrency = [1, 4]

[mock.stream]
chunks = 8
"#;
    std::fs::write(&path, text).expect("write scenario");
    path
}

fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read report dir") {
        let path = entry.expect("dir entry").path();
        let bytes = std::fs::read(&path).expect("read report file");
        if String::from_utf8_lossy(&bytes).contains(needle) {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[test]
fn run_against_the_mock_writes_every_report_and_no_secret() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(tmp.path());
    let out = tmp.path().join("out");

    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .args(["run", "--quiet", "--requests-log", "--out"])
        .arg(&out)
        .arg(&scenario)
        .env("NITRO_TEST_KEY", SECRET)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();

    for name in ["report.md", "results.csv", "results.json", "requests.csv"] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("results.json"))
            .expect("results.json is JSON");
    let points = results["points"].as_array().expect("points array");
    assert_eq!(points.len(), 4);
    for point in points {
        let runs = point["runs"].as_array().expect("runs array");
        assert_eq!(runs.len(), 2);
        for run in runs {
            assert_eq!(run["requests"], 40, "measure phase bounded by 40 requests");
            assert_eq!(run["outcomes"]["success"], 40);
        }
    }
    let stream = points
        .iter()
        .find(|p| p["route"] == "stream")
        .expect("a stream point");
    assert_eq!(stream["runs"][0]["stream"]["output_tokens"], 8 * 40);

    // (warmup 5 + measure 40) x 2 runs x 4 points attempts, plus the header line.
    let log = std::fs::read_to_string(out.join("requests.csv")).expect("requests.csv");
    assert_eq!(log.lines().count(), 1 + 45 * 2 * 4);

    assert_eq!(
        files_containing(&out, SECRET),
        Vec::<String>::new(),
        "secret leaked"
    );
}

#[test]
fn report_rerenders_a_stored_result_without_traffic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(tmp.path());
    let out = tmp.path().join("out");
    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .args([
            "run",
            "--quiet",
            "--set",
            "run.runs=1",
            "--set",
            "matrix.concurrency=[2]",
            "--out",
        ])
        .arg(&out)
        .arg(&scenario)
        .env("NITRO_TEST_KEY", SECRET)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    let first = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    std::fs::remove_file(out.join("report.md")).expect("remove report.md");

    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .arg("report")
        .arg(out.join("results.json"))
        .assert()
        .success();
    let second = std::fs::read_to_string(out.join("report.md")).expect("report.md again");
    assert_eq!(first, second);
}

#[test]
fn a_missing_secret_variable_is_a_config_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(tmp.path());
    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .arg("run")
        .arg(&scenario)
        .env_remove("NITRO_TEST_KEY")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("NITRO_TEST_KEY"));
}
