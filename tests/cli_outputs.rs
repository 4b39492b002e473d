//! Where `run`'s output goes, and what happens when it cannot go there: an unwritable report
//! folder or `RESULTS_FILE` fails before any traffic; a write that fails after the traffic
//! keeps the results (in a temporary folder, else on stdout) and says where; `--quiet` prints
//! nothing but errors; `wrote` lists every file in the order written.
//!
//! Paths that fail for root too (tests may run as root, where permission bits do not stop a
//! write): a path under a regular file, one under `/proc`, and a file size limit.

mod cli_support;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;

use assert_cmd::Command;
use cli_support::{json, wait_exit, wait_until};
use predicates::prelude::*;

/// One point (chat, c=1, one run) of `requests` requests against `base_url`.
fn scenario(base_url: &str, measure: &str) -> String {
    format!(
        r#"
name = "out"

[target]
base_url = "{base_url}"
model = "mock-gpt"

[run]
runs = 1
warmup = "0s"
{measure}

[routes.chat]
path = "/v1/chat/completions"

[matrix]
route = ["chat"]
concurrency = [1]
"#
    )
}

/// `dir/out.toml`: 20 requests against the mock.
fn write_small(dir: &Path) {
    std::fs::write(dir.join("out.toml"), scenario("mock", "requests = 20")).expect("write");
}

fn nitro(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("nitro-scenario").expect("binary");
    cmd.current_dir(dir)
        .env_remove("RESULTS_FILE")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// No line of `stderr` names the same OS error twice.
fn assert_no_repeated_os_error(stderr: &str) {
    for line in stderr.lines() {
        assert!(line.matches("(os error").count() <= 1, "{line}");
    }
}

/// Run in a folder holding a regular file `a_file`, against a listener of our own, with an
/// output that cannot be written: the run fails with `message`, and no connection ever
/// reached the target.
fn fails_before_traffic(out: &str, results_file: Option<&str>, message: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("a_file"), "").expect("write");
    std::fs::create_dir_all(tmp.path().join("taken/results.json")).expect("mkdir");
    let target = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", target.local_addr().expect("addr"));
    std::fs::write(tmp.path().join("out.toml"), scenario(&url, "requests = 20")).expect("write");
    let mut cmd = nitro(tmp.path());
    cmd.args(["run", "--requests-log", "--out", out, "out.toml"]);
    if let Some(file) = results_file {
        cmd.env("RESULTS_FILE", file);
    }
    let assert = cmd
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no traffic was sent"))
        .stderr(predicate::str::contains(message));
    assert_no_repeated_os_error(&String::from_utf8_lossy(&assert.get_output().stderr));
    // A connection attempt would wait in the backlog, accepted or not.
    target.set_nonblocking(true).expect("nonblocking");
    let accepted = target.accept();
    assert!(
        accepted
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "the target was contacted: {accepted:?}"
    );
}

#[test]
fn an_out_folder_under_a_file_fails_before_any_traffic() {
    fails_before_traffic("a_file/sub", None, "a_file/sub: Not a directory");
}

#[test]
fn an_out_folder_under_proc_fails_before_any_traffic() {
    fails_before_traffic(
        "/proc/nitro-scenario-test/out",
        None,
        "/proc/nitro-scenario-test/out",
    );
}

#[test]
fn a_results_file_in_an_unwritable_folder_fails_before_any_traffic() {
    fails_before_traffic(
        "out",
        Some("a_file/run.json"),
        "a_file: a file, not a folder",
    );
    fails_before_traffic(
        "out",
        Some("/proc/nitro-scenario-test/run.json"),
        "/proc/nitro-scenario-test",
    );
}

#[test]
fn a_report_file_name_taken_by_a_folder_fails_before_any_traffic() {
    fails_before_traffic(
        "taken",
        None,
        "taken/results.json: a folder has the name of a report file",
    );
}

#[test]
fn a_file_size_limit_after_the_traffic_keeps_the_results_on_stdout() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 200 requests: the log's rows and results.json outgrow the limit, the probes do not.
    std::fs::write(
        tmp.path().join("out.toml"),
        scenario("mock", "requests = 200"),
    )
    .expect("w");
    std::fs::create_dir(tmp.path().join("tmp")).expect("mkdir");
    let mut std_cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("nitro-scenario"));
    std_cmd
        .args(["run", "--requests-log", "--out", "out", "out.toml"])
        .current_dir(tmp.path())
        .env_remove("RESULTS_FILE")
        .env("TMPDIR", tmp.path().join("tmp"));
    // Every regular file the run writes stops at 2 KiB.
    limit_file_size(&mut std_cmd, 2048);
    let output = Command::from_std(std_cmd)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: the request log is incomplete"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: out/results.json: File too large"),
        "{stderr}"
    );
    assert!(stderr.contains("they follow on stdout"), "{stderr}");
    assert_no_repeated_os_error(&stderr);
    // The summary survived: all of results.json, on stdout.
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(results["points"][0]["runs"][0]["requests"], 200);
    let log = &results["journal"];
    assert_eq!(log["accepted"], 200);
    assert_eq!(
        log["accepted"].as_u64(),
        Some(
            log["written"].as_u64().expect("written")
                + log["lost_after_error"].as_u64().expect("lost")
        ),
        "every accepted record is counted once: {log}"
    );
    assert!(
        log["error"]
            .as_str()
            .is_some_and(|e| e.contains("File too large")),
        "{log}"
    );
    // Nothing half-written is left behind.
    for dir in ["out", "tmp"] {
        for name in walk(&tmp.path().join(dir)) {
            assert!(!name.contains(".tmp"), "left behind: {name}");
        }
    }
}

