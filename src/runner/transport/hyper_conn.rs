//! The fast path for plain `http://`: each worker owns one `hyper` HTTP/1.1 connection
//! (`client::conn::http1`), reconnecting when the server closes it. No pool, no lock, no
//! per-request URL parsing: the wrk-class way to drive a server from few cores.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::RunError;
use crate::runner::exchange::Exchange;
use crate::scenario::Target;

/// Makes connection-owning transports for one server address.
pub(crate) struct HyperConnector {
    addr: SocketAddr,
    connect_timeout: Duration,
}

impl HyperConnector {
    /// Resolve the base URL's host once.
    pub(crate) async fn new(base: &url::Url, target: &Target) -> Result<Self, RunError> {
        if base.scheme() != "http" {
            return Err(RunError::Transport(format!(
                "the hyper transport speaks plain http://, not `{}`",
                base.scheme()
            )));
        }
        let host = base
            .host_str()
            .ok_or_else(|| RunError::Transport(format!("`{base}` has no host")))?;
        let port = base.port_or_known_default().unwrap_or(80);
        let addr = tokio::net::lookup_host((host, port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| RunError::Transport(format!("cannot resolve `{host}`")))?;
        Ok(Self {
            addr,
            connect_timeout: target.connect_timeout,
        })
    }
}

impl Connector for HyperConnector {
    type Transport = HyperTransport;

    fn transport(&self) -> HyperTransport {
        HyperTransport {
            addr: self.addr,
            connect_timeout: self.connect_timeout,
            sender: None,
        }
    }
}

/// One worker's connection.
pub(crate) struct HyperTransport {
    addr: SocketAddr,
    connect_timeout: Duration,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HyperTransport {
    /// A ready sender, connecting (again) when there is none or the server closed it.
    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, FailureKind> {
        if let Some(sender) = self.sender.as_mut() {
            if sender.ready().await.is_err() {
                self.sender = None;
            }
        }
        if self.sender.is_none() {
            let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(self.addr))
                .await
                .map_err(|_| FailureKind::Connect)?
                .map_err(|_| FailureKind::Connect)?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|_| FailureKind::Connect)?;
            // The connection task ends when the server closes or the sender is dropped.
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or(FailureKind::Connect)
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
            let sender = match self.ready().await {
                Ok(s) => s,
                Err(kind) => return Err(kind),
            };
            let response = match sender.send_request(request(req)).await {
                Ok(r) => r,
                Err(_) => return Err(FailureKind::Connect),
            };
            ex.headers(
                obs,
                &req.answer,
                response.status().as_u16(),
                response.headers(),
                Instant::now(),
            );
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(frame) => {
                        if let Some(data) = frame.data_ref() {
                            ex.chunk(obs, data, Instant::now());
                        }
                    }
                    Err(_) => return Err(FailureKind::Stream),
                }
            }
            ex.finish(obs, Instant::now());
            Ok(())
        };
        match tokio::time::timeout(req.timeout, attempt).await {
            Ok(Ok(())) => {}
            Ok(Err(kind)) => {
                // A broken connection is not reused.
                self.sender = None;
                ex.fail(obs, kind, Instant::now());
            }
            Err(_) => {
                self.sender = None;
                ex.fail(obs, FailureKind::Timeout, Instant::now());
            }
        }
    }
}
