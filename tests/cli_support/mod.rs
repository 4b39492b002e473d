//! The binary as a real child process, for tests that signal it, limit it or watch its
//! files while it runs: start it, wait for a condition (polled, with a deadline), signal it,
//! find its own children and tell whether they still run.

#![allow(dead_code, reason = "each test binary uses part of the support module")]

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The longest any wait here takes before the test fails: far beyond what a bounded run
/// needs, so only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(60);
/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(10);

/// The binary, in `dir`, with stdout and stderr going to `dir/stdout.txt` and
/// `dir/stderr.txt` (a pipe nobody reads could fill and stall it), `RESULTS_FILE` unset.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("nitro-scenario"));
    let out = std::fs::File::create(dir.join("stdout.txt")).expect("stdout file");
    let err = std::fs::File::create(dir.join("stderr.txt")).expect("stderr file");
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RESULTS_FILE")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    cmd
}

/// Start the binary with `args` in `dir` (see [`command`]).
pub fn spawn_run(dir: &Path, args: &[&str]) -> Child {
    command(dir, args).spawn().expect("start nitro-scenario")
}

/// Poll `ready` until it holds; fail the test after [`DEADLINE`].
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(POLL);
    }
}

/// Wait for `child` to exit; kill it and fail the test after [`DEADLINE`].
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nitro-scenario did not exit within {DEADLINE:?}");
        }
        std::thread::sleep(POLL);
    }
}

/// Send `signal` to `pid`.
pub fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a process this test started.
    let sent = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill({pid}, {signal})");
}

/// `/proc/PID/stat` split after the command name (which may hold spaces): state, ppid, ...
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    Some(after_name.split_whitespace().map(String::from).collect())
}

/// The pids whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc") {
        let Some(pid) = entry
            .ok()
            .and_then(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        else {
            continue;
        };
        let ppid = stat_fields(pid).and_then(|f| f.get(1).and_then(|p| p.parse::<u32>().ok()));
        if ppid == Some(parent) {
            children.push(pid);
        }
    }
    children
}

/// Whether `pid` still runs: it exists and is not a zombie waiting to be reaped.
pub fn alive(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|state| state != "Z"))
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("valid json")
}
