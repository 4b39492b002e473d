//! Plain TCP for the transports whose workers own their connection (hyper, lean): the
//! server's addresses, resolved once per run, and opening a connection to them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::metrics::FailureKind;
use crate::runner::RunError;
use crate::runner::cause::Cause;
use crate::runner::exchange::Failed;

/// The server's addresses, in resolver order, and the one that last accepted a connection:
/// a host such as `localhost` may resolve to `::1` first while the server listens on IPv4.
#[derive(Debug)]
pub(crate) struct Addrs {
    all: Vec<SocketAddr>,
    preferred: AtomicUsize,
    /// `target.connect_timeout`, per address tried.
    timeout: Duration,
}

impl Addrs {
    /// Resolve the host of `base` once, for the transport called `transport` (which speaks
    /// plain `http://` only), each connect to take at most `timeout`. `shown` is the base URL
    /// as messages may show it (secrets redacted).
    pub(crate) async fn resolve(
        base: &url::Url,
        shown: &str,
        transport: &str,
        timeout: Duration,
    ) -> Result<Self, RunError> {
        if base.scheme() != "http" {
            return Err(RunError::Transport(format!(
                "the {transport} transport speaks plain http://, not `{}` (`{shown}`); \
                 use `transport = \"reqwest\"`",
                base.scheme()
            )));
        }
        let host = base
            .host_str()
            .ok_or_else(|| RunError::Transport(format!("`{shown}` has no host")))?;
        let port = base.port_or_known_default().unwrap_or(80);
        let all: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map(Iterator::collect)
            .unwrap_or_default();
        if all.is_empty() {
            return Err(RunError::Transport(format!(
                "cannot resolve the host of `{shown}`"
            )));
        }
        Ok(Self {
            all,
            preferred: AtomicUsize::new(0),
            timeout,
        })
    }

    /// Open a connection (`TCP_NODELAY` set): the address that worked last first, then the
    /// others in order, each within the connect timeout. When none accepts, the last address's
    /// error is the cause of a `connect` failure.
    pub(crate) async fn connect(&self) -> Result<TcpStream, Failed> {
        let timeout = self.timeout;
        let preferred = self.preferred.load(Ordering::Relaxed);
        let n = self.all.len();
        let mut cause = Cause::None;
        for i in (0..n).map(|k| (preferred + k) % n) {
            match tokio::time::timeout(timeout, TcpStream::connect(self.all[i])).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    if i != preferred {
                        self.preferred.store(i, Ordering::Relaxed);
                    }
                    return Ok(stream);
                }
                Ok(Err(e)) => cause = Cause::Io(e),
                Err(_) => cause = Cause::Said("`target.connect_timeout` elapsed"),
            }
        }
        Err(Failed::new(FailureKind::Connect, cause))
    }
}
