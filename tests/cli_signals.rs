//! Signals through the binary, as `timeout`, a CI cancel, `docker stop` or a closed terminal
//! send them: SIGTERM and SIGHUP stop a run like Ctrl-C — partial reports written, request log
//! in place, the mock child gone, exit 128 + the signal; a second signal exits at once even
//! while a slow template renders; and a parent killed outright takes the mock child with it.
//!
//! Each run is a real process against the built-in mock, bounded by a measure phase of 30 s
//! that the signal cuts short. Signals are sent once the run has visibly started: its request
//! log holds rows.

mod cli_support;

use std::path::Path;
use std::process::{Child, ExitStatus};

use cli_support::{alive, children_of, json, signal, spawn_run, wait_exit, wait_until};

/// One point (chat, c=1, one run) measured for 30 s unless stopped: the signal comes first.
const LONG_RUN: &str = r#"
name = "long"

[target]
base_url = "mock"
model = "mock-gpt"

[run]
runs = 1
warmup = "0s"
duration = "30s"

[routes.chat]
path = "/v1/chat/completions"

[matrix]
route = ["chat"]
concurrency = [1]

[mock]
latency = "1ms"
"#;

/// Start `run --requests-log` on [`LONG_RUN`] into `dir/out` with `extra` arguments, and wait
/// until its request log holds rows; returns the child and the mock's pid.
fn start_long_run(dir: &Path, extra: &[&str]) -> (Child, u32) {
    std::fs::write(dir.join("long.toml"), LONG_RUN).expect("write scenario");
    let mut args = vec!["run", "--requests-log", "--out", "out", "long.toml"];
    args.extend_from_slice(extra);
    let child = spawn_run(dir, &args);
    let log = dir.join("out/.requests.csv.tmp");
    wait_until("the request log holds rows", || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.lines().count() > 1)
    });
    let mock = children_of(child.id());
    assert_eq!(mock.len(), 1, "one mock child: {mock:?}");
    (child, mock[0])
}

/// After a clean stop by `name`: the partial reports and the request log are in place, every
/// logged row counted, and the mock child reaped before the parent exited.
fn assert_stopped_cleanly(dir: &Path, status: ExitStatus, code: i32, name: &str, mock: u32) {
    let stderr = std::fs::read_to_string(dir.join("stderr.txt")).expect("stderr");
    assert_eq!(status.code(), Some(code), "{stderr}");
    let out = dir.join("out");
    let results = json(&out.join("results.json"));
    assert_eq!(results["partial"], true);
    assert_eq!(results["interruption"], format!("interrupted ({name})"));
    assert!(out.join("report.md").is_file(), "report.md written");
    assert!(!out.join(".requests.csv.tmp").exists(), "log renamed");
    let log = std::fs::read_to_string(out.join("requests.csv")).expect("requests.csv");
    let written = results["journal"]["written"]
        .as_u64()
        .expect("journal.written");
    assert!(written > 0, "rows were logged before the signal");
    assert_eq!(log.lines().count() as u64, 1 + written);
    assert_eq!(results["journal"]["lost_after_error"], 0);
    // The parent reaps the mock before it exits: it is gone, not left to the kernel.
    assert!(!alive(mock), "the mock child outlived the run");
    assert!(
        stderr.contains(&format!("partial run: interrupted ({name})")),
        "{stderr}"
    );
    // The notice names the signal, and says how to quit at once.
    assert!(
        stderr.contains(&format!(
            "stopping on {name}: the current point ends now, what was measured is kept and \
             the report is written, marked partial ({name} again to quit at once)"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("Ctrl-C"), "{stderr}");
}

#[test]
fn sigterm_stops_the_run_like_ctrl_c_and_writes_the_partial_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut child, mock) = start_long_run(tmp.path(), &[]);
    signal(child.id(), libc::SIGTERM);
    let status = wait_exit(&mut child);
    assert_stopped_cleanly(tmp.path(), status, 143, "SIGTERM", mock);
}

#[test]
fn sighup_stops_the_run_like_ctrl_c_and_writes_the_partial_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut child, mock) = start_long_run(tmp.path(), &["--quiet"]);
    signal(child.id(), libc::SIGHUP);
    let status = wait_exit(&mut child);
    // --quiet hides the summary, not the notice that answers the signal.
    let stderr = std::fs::read_to_string(tmp.path().join("stderr.txt")).expect("stderr");
    assert!(!stderr.contains("partial run"), "{stderr}");
    assert!(stderr.starts_with("stopping on SIGHUP: "), "{stderr}");
    assert_eq!(status.code(), Some(129), "{stderr}");
    let results = json(&tmp.path().join("out/results.json"));
    assert_eq!(results["interruption"], "interrupted (SIGHUP)");
    assert!(tmp.path().join("out/requests.csv").is_file());
    assert!(!alive(mock), "the mock child outlived the run");
}

#[test]
fn a_second_signal_exits_at_once_while_a_slow_template_renders() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join("tpl")).expect("mkdir");
    // Seconds of work (about half the template fuel) on the real data only: the check
    // before the traffic sees placeholder points with no requests.
    std::fs::write(
        tmp.path().join("tpl/report.md.j2"),
        "{% if points[0].requests > 0 %}{% for i in range(4000) %}{% for j in range(1200) %}\
         {% endfor %}{% endfor %}{% endif %}done\n",
    )
    .expect("write template");
    let (mut child, mock) = start_long_run(tmp.path(), &["--templates", "tpl"]);
    signal(child.id(), libc::SIGTERM);
    // results.json is written before report.md is rendered.
    let results = tmp.path().join("out/results.json");
    wait_until("results.json is written", || results.is_file());
    signal(child.id(), libc::SIGINT);
    let status = wait_exit(&mut child);
    let stderr = std::fs::read_to_string(tmp.path().join("stderr.txt")).expect("stderr");
    // 130: the second signal's exit. Had the render finished first, it would be 143.
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        !tmp.path().join("out/report.md").exists(),
        "the render was cut short"
    );
    assert_eq!(json(&results)["interruption"], "interrupted (SIGTERM)");
    assert!(!alive(mock), "the mock child outlived the run");
}

#[test]
fn a_parent_killed_outright_takes_the_mock_child_with_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut child, mock) = start_long_run(tmp.path(), &["--quiet"]);
    assert!(alive(mock));
    signal(child.id(), libc::SIGKILL);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), None, "killed, no exit code");
    wait_until("the mock child dies with its parent", || !alive(mock));
}
