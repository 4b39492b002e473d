//! The fast path for plain `http://`: each worker owns one `hyper` HTTP/1.1 connection
//! (`client::conn::http1`), reconnecting when the server closes it. No pool, no lock, no
//! per-request URL parsing: the wrk-class way to drive a server from few cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::RunError;
use crate::runner::exchange::Exchange;
use crate::scenario::Target;

/// Makes connection-owning transports for one server.
pub(crate) struct HyperConnector {
    addrs: Arc<Addrs>,
    connect_timeout: Duration,
}

/// The server's addresses, in resolver order, and the one that last accepted a connection:
/// a host such as `localhost` may resolve to `::1` first while the server listens on IPv4.
struct Addrs {
    all: Vec<SocketAddr>,
    preferred: AtomicUsize,
}

impl HyperConnector {
    /// Resolve the base URL's host once. `shown` is the base URL as messages may show it
    /// (secrets redacted).
    pub(crate) async fn new(
        base: &url::Url,
        shown: &str,
        target: &Target,
    ) -> Result<Self, RunError> {
        if base.scheme() != "http" {
            return Err(RunError::Transport(format!(
                "the hyper transport speaks plain http://, not `{}` (`{shown}`); \
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
            addrs: Arc::new(Addrs {
                all,
                preferred: AtomicUsize::new(0),
            }),
            connect_timeout: target.connect_timeout,
        })
    }
}

impl Connector for HyperConnector {
    type Transport = HyperTransport;

    fn transport(&self) -> HyperTransport {
        HyperTransport {
            addrs: Arc::clone(&self.addrs),
            connect_timeout: self.connect_timeout,
            sender: None,
        }
    }
}

/// One worker's connection.
pub(crate) struct HyperTransport {
    addrs: Arc<Addrs>,
    connect_timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HyperTransport {
    /// Open a connection: the address that worked last first, then the others in order.
    async fn connect(&mut self) -> Result<(), FailureKind> {
        let preferred = self.addrs.preferred.load(Ordering::Relaxed);
        let n = self.addrs.all.len();
        for i in (0..n).map(|k| (preferred + k) % n) {
            let attempt =
                tokio::time::timeout(self.connect_timeout, TcpStream::connect(self.addrs.all[i]));
            let Ok(Ok(stream)) = attempt.await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let Ok((sender, connection)) = http1::handshake(TokioIo::new(stream)).await else {
                continue;
            };
            // The connection task ends when the server closes or the sender is dropped.
            tokio::spawn(connection);
            self.sender = Some(sender);
            if i != preferred {
                self.addrs.preferred.store(i, Ordering::Relaxed);
            }
            return Ok(());
        }
        Err(FailureKind::Connect)
    }

    /// Send `req` on the worker's connection, (re)connecting as needed. A request the server
    /// refused unread on a reused keep-alive connection (it closed it as we sent) is sent once
    /// more on a fresh one, as connection pools do: the server never saw it.
    async fn send_request(
        &mut self,
        req: &Prepared,
    ) -> Result<http::Response<hyper::body::Incoming>, FailureKind> {
        let mut reused = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        loop {
            if !reused {
                self.connect().await?;
            }
            let sender = self.sender.as_mut().ok_or(FailureKind::Connect)?;
            match sender.send_request(request(req)).await {
                Ok(response) => return Ok(response),
                Err(e) if reused && e.is_canceled() => reused = false,
                // No answer: refused, reset or closed before the headers.
                Err(_) => return Err(FailureKind::Connect),
            }
        }
    }
}

/// The request, from parts `Prepared` built once: no parsing or formatting per request.
fn request(req: &Prepared) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::new(Full::new(req.body.clone()));
    *request.method_mut() = req.method.clone();
    *request.uri_mut() = req.origin_form.clone();
    request.headers_mut().clone_from(&req.headers_with_host);
    request
}

impl Transport for HyperTransport {
    async fn send(&mut self, req: &Prepared, ex: &mut Exchange, obs: &mut Observation) {
        let start = Instant::now();
        ex.begin(obs, start);
        let attempt = async {
            let response = self.send_request(req).await?;
            ex.headers(
                obs,
                &req.answer,
                response.status().as_u16(),
                response.headers(),
                Instant::now(),
            );
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|_| FailureKind::Stream)?;
                if let Some(data) = frame.data_ref() {
                    ex.chunk(obs, data, Instant::now());
                }
            }
            ex.finish(obs, Instant::now());
            Ok(())
        };
        let failure = match tokio::time::timeout(req.timeout, attempt).await {
            Ok(Ok(())) => return,
            Ok(Err(kind)) => kind,
            Err(_) => FailureKind::Timeout,
        };
        // A connection that failed or timed out mid-answer is not reused.
        self.sender = None;
        ex.fail(obs, failure, Instant::now());
    }
}