#[test]
fn a_request_log_lost_to_a_full_disk_fails_the_run_after_the_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // 1,000 requests: the log's rows (about 57 KB) outgrow the limit, the reports do not.
    std::fs::write(
        tmp.path().join("out.toml"),
        scenario("mock", "requests = 1000"),
    )
    .expect("w");
    let mut std_cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("nitro-scenario"));
    std_cmd
        .args(["run", "--requests-log", "--out", "out", "out.toml"])
        .current_dir(tmp.path())
        .env_remove("RESULTS_FILE");
    // As a full disk does to the log alone: past 32 KiB.
    limit_file_size(&mut std_cmd, 32 << 10);
    let output = Command::from_std(std_cmd)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let out = tmp.path().join("out");
    let results = json(&out.join("results.json"));
    let log = &results["journal"];
    assert!(log["lost_after_error"].as_u64().expect("lost") > 0, "{log}");
    // The reports are all written, and the error comes after them, last.
    for file in ["report.md", "results.csv", "chart-chat-latency.svg"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
    let last = stderr.lines().last().expect("a line");
    assert!(
        last.starts_with("error: the request log is incomplete: ")
            && last.contains("File too large")
            && last.ends_with(
                " of 1,000 records were not written (`journal` in results.json counts them)"
            ),
        "{stderr}"
    );
    assert!(!stderr.contains("warning: the request log"), "{stderr}");
    assert!(
        stderr.contains("wrote out/requests.csv (incomplete)\n"),
        "{stderr}"
    );
}

/// The names of every file and folder under `dir`.
fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        if entry.path().is_dir() {
            found.extend(walk(&entry.path()));
        }
        found.push(entry.file_name().to_string_lossy().into_owned());
    }
    found
}

#[test]
fn a_report_folder_lost_during_the_run_sends_the_results_to_a_temporary_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("out.toml"),
        scenario("mock", "duration = \"2s\""),
    )
    .expect("w");
    let temp_root = tmp.path().join("tmp");
    std::fs::create_dir(&temp_root).expect("mkdir");
    let mut cmd = cli_support::command(
        tmp.path(),
        &["run", "--requests-log", "--out", "out", "out.toml"],
    );
    cmd.env("TMPDIR", &temp_root);
    let mut child = cmd.spawn().expect("start");
    // The log exists from before the first request; the measure phase lasts 2 s more. Then
    // the folder goes, and a file takes its name.
    let log = tmp.path().join("out/.requests.csv.tmp");
    wait_until("the request log is created", || log.is_file());
    std::fs::rename(tmp.path().join("out"), tmp.path().join("moved")).expect("move out");
    std::fs::write(tmp.path().join("out"), "not a folder").expect("write");
    let status = wait_exit(&mut child);
    let stderr = std::fs::read_to_string(tmp.path().join("stderr.txt")).expect("stderr");
    assert_eq!(status.code(), Some(2), "{stderr}");
    let rescued = temp_root
        .join(format!("nitro-scenario-out-{}", child.id()))
        .join("results.json");
    assert!(
        stderr.contains(&format!(
            "the results were saved to `{}` instead",
            rescued.display()
        )),
        "{stderr}"
    );
    assert_no_repeated_os_error(&stderr);
    let results = json(&rescued);
    assert_eq!(results["partial"], false);
    let requests = results["points"][0]["runs"][0]["requests"]
        .as_u64()
        .expect("requests");
    assert!(requests > 0);
    // The log could not be renamed into the lost folder: its rows stay in the moved one.
    let rows = std::fs::read_to_string(tmp.path().join("moved/.requests.csv.tmp")).expect("log");
    assert_eq!(
        rows.lines().count() as u64 - 1,
        results["journal"]["written"].as_u64().expect("written")
    );
    assert!(
        !stderr.contains("wrote"),
        "nothing was written where planned: {stderr}"
    );
}

#[test]
fn quiet_prints_nothing_but_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_small(tmp.path());
    nitro(tmp.path())
        .args([
            "run",
            "--quiet",
            "--requests-log",
            "--out",
            "out",
            "out.toml",
        ])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert!(tmp.path().join("out/report.md").is_file());
    // `report` too: its `wrote` lines go, its files are written.
    std::fs::remove_file(tmp.path().join("out/report.md")).expect("rm");
    nitro(tmp.path())
        .args(["report", "--quiet", "out/results.json"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert!(tmp.path().join("out/report.md").is_file());
    nitro(tmp.path())
        .args(["report", "-q", "nowhere.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: cannot read `nowhere.json`",
        ));
    nitro(tmp.path())
        .args(["run", "-q", "--json", "--out", "out", "out.toml"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("{"))
        .stderr("");
}

#[test]
fn wrote_lists_every_file_in_the_order_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_small(tmp.path());
    let assert = nitro(tmp.path())
        .args(["run", "--requests-log", "--out", "out", "out.toml"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr);
    let wrote: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .collect();
    assert_eq!(
        wrote,
        [
            "out/requests.csv",
            "out/results.json",
            "out/results.csv",
            "out/chart-chat-latency.svg",
            "out/chart-chat-throughput.svg",
            "out/report.md",
        ]
    );
    assert!(
        stderr.starts_with("point "),
        "the summary comes first: {stderr}"
    );
    assert!(stderr.contains("\nchat-c1 "), "summary: {stderr}");
}

/// Make every regular file `cmd` writes stop at `bytes` (EFBIG, also for root), as a full disk
/// does; the signal the kernel sends with it would kill the process instead, so it is ignored.
fn limit_file_size(cmd: &mut std::process::Command, bytes: u64) {
    // SAFETY: only setrlimit and signal, both async-signal-safe, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
}
