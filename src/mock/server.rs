//! The mock's accept loop: one hyper HTTP/1.1 connection task per accepted socket, all
//! sharing one `Shared`; stops accepting when told to.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use super::routes::{self, Shared};
use super::{MockConfig, MockError};

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
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = &mut stopped => return,
                };
                let Ok((socket, _)) = accepted else { continue };
                let _ = socket.set_nodelay(true);
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let fd = socket.as_raw_fd();
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { routes::handle(req, &shared, fd).await }
                    });
                    // A connection error (a client that went away, a reset fault) ends only
                    // that connection.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
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

    /// Stop accepting connections; connections in progress finish on their own.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `http://ADDR/`.
pub(crate) fn base_url(addr: SocketAddr) -> Url {
    Url::parse(&format!("http://{addr}/")).expect("a socket address makes a valid URL")
}
