//! The hyper path for plain `http://` (`transport = "hyper"`): each worker owns one `hyper`
//! HTTP/1.1 connection (`client::conn::http1`), reconnecting when the server closes it. No
//! pool, no lock, no per-request URL parsing; the lean transport does the same work in about a
//! quarter of the instructions, and is checked against this one in every transport test.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use super::tcp::Addrs;
use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::RunError;
use crate::runner::cause::Cause;
use crate::runner::exchange::{Exchange, Failed};
use crate::scenario::Target;

/// Makes connection-owning transports for one server.
#[derive(Clone)]
pub(crate) struct HyperConnector {
    addrs: Arc<Addrs>,
}

impl HyperConnector {
    /// Resolve the base URL's host once. `shown` is the base URL as messages may show it
    /// (secrets redacted).
    pub(crate) async fn new(
        base: &url::Url,
        shown: &str,
        target: &Target,
    ) -> Result<Self, RunError> {
        Ok(Self {
            addrs: Arc::new(Addrs::resolve(base, shown, "hyper", target.connect_timeout).await?),
        })
    }
}

impl Connector for HyperConnector {
    type Transport = HyperTransport;

    fn transport(&self) -> HyperTransport {
        HyperTransport {
            addrs: Arc::clone(&self.addrs),
            sender: None,
        }
    }
}

/// One worker's connection.
pub(crate) struct HyperTransport {
    addrs: Arc<Addrs>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HyperTransport {
    /// Open a connection and hand it to hyper.
    async fn connect(&mut self) -> Result<(), Failed> {
        let stream = self.addrs.connect().await?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Failed::new(FailureKind::Connect, Cause::Hyper(e)))?;
        // The connection task ends when the server closes or the sender is dropped.
        tokio::spawn(connection);
        self.sender = Some(sender);
        Ok(())
    }

    /// Send `req` on the worker's connection, (re)connecting as needed. A request the server
    /// refused unread on a reused keep-alive connection (it closed it as we sent) is sent once
    /// more on a fresh one, as connection pools do: the server never saw it.
    async fn send_request(
        &mut self,
        req: &Prepared,
    ) -> Result<http::Response<hyper::body::Incoming>, Failed> {
        let mut reused = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        loop {
            if !reused {
                self.connect().await?;
            }
            let Some(sender) = self.sender.as_mut() else {
                return Err(Failed::new(FailureKind::Connect, Cause::None));
            };
            match sender.send_request(request(req)).await {
                Ok(response) => return Ok(response),
                Err(e) if reused && e.is_canceled() => reused = false,
                Err(e) => return Err(no_answer(e)),
            }
        }
    }
}

/// Connected and sent, but no answer's headers came: an answer that is not HTTP is a
/// `decode` failure; a connection reset or closed under the request is a `reset`.
fn no_answer(e: hyper::Error) -> Failed {
    let kind = if e.is_parse() {
        FailureKind::Decode
    } else {
        FailureKind::Reset
    };
    Failed::new(kind, Cause::Hyper(e))
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
                let frame = frame.map_err(|e| Failed::new(FailureKind::Stream, Cause::Hyper(e)))?;
                if let Some(data) = frame.data_ref() {
                    ex.chunk(obs, data, Instant::now())?;
                }
            }
            ex.finish(obs, Instant::now());
            Ok(())
        };
        let outcome = tokio::time::timeout(req.timeout, attempt).await;
        // A connection that failed, timed out or outgrew a limit mid-answer is not reused:
        // dropping the sender (and the body, above) closes it.
        match outcome {
            Ok(Ok(())) => return,
            Ok(Err(failed)) => ex.fail(obs, failed, Instant::now()),
            Err(_) => ex.time_out(obs, Instant::now()),
        }
        self.sender = None;
    }
}
