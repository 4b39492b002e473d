//! The mock as a child process of the same binary (`mock --port 0 --config-json ...`), so that
//! a run measures the client's own CPU and memory alone. The child prints its address on its
//! first line of stdout; the parent then waits for `/health` before the run starts. A child
//! that dies on the way fails the start at once, with its exit status and what it wrote to
//! stderr; once ready, its stderr passes through to the parent's. It is stopped gracefully
//! after a finished run, killed at once after a stopped one, and killed by the kernel if the
//! parent dies first.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use super::{MockConfig, MockError, SHUTDOWN_GRACE};

/// How long the child may take to print its address and answer `/health`.
const STARTUP_LIMIT: Duration = Duration::from_secs(10);
/// How long the child may take to exit after SIGTERM: its shutdown grace and some slack.
const STOP_LIMIT: Duration = Duration::from_secs(SHUTDOWN_GRACE.as_secs() + 2);
/// How much of the child's stderr a failed start quotes.
const STDERR_KEPT: usize = 4096;

/// The line the mock prints before its address.
pub(crate) const LISTENING: &str = "listening on ";

/// The mock running as a child process; killed on drop if not stopped.
#[derive(Debug)]
pub struct MockChild {
    child: Child,
    addr: SocketAddr,
    /// The task passing the child's stderr through; ends when the child does.
    stderr: JoinHandle<String>,
}

/// Why a start failed.
enum Startup {
    /// The child exited first.
    Exited(ExitStatus),
    /// Anything else.
    Failed(MockError),
}

impl From<io::Error> for Startup {
    fn from(e: io::Error) -> Self {
        Self::Failed(e.into())
    }
}

impl MockChild {
    /// Start the child from this executable with `config`.
    pub async fn spawn(config: &MockConfig) -> Result<Self, MockError> {
        let exe = std::env::current_exe()?;
        Self::spawn_with(&exe, config).await
    }

