//! One run of one point by an external client, start to end: write its input files, spawn
//! it, read its output while it runs, stop its process group on timeout or stop, sweep up
//! what it left behind, then read its figures. Every way a client can go wrong ends in an
//! [`ExternalRun`], never in an error or a hang.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use super::figures::FiguresError;
use super::files::RunFiles;
use super::memory::trusted_max_rss;
use super::output::Drain;
use super::process::{self, Reaped, group_running, own_cpu, signal_group};
use super::reading::read_figures;
use super::spec::{ClientPoint, ClientSpec, Launch, Vars};
use super::{ExternalRun, Outcome, ResourceUse};
use crate::stop::Stop;

/// From SIGTERM to SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long a client killed with SIGKILL may take to be reaped before we give up on it.
const REAP_LIMIT: Duration = Duration::from_secs(5);
/// How long stdout and stderr may stay open after the client's group is gone (a process
/// that left the group may hold them).
const DRAIN_LIMIT: Duration = Duration::from_secs(1);
/// Between two checks for leftover processes.
const SWEEP_EVERY: Duration = Duration::from_millis(10);

/// Why a client was stopped before it exited.
#[derive(Debug, Clone, Copy)]
enum Cut {
    TimedOut(Duration),
    Stopped,
}

/// Run `spec` once for `point`. Stops the client's whole process group when the run takes
/// longer than [`ClientSpec::time_limit`] or `stop` is raised; dropping the returned future
/// kills the group too.
pub async fn run_client(spec: &ClientSpec, point: &ClientPoint, stop: &Stop) -> ExternalRun {
    let not_run = |outcome| not_run(spec, outcome);
    if stop.is_requested() {
        return not_run(Outcome::Stopped);
    }
    let (files, launch) = match prepare(spec, point).await {
        Ok(prepared) => prepared,
        Err(outcome) => return not_run(outcome),
    };
    let program = launch.program.clone();
    let cpu_at_start = own_cpu();
    let started = match process::start(launch).await {
        Ok(started) => started,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return not_run(Outcome::Skipped {
                reason: missing(&program),
            });
        }
        Err(e) => {
            let reason = format!("cannot start `{}`: {e}", program.display());
            return not_run(failed(reason));
        }
    };
    let guard = KillOnDrop(Some(started.pgid));
    let (out, err) = match drains(started.stdout, started.stderr) {
        Ok(drains) => drains,
        Err(e) => return not_run(failed(format!("cannot read the client's output: {e}"))),
    };
    let limit = spec.time_limit(point);
    let mut exit = started.exit;
    let (reaped, cut) = tokio::select! {
        reaped = &mut exit => (reaped.ok(), None),
        () = tokio::time::sleep(limit) => (None, Some(Cut::TimedOut(limit))),
        () = stop.requested() => (None, Some(Cut::Stopped)),
    };
    let reaped = match cut {
        Some(_) => terminate(started.pgid, exit).await,
        None => reaped,
    };
    let stopped_leftovers = match cut {
        // The whole group is killed already: only wait for it to be gone.
        Some(_) => {
            wait_gone(started.pgid, REAP_LIMIT).await;
            false
        }
        None => sweep(started.pgid).await,
    };
    guard.disarm();
    let stdout = out.finish(DRAIN_LIMIT).await;
    let stderr = err.finish(DRAIN_LIMIT).await;
    let parent_cpu_secs = own_cpu().saturating_sub(cpu_at_start).as_secs_f64();
    let outcome = match cut {
        Some(Cut::TimedOut(limit)) => Outcome::TimedOut {
            limit_secs: limit.as_secs_f64(),
        },
        Some(Cut::Stopped) => Outcome::Stopped,
        None => judge(reaped.as_ref(), files, stdout.text()).await,
    };
    let wall = reaped.map_or_else(
        || started.at.elapsed(),
        |r| r.at.saturating_duration_since(started.at),
    );
    ExternalRun {
        client: spec.name.clone(),
        lang: label(spec, &outcome),
        outcome,
        wall_secs: wall.as_secs_f64(),
        exit: reaped.and_then(|r| r.exit),
        resources: reaped.and_then(|r| resources(&r)),
        parent_cpu_secs,
        stdout_bytes: stdout.total(),
        stderr_bytes: stderr.total(),
        stderr_tail: stderr.text(),
        stopped_leftovers,
    }
}

/// The run's files and command line, or why there are none.
async fn prepare(spec: &ClientSpec, point: &ClientPoint) -> Result<(RunFiles, Launch), Outcome> {
    let payload = point.payload.clone();
    let headers = point.headers.clone();
    let files = tokio::task::spawn_blocking(move || RunFiles::create(&payload, &headers))
        .await
        .map_err(io::Error::other)
        .and_then(|made| made)
        .map_err(|e| failed(format!("cannot write the client's files: {e}")))?;
    let launch = spec
        .launch(&Vars::new(point, files.paths()))
        .map_err(|e| failed(e.to_string()))?;
    if !launch.cwd.is_dir() {
        let cwd = launch.cwd.display();
        return Err(failed(format!("working directory `{cwd}` does not exist")));
    }
    Ok((files, launch))
}

