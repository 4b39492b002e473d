//! End to end through the binary: `run` against the built-in mock (a child process), bounded
//! by request counts, into a temporary folder; then `report` re-renders the stored result.
//! Also: user templates (good, missing, broken before and after the traffic), `RESULTS_FILE`,
//! `report --out`, and no secret in any written file, also when the run fails.

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

/// The binary, run in `dir` (so relative paths land there), with the test key set.
fn nitro(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("nitro-scenario").expect("binary");
    cmd.current_dir(dir)
        .env("NITRO_TEST_KEY", SECRET)
        .env_remove("RESULTS_FILE")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// `run --quiet` of one small point: the chat route at concurrency 1, one run.
const ONE_POINT: [&str; 7] = [
    "run",
    "--quiet",
    "--set",
    "run.runs=1",
    "--set",
    "matrix.route=[\"chat\"]",
    "--set=matrix.concurrency=[1]",
];

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("valid json")
}

#[test]
fn a_user_template_folder_renders_the_report_and_stays_out_of_the_echo() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_scenario(tmp.path());
    std::fs::create_dir_all(tmp.path().join("tpl/parts")).expect("mkdir");
    std::fs::write(
        tmp.path().join("tpl/report.md.j2"),
        "# {{ report.scenario_name }}\n{% include \"parts/points.j2\" %}\n",
    )
    .expect("write template");
    std::fs::write(
        tmp.path().join("tpl/parts/points.j2"),
        "{% for p in points %}- {{ p.id }}\n{% endfor %}",
    )
    .expect("write partial");
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--templates", "tpl", "--out", "out", "tiny.toml"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("out/report.md")).expect("report.md"),
        "# tiny\n- chat-S-c1\n"
    );
    let results = json(&tmp.path().join("out/results.json"));
    assert_eq!(results["scenario"]["source"], "tiny.toml");
    assert_eq!(
        results["scenario"]["output"]["dir"],
        serde_json::Value::Null
    );
    assert_eq!(
        results["scenario"]["output"]["templates"],
        serde_json::Value::Null
    );
}

#[test]
fn a_missing_templates_folder_fails_before_any_traffic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_scenario(tmp.path());
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--templates", "nowhere", "--out", "out", "tiny.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "nowhere: templates folder not found",
        ));
    assert!(
        !tmp.path().join("out").exists(),
        "nothing ran, nothing written"
    );

    std::fs::create_dir(tmp.path().join("empty")).expect("mkdir");
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--templates", "empty", "--out", "out", "tiny.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "empty/report.md.j2: not found; a templates folder needs `report.md.j2`",
        ));
}

#[test]
fn a_broken_template_fails_before_any_traffic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_scenario(tmp.path());
    std::fs::create_dir(tmp.path().join("tpl")).expect("mkdir");
    std::fs::write(tmp.path().join("tpl/report.md.j2"), "# x\n{{ nosuch }}\n").expect("write");
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--templates", "tpl", "--out", "out", "tiny.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tpl/report.md.j2:2: undefined value",
        ));
    assert!(
        !tmp.path().join("out").exists(),
        "nothing ran, nothing written"
    );
}

#[test]
fn a_template_failing_on_the_real_data_still_leaves_the_data() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_scenario(tmp.path());
    std::fs::create_dir(tmp.path().join("tpl")).expect("mkdir");
    // The pre-check's placeholder runs have no requests, so only the real report fails.
    std::fs::write(
        tmp.path().join("tpl/report.md.j2"),
        "{% if points[0].requests > 0 %}{{ nosuch }}{% endif %}",
    )
    .expect("write");
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--templates", "tpl", "--out", "out", "tiny.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`report.md` was not written"));
    let results = json(&tmp.path().join("out/results.json"));
    assert_eq!(results["points"][0]["runs"][0]["requests"], 40);
    assert!(tmp.path().join("out/results.csv").is_file());
    assert!(!tmp.path().join("out/report.md").exists());
}

#[test]
fn results_file_sets_the_json_path_and_report_out_rerenders_elsewhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_scenario(tmp.path());
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--out", "out", "tiny.toml"])
        .env("RESULTS_FILE", "stored/run.json")
        .assert()
        .success();
    assert!(!tmp.path().join("out/results.json").exists());
    let stored = tmp.path().join("stored/run.json");
    let results = json(&stored);
    assert_eq!(
        results["scenario"]["output"]["results_file"],
        "stored/run.json"
    );
    let before = std::fs::read(&stored).expect("stored");

    nitro(tmp.path())
        .args(["report", "stored/run.json", "--out", "again"])
        .assert()
        .success();
    for name in [
        "report.md",
        "results.csv",
        "results.json",
        "chart-chat-latency.svg",
        "chart-chat-throughput.svg",
    ] {
        assert!(tmp.path().join("again").join(name).is_file(), "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("again/report.md")).expect("again"),
        std::fs::read_to_string(tmp.path().join("out/report.md")).expect("out")
    );
    assert_eq!(
        std::fs::read(&stored).expect("stored"),
        before,
        "left alone"
    );
}

#[test]
fn report_uses_the_stored_templates_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scenario = write_scenario(tmp.path());
    let text =
        std::fs::read_to_string(&scenario).expect("read") + "\n[output]\ntemplates = \"tpl\"\n";
    std::fs::write(&scenario, text).expect("write");
    std::fs::create_dir(tmp.path().join("tpl")).expect("mkdir");
    std::fs::write(
        tmp.path().join("tpl/report.md.j2"),
        "first {{ points | length }}",
    )
    .expect("write");
    nitro(tmp.path())
        .args(ONE_POINT)
        .args(["--out", "out", "tiny.toml"])
        .assert()
        .success();
    let results = json(&tmp.path().join("out/results.json"));
    assert_eq!(results["scenario"]["output"]["templates"], "tpl");

    std::fs::write(
        tmp.path().join("tpl/report.md.j2"),
        "second {{ points | length }}",
    )
    .expect("write");
    nitro(tmp.path())
        .args(["report", "out/results.json"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("out/report.md")).expect("report.md"),
        "second 1\n"
    );

    std::fs::remove_dir_all(tmp.path().join("tpl")).expect("rm");
    nitro(tmp.path())
        .args(["report", "out/results.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`output.templates` in `out/results.json`",
        ))
        .stderr(predicate::str::contains("tpl: templates folder not found"));
}

#[test]
fn a_secret_in_the_url_stays_out_of_the_files_of_a_failed_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let host = "supersecret-abc.invalid";
    std::fs::write(
        tmp.path().join("unreachable.toml"),
        r#"
name = "unreachable"

[target]
base_url = "http://${env:NITRO_SECRET_HOST}:9/"
model = "m"

[run]
runs = 1
requests = 5

[routes.chat]
path = "/v1/chat/completions"

[matrix]
route = ["chat"]
concurrency = [1]
"#,
    )
    .expect("write scenario");
    nitro(tmp.path())
        .args(["run", "--quiet", "--out", "out", "unreachable.toml"])
        .env("NITRO_SECRET_HOST", host)
        .assert()
        .code(2);
    let results = json(&tmp.path().join("out/results.json"));
    assert_eq!(results["partial"], true);
    assert!(
        results["interruption"].is_string(),
        "the failure is reported"
    );
    assert_eq!(
        files_containing(&tmp.path().join("out"), host),
        Vec::<String>::new(),
        "secret host leaked"
    );
}