    /// Start the child from `exe` (a `nitro-scenario` binary) with `config`, read its address,
    /// wait until `/health` answers.
    pub async fn spawn_with(exe: &Path, config: &MockConfig) -> Result<Self, MockError> {
        let json = serde_json::to_string(config).map_err(|e| MockError::Child(e.to_string()))?;
        let mut command = Command::new(exe);
        command
            .args(["mock", "--port", "0", "--config-json", &json])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec only async-signal-safe calls (setpgid, prctl, getppid)
        // and no allocation: errors are built from errno values.
        unsafe {
            command.pre_exec(move || {
                // Its own process group: a Ctrl-C at the terminal signals the foreground group,
                // that is `run`, which then writes its partial report and stops the mock
                // itself. Were the mock signalled too, the requests still in flight would fail
                // with connect errors and fill that report.
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // Die with the parent even when it is killed outright (SIGKILL): nobody is
                // left to read its answers, so it need not finish them. The kernel sends this
                // when the *thread* that forked exits, not the process: `spawn` must run on a
                // thread that lives as long as the process (`run` awaits it in `block_on`, on
                // the main thread; not a `spawn_blocking` thread, which ends after idling).
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // A parent that died before prctl will never send the signal: stop here.
                if libc::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(MockError::Child("no stdout or stderr pipe".into()));
        };
        let (ready, ready_rx) = oneshot::channel();
        let stderr = tokio::spawn(relay_stderr(stderr, ready_rx));
        match tokio::time::timeout(STARTUP_LIMIT, await_ready(&mut child, stdout)).await {
            Ok(Ok(addr)) => {
                let _ = ready.send(());
                Ok(Self {
                    child,
                    addr,
                    stderr,
                })
            }
            failed => {
                drop(ready);
                let reason = match failed {
                    Ok(Err(Startup::Exited(status))) => {
                        format!("exited with {status} before it was ready")
                    }
                    Ok(Err(Startup::Failed(e))) => e.to_string(),
                    _ => format!("not ready within {} s", STARTUP_LIMIT.as_secs()),
                };
                // A no-op if it already exited; either way its stderr then closes.
                let _ = child.kill().await;
                let said = collect(stderr).await;
                Err(MockError::Child(with_stderr(reason, &said)))
            }
        }
    }

    /// `http://ADDR/` of the child.
    pub fn base_url(&self) -> Url {
        super::server::base_url(self.addr)
    }

    /// The child's process id (`None` once it has been reaped).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stop the child (SIGTERM, then kill after [`STOP_LIMIT`]) and reap it. An error says the
    /// child did not end cleanly: it died before it was asked to stop, exited with a failure,
    /// or had to be killed.
    pub async fn stop(mut self) -> Result<(), MockError> {
        let early = self.child.try_wait()?;
        if let (None, Some(pid)) = (early, self.child.id()) {
            // SAFETY: plain kill(2) on our own child's pid, which is not reaped yet.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        let problem = match early {
            Some(status) => Some(format!("exited with {status} during the run")),
            None => match tokio::time::timeout(STOP_LIMIT, self.child.wait()).await {
                Ok(status) => {
                    let status = status?;
                    (!status.success()).then(|| format!("exited with {status} when stopped"))
                }
                Err(_) => {
                    let _ = self.child.kill().await;
                    Some(format!(
                        "did not stop within {} s of SIGTERM; killed",
                        STOP_LIMIT.as_secs()
                    ))
                }
            },
        };
        // Its last words reach our stderr before whatever the caller prints next.
        collect(self.stderr).await;
        problem.map_or(Ok(()), |p| Err(MockError::Child(p)))
    }

    /// Kill the child at once (SIGKILL) and reap it: for a run that was stopped, whose
    /// answers in progress nobody waits for. An error says it had died before.
    pub async fn kill(mut self) -> Result<(), MockError> {
        let early = self.child.try_wait()?;
        if early.is_none() {
            self.child.kill().await?;
        }
        collect(self.stderr).await;
        early.map_or(Ok(()), |status| {
            Err(MockError::Child(format!(
                "exited with {status} during the run"
            )))
        })
    }
}

/// Wait for the address line, then for `/health`, whichever comes first of that and the
/// child's exit.
async fn await_ready(child: &mut Child, stdout: ChildStdout) -> Result<SocketAddr, Startup> {
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    let read = tokio::select! {
        read = stdout.read_line(&mut line) => read?,
        status = child.wait() => return Err(Startup::Exited(status?)),
    };
    if read == 0 {
        // stdout closed without an address: the child is on its way out.
        return Err(Startup::Exited(child.wait().await?));
    }
    let addr = parse_address(&line).map_err(Startup::Failed)?;
    tokio::select! {
        healthy = wait_healthy(addr) => healthy.map_err(Startup::Failed)?,
        status = child.wait() => return Err(Startup::Exited(status?)),
    }
    Ok(addr)
}

fn parse_address(line: &str) -> Result<SocketAddr, MockError> {
    let text = line
        .trim()
        .strip_prefix(LISTENING)
        .and_then(|u| u.strip_prefix("http://"));
    text.and_then(|a| a.trim_end_matches('/').parse().ok())
        .ok_or_else(|| MockError::Child(format!("unexpected first line `{}`", line.trim())))
}

/// Poll `/health` until it answers 200. The child already listens once it printed its
/// address, so this normally succeeds at the first try.
async fn wait_healthy(addr: SocketAddr) -> Result<(), MockError> {
    // No proxy: with `http_proxy` set, reqwest would send even 127.0.0.1 through it.
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| MockError::Child(format!("cannot build the health client: {e}")))?;
    let url = format!("http://{addr}/health");
    let mut backoff = Duration::from_millis(5);
    loop {
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            _ => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(200));
            }
        }
    }
}

/// The child's stderr: kept (the first [`STDERR_KEPT`] bytes) until `ready` fires, so that a
/// failed start can quote it; then what was kept and everything after passes through to ours.
/// Returns what was kept if the start failed.
async fn relay_stderr(mut from: ChildStderr, mut ready: oneshot::Receiver<()>) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    let mut ours = tokio::io::stderr();
    let (mut waiting, mut passing) = (true, false);
    loop {
        tokio::select! {
            started = &mut ready, if waiting => {
                waiting = false;
                if started.is_ok() {
                    passing = true;
                    let _ = ours.write_all(&kept).await;
                    kept.clear();
                }
            }
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) if passing => {
                    let _ = ours.write_all(&buf[..n]).await;
                }
                Ok(n) => {
                    let room = STDERR_KEPT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            },
        }
    }
    let _ = ours.flush().await;
    String::from_utf8_lossy(&kept).trim().to_string()
}

/// Wait (bounded: the child is gone or going) for the stderr relay to finish.
async fn collect(relay: JoinHandle<String>) -> String {
    match tokio::time::timeout(Duration::from_secs(1), relay).await {
        Ok(Ok(said)) => said,
        _ => String::new(),
    }
}

fn with_stderr(reason: String, said: &str) -> String {
    if said.is_empty() {
        reason
    } else {
        format!("{reason}; its stderr: {said}")
    }
}
