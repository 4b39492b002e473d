//! The mock's accept loop: one hyper HTTP/1.1 connection task per accepted socket, all
//! sharing one `Shared`, each closed when a request head takes longer than
//! `MockConfig::header_read_timeout`; on shutdown, stops accepting and gives the open
//! connections a short, bounded window to finish the answers they are writing.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

use super::conn::{ConnControl, MockIo};
use super::routes::{self, Shared};
use super::{MockConfig, MockError};
use crate::stop::Stop;

/// How long `shutdown` lets answers in progress go on before dropping their connections.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How long the accept loop pauses after an accept error that retrying at once would repeat
/// (out of file descriptors or memory): without it the loop spins at full CPU.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A mock server running in this process.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Bind `addr` (port 0 picks a free one) and serve in the background on the current runtime.
    pub async fn start(config: MockConfig, addr: SocketAddr) -> Result<Self, MockError> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config)?);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, shared, stopped));
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL to send requests to.
    pub fn base_url(&self) -> Url {
        base_url(self.addr)
    }

    /// Stop accepting connections, and ask every open one to close after the answer it is
    /// writing (idle keep-alive connections close at once). Returns when all are closed, or
    /// after [`SHUTDOWN_GRACE`], when the rest (a long stall, a stream still pacing) are
    /// dropped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for MockServer {
    /// Dropping without `shutdown` aborts the server and every connection at once.
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accept until told to stop, then wind the connections down. The connection tasks live in a
/// `JoinSet` owned here, so aborting this task (dropping the server) aborts them too.
async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let mut http = http1::Builder::new();
    // Without a timer hyper waits for a head forever: a client sending half of one (or
    // nothing) would hold its connection, and its memory, for good.
    http.timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_read_timeout);
    let http = Arc::new(http);
    let closing = Stop::new();
    let mut connections = JoinSet::new();
    let mut warned = false;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // Reap finished connections so the set does not grow over a long run.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = &mut stopped => break,
        };
        let socket = match accepted {
            Ok((socket, _)) => socket,
            Err(e) => {
                if let Some(pause) = accept_backoff(&e) {
                    if !warned {
                        eprintln!("mock server: cannot accept connections ({e}); retrying");
                        warned = true;
                    }
                    tokio::time::sleep(pause).await;
                }
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let control = Arc::new(ConnControl::default());
        let io = TokioIo::new(MockIo::new(socket, Arc::clone(&control)));
        let (shared, http) = (Arc::clone(&shared), Arc::clone(&http));
        // Registered once per connection; polling it on every wake-up costs two atomics.
        let closing = closing.listener();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let (shared, control) = (Arc::clone(&shared), Arc::clone(&control));
                async move { routes::handle(req, &shared, &control).await }
            });
            let connection = http.serve_connection(io, service);
            tokio::pin!(connection);
            // A connection error (a client that went away, a fault) ends only that connection.
            tokio::select! {
                biased;
                _ = connection.as_mut() => {}
                _ = closing.stopped() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    closing.request();
    let drained = async { while connections.join_next().await.is_some() {} };
    // Whatever is still open after the grace is aborted when `connections` drops.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drained).await;
}

/// The pause after an accept error, or `None` when the error concerned one connection only
/// (the client gave up before it was accepted) and the next accept can follow at once.
fn accept_backoff(e: &io::Error) -> Option<Duration> {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => Some(ACCEPT_BACKOFF),
        Some(libc::ECONNABORTED | libc::ECONNRESET | libc::EPROTO | libc::EPERM) => None,
        // Unknown: pausing costs a little latency, spinning costs a core.
        _ => Some(ACCEPT_BACKOFF),
    }
}

/// `http://ADDR/`.
pub(crate) fn base_url(addr: SocketAddr) -> Url {
    Url::parse(&format!("http://{addr}/")).expect("a socket address makes a valid URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_exhaustion_backs_off_and_a_vanished_client_does_not() {
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(accept_backoff(&emfile), Some(ACCEPT_BACKOFF));
        let aborted = io::Error::from_raw_os_error(libc::ECONNABORTED);
        assert_eq!(accept_backoff(&aborted), None);
    }
}
