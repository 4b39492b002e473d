//! The mock as a process: `nitro-scenario mock` prints one address line, exits 0 on SIGINT and
//! SIGTERM (also right after printing), and refuses a bad `--config` with its location (a
//! good one sets, e.g., the header read timeout); as
//! `run`'s child it sits in its own process group, reports a failed start with the child's
//! exit status and stderr, and is found healthy even with a proxy in the environment. Waits
//! are bounded by `LIMIT` only as a safety net: nothing asserts how long anything takes.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use assert_cmd::Command as CliCommand;
use nitro_scenario::mock::{MockChild, MockConfig};
use predicates::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_nitro-scenario");
const LIMIT: Duration = Duration::from_secs(20);

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Start `mock --port 0`, read its first line, optionally ask `/health`, send `signal`; return
/// everything it printed on stdout and how it exited.
async fn serve_then_signal(signal: libc::c_int, ask_health: bool) -> (String, ExitStatus) {
    let mut child = Command::new(BIN)
        .args(["mock", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    tokio::time::timeout(LIMIT, stdout.read_line(&mut printed))
        .await
        .expect("an address line")
        .unwrap();
    if ask_health {
        let base = printed.trim().strip_prefix("listening on ").unwrap();
        let r = client().get(format!("{base}health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    // SAFETY: kill(2) on our own child, not reaped yet.
    unsafe {
        libc::kill(child.id().unwrap() as libc::pid_t, signal);
    }
    let status = tokio::time::timeout(LIMIT, async {
        stdout.read_to_string(&mut printed).await.unwrap();
        child.wait().await.unwrap()
    })
    .await
    .expect("the mock exits");
    (printed, status)
}

fn assert_one_address_line(printed: &str) {
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 1, "{printed:?}");
    let addr = lines[0]
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{printed:?}"));
    assert_ne!(addr.parse::<u16>().unwrap(), 0, "the bound port, not 0");
}

#[tokio::test]
async fn mock_prints_one_address_line_and_exits_0_on_sigint_and_sigterm() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let (printed, status) = serve_then_signal(signal, true).await;
        assert_one_address_line(&printed);
        assert_eq!(status.code(), Some(0), "signal {signal}: {status}");
    }
}

#[tokio::test]
async fn sigterm_right_after_the_address_line_is_a_clean_exit() {
    // The handlers are installed before the line is printed, so there is no window in which
    // SIGTERM's default action (death by signal) applies.
    for _ in 0..10 {
        let (printed, status) = serve_then_signal(libc::SIGTERM, false).await;
        assert_one_address_line(&printed);
        assert_eq!(status.code(), Some(0), "{status}");
    }
}

#[test]
fn a_bad_config_file_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[mock]\nlatency = \"10ms\"\nlatncy = \"5ms\"\n").unwrap();
    CliCommand::cargo_bin("nitro-scenario")
        .unwrap()
        .arg("mock")
        .arg("--config")
        .arg(&file)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("bad.toml:3:"))
        .stderr(predicate::str::contains("`latncy`"));
}

#[test]
fn a_config_file_sets_the_header_read_timeout_and_refuses_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mock.toml");
    std::fs::write(&file, "[mock]\nheader_read_timeout = \"250ms\"\n").unwrap();
    let config = nitro_scenario::scenario::load_mock_config(&file).unwrap();
    assert_eq!(config.header_read_timeout, Duration::from_millis(250));

    std::fs::write(
        &file,
        "[mock]\nlatency = \"1ms\"\nheader_read_timeout = \"0s\"\n",
    )
    .unwrap();
    CliCommand::cargo_bin("nitro-scenario")
        .unwrap()
        .arg("mock")
        .arg("--config")
        .arg(&file)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("mock.toml:3:"))
        .stderr(predicate::str::contains("mock.header_read_timeout"))
        .stderr(predicate::str::contains("must be longer than zero"));
}

#[tokio::test]
async fn the_child_serves_its_config_in_its_own_process_group_and_stops_cleanly() {
    let config = MockConfig {
        completion_tokens: 3,
        ..Default::default()
    };
    let child = MockChild::spawn_with(Path::new(BIN), &config)
        .await
        .unwrap();
    let pid = child.pid().unwrap() as libc::pid_t;
    // SAFETY: getpgid on our own child, not reaped yet.
    assert_eq!(unsafe { libc::getpgid(pid) }, pid, "a group of its own");
    let base = child.base_url().to_string();
    let v: serde_json::Value = client()
        .post(format!("{base}v1/chat/completions"))
        .body(r#"{"messages":[]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["usage"]["completion_tokens"], 3, "the config reached it");
    child.stop().await.expect("a clean exit on SIGTERM");
    assert!(client().get(format!("{base}health")).send().await.is_err());
}

#[tokio::test]
async fn a_child_that_dies_at_start_fails_with_its_status_and_stderr() {
    // `sh mock --port 0 ...` cannot open a script named `mock`: it complains and exits.
    let err = MockChild::spawn_with(Path::new("/bin/sh"), &MockConfig::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("exited with exit status"), "{err}");
    assert!(
        err.contains("its stderr: ") && err.contains("mock"),
        "{err}"
    );
}

#[test]
fn run_finds_its_mock_healthy_with_a_proxy_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proxied.toml");
    let scenario = r#"
name = "proxied"
[target]
base_url = "mock"
[run]
requests = 5
[routes.chat]
path = "/v1/chat/completions"
[matrix]
route = ["chat"]
concurrency = [1]
"#;
    std::fs::write(&file, scenario).unwrap();
    // Nothing listens on port 9: a health check sent through the proxy would never succeed.
    CliCommand::cargo_bin("nitro-scenario")
        .unwrap()
        .arg("run")
        .arg(&file)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("http_proxy", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env_remove("no_proxy")
        .env_remove("NO_PROXY")
        .timeout(LIMIT)
        .assert()
        .success()
        .stderr(predicate::str::contains("mock server child").not());
}
