//! The open-file limit through the binary, run under a lowered `RLIMIT_NOFILE` (set between
//! fork and exec, never in the test process): a point whose connections cannot fit is refused
//! before any traffic, with the numbers; a soft limit below the hard one is raised, and a run
//! that needs more than the soft limit succeeds.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use nitro_scenario::mock::{MockConfig, MockServer};

/// `nitro-scenario run FILE` into `out` with the open-file limit set to `soft`/`hard`.
fn run_limited(file: &Path, out: &Path, soft: u64, hard: u64) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nitro-scenario"));
    command
        .arg("run")
        .arg(file)
        .arg("--quiet")
        .arg("--out")
        .arg(out);
    // SAFETY: between fork and exec only setrlimit (async-signal-safe) and no allocation.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.output().unwrap()
}

/// A scenario of `GET /v1/chat/completions` against `base` at each of `concurrency`.
fn write_scenario(dir: &Path, base: &str, concurrency: &str) -> std::path::PathBuf {
    let file = dir.join("s.toml");
    let text = format!(
        "[target]\nbase_url = \"{base}\"\n[run]\nrequests = 400\n\
         [routes.r]\npath = \"/v1/chat/completions\"\n\
         [matrix]\nroute = [\"r\"]\nconcurrency = [{concurrency}]\n"
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// The process's hard open-file limit.
fn hard_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit.rlim_max
}

#[test]
fn a_point_that_cannot_fit_is_refused_before_any_traffic() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), &base, "8, 200");
    let output = run_limited(&file, &dir.path().join("out"), 64, 64);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let message = stderr
        .lines()
        .find(|l| l.contains("file descriptors"))
        .unwrap_or_else(|| panic!("no limit message: {stderr}"));
    let (before, after) = message
        .split_once(" needs about ")
        .unwrap_or_else(|| panic!("{message}"));
    assert!(before.ends_with("point `r-c200`"), "{message}");
    let needed: u64 = after.split(' ').next().unwrap().parse().unwrap();
    assert!((232..300).contains(&needed), "{message}");
    assert!(
        after.ends_with(
            " file descriptors; this process may open 64 (hard limit); \
             raise it with `ulimit -n` or lower the concurrency"
        ),
        "{message}"
    );
    // Not even the first point's workers connected.
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_limit_below_the_hard_one_is_raised() {
    let hard = hard_limit().min(4096);
    assert!(
        hard >= 512,
        "the test needs a hard limit of 512 or more, not {hard}"
    );
    let server = MockServer::start(MockConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), server.base_url().as_str(), "200");
    let out = dir.path().join("out");
    // 200 connections: three times the soft limit, well within the hard one.
    let output = tokio::task::spawn_blocking({
        let out = out.clone();
        move || run_limited(&file, &out, 64, hard)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let run = &results["points"][0]["runs"][0];
    assert_eq!(run["requests"], 400, "{run}");
    assert_eq!(run["outcomes"]["success"], 400, "{}", run["outcomes"]);
}