/// The report label: the spec's, else the one the client reported, else the client's name.
fn label(spec: &ClientSpec, outcome: &Outcome) -> String {
    let reported = match outcome {
        Outcome::Completed { figures, .. } => Some(&figures.lang),
        _ => None,
    };
    spec.lang
        .as_ref()
        .or(reported)
        .unwrap_or(&spec.name)
        .clone()
}

/// The outcome of a client that exited on its own.
async fn judge(reaped: Option<&Reaped>, files: RunFiles, stdout: String) -> Outcome {
    let Some(exit) = reaped.and_then(|r| r.exit) else {
        return failed("the client could not be reaped: its exit status is unknown".into());
    };
    if !exit.success() {
        return failed(format!("the client {exit}"));
    }
    let read = tokio::task::spawn_blocking(move || {
        let read = read_figures(files.results(), &stdout);
        drop(files);
        read
    })
    .await;
    match read {
        Ok(Ok((figures, source))) => Outcome::Completed {
            figures: Box::new(figures),
            source,
        },
        Ok(Err(e)) => failed(e.to_string()),
        Err(e) => failed(
            FiguresError::Unreadable {
                origin: "RESULTS_FILE".into(),
                message: e.to_string(),
            }
            .to_string(),
        ),
    }
}

fn failed(reason: String) -> Outcome {
    Outcome::Failed { reason }
}

/// A run that started no process.
fn not_run(spec: &ClientSpec, outcome: Outcome) -> ExternalRun {
    ExternalRun {
        client: spec.name.clone(),
        lang: label(spec, &outcome),
        outcome,
        wall_secs: 0.0,
        exit: None,
        resources: None,
        parent_cpu_secs: 0.0,
        stdout_bytes: 0,
        stderr_bytes: 0,
        stderr_tail: String::new(),
        stopped_leftovers: false,
    }
}

/// What a missing program means: the program itself, or the interpreter its script names.
fn missing(program: &Path) -> String {
    let shown = program.display();
    if program.is_file() {
        format!("the interpreter named on the first line of `{shown}` was not found")
    } else {
        format!("`{shown}` not found")
    }
}

fn drains(stdout: impl Into<OwnedFd>, stderr: impl Into<OwnedFd>) -> io::Result<(Drain, Drain)> {
    Ok((Drain::start(stdout.into())?, Drain::start(stderr.into())?))
}

/// Stop a running client's group: SIGTERM, SIGKILL after [`KILL_GRACE`], then wait for the
/// watcher to reap it (bounded).
async fn terminate(
    pgid: libc::pid_t,
    mut exit: tokio::sync::oneshot::Receiver<Reaped>,
) -> Option<Reaped> {
    signal_group(pgid, libc::SIGTERM);
    let reaped = match tokio::time::timeout(KILL_GRACE, &mut exit).await {
        Ok(reaped) => reaped.ok(),
        Err(_) => {
            signal_group(pgid, libc::SIGKILL);
            tokio::time::timeout(REAP_LIMIT, exit).await.ok()?.ok()
        }
    };
    // Whatever of the group outlived the leader got its SIGTERM already.
    signal_group(pgid, libc::SIGKILL);
    reaped
}

/// Stop what is left of the client's group after it exited: SIGTERM, then SIGKILL after
/// [`KILL_GRACE`]. True if anything was left.
async fn sweep(pgid: libc::pid_t) -> bool {
    if !group_running(pgid) {
        return false;
    }
    signal_group(pgid, libc::SIGTERM);
    if !wait_gone(pgid, KILL_GRACE).await {
        signal_group(pgid, libc::SIGKILL);
        wait_gone(pgid, REAP_LIMIT).await;
    }
    true
}

/// Wait up to `limit` for group `pgid` to stop running; true if it did. Polls: a group's end
/// has no event to wait on.
async fn wait_gone(pgid: libc::pid_t, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !group_running(pgid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

fn resources(r: &Reaped) -> Option<ResourceUse> {
    let usage = r.usage?;
    let kernel = trusted_max_rss(usage.max_rss_bytes, r.spawner_hwm_bytes);
    let peak = r
        .tree
        .sum_bytes
        .max(r.tree.process_hwm_bytes)
        .max(kernel.unwrap_or(0));
    let cpu = usage.user + usage.system;
    Some(ResourceUse {
        user_cpu_secs: usage.user.as_secs_f64(),
        system_cpu_secs: usage.system.as_secs_f64(),
        cpu_secs: cpu.as_secs_f64(),
        peak_rss_bytes: peak,
        sampled_tree_rss_bytes: r.tree.sum_bytes,
        process_hwm_bytes: r.tree.process_hwm_bytes,
        kernel_max_rss_bytes: kernel,
        rss_samples: r.tree.samples,
    })
}

/// Kills a client's group if the run is abandoned (its future dropped) before the end.
struct KillOnDrop(Option<libc::pid_t>);

impl KillOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_and_a_missing_interpreter_read_differently() {
        assert_eq!(missing(Path::new("node")), "`node` not found");
        let script = tempfile::NamedTempFile::new().unwrap();
        let text = missing(script.path());
        assert!(
            text.starts_with("the interpreter named on the first line of `"),
            "{text}"
        );
    }
}
