//! The mock as a child process of the same binary (`mock --port 0 --config-json ...`), so that
//! a run measures the client's own CPU and memory alone. The child prints its address on its
//! first line of stdout; the parent then waits for `/health` before the run starts.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use super::{MockConfig, MockError};

/// How long the child may take to print its address and answer `/health`.
const STARTUP_LIMIT: Duration = Duration::from_secs(10);

/// The line the mock prints before its address.
pub(crate) const LISTENING: &str = "listening on ";

/// The mock running as a child process; killed on drop if not stopped.
#[derive(Debug)]
pub struct MockChild {
    child: Child,
    addr: SocketAddr,
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
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to signal the child when
        // this process dies, so an aborted run leaves no mock behind.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| MockError::Child("no stdout".into()))?;
        let addr = tokio::time::timeout(STARTUP_LIMIT, read_address(stdout))
            .await
            .map_err(|_| MockError::Child("did not print its address in time".into()))??;
        let ready = Self { child, addr };
        tokio::time::timeout(STARTUP_LIMIT, wait_healthy(addr))
            .await
            .map_err(|_| MockError::Child("did not answer /health in time".into()))??;
        Ok(ready)
    }

    /// `http://ADDR/` of the child.
    pub fn base_url(&self) -> Url {
        super::server::base_url(self.addr)
    }

    /// Stop the child (SIGTERM, then kill after a grace period) and reap it.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: plain kill(2) on our own child's pid, which is not reaped yet.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

async fn read_address(stdout: tokio::process::ChildStdout) -> Result<SocketAddr, MockError> {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
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
    let client = reqwest::Client::new();
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
