//! The general transport: one shared, pooled `reqwest::Client` (TLS via rustls, HTTP/2,
//! proxies), cloned into every worker.

use tokio::time::Instant;

use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::RunError;
use crate::runner::cause::Cause;
use crate::runner::exchange::{Exchange, Failed};
use crate::scenario::Target;

/// Hands out clones of one pooled client.
#[derive(Clone)]
pub(crate) struct ReqwestConnector {
    client: reqwest::Client,
}

impl ReqwestConnector {
    /// A client with the target's connect timeout and a pool as large as the concurrency.
    /// `use_proxies`: whether the environment's `HTTP_PROXY`-style settings apply (not for the
    /// built-in mock on loopback).
    pub(crate) fn new(
        target: &Target,
        max_concurrency: usize,
        use_proxies: bool,
    ) -> Result<Self, RunError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(target.connect_timeout)
            .pool_max_idle_per_host(max_concurrency)
            .tcp_nodelay(true);
        if !use_proxies {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| RunError::Transport(e.to_string()))?;
        Ok(Self { client })
    }
}

impl Connector for ReqwestConnector {
    type Transport = ReqwestTransport;

    fn transport(&self) -> ReqwestTransport {
        ReqwestTransport {
            client: self.client.clone(),
        }
    }
}

/// A worker's handle on the shared client.
pub(crate) struct ReqwestTransport {
    client: reqwest::Client,
}

impl Transport for ReqwestTransport {
    async fn send(&mut self, req: &Prepared, ex: &mut Exchange, obs: &mut Observation) {
        let start = Instant::now();
        ex.begin(obs, start);
        let attempt = async {
            let request = self
                .client
                .request(req.method.clone(), req.url.clone())
                .headers(req.headers.clone())
                .body(req.body.clone());
            let mut response = request.send().await.map_err(no_answer)?;
            ex.headers(
                obs,
                &req.answer,
                response.status().as_u16(),
                response.headers(),
                Instant::now(),
            );
            loop {
                match response.chunk().await {
                    Ok(Some(bytes)) => ex.chunk(obs, &bytes, Instant::now())?,
                    Ok(None) => {
                        ex.finish(obs, Instant::now());
                        return Ok(());
                    }
                    // Sent, but the answer never came whole: the connection broke under it.
                    Err(e) => return Err(Failed::new(FailureKind::Stream, Cause::reqwest(e))),
                }
            }
        };
        // Dropping a response whose body was not read to its end closes its connection
        // rather than returning it to the pool.
        match tokio::time::timeout(req.timeout, attempt).await {
            Ok(Ok(())) => {}
            Ok(Err(failed)) => ex.fail(obs, failed, Instant::now()),
            Err(_) => ex.time_out(obs, Instant::now()),
        }
    }
}

/// No answer's headers came, classified as the hyper transport does: no connection at all
/// (refused, DNS, TLS, the connect timeout) is `connect`; an answer that is not HTTP is
/// `decode`; a connection reset or closed under the sent request is `reset`.
fn no_answer(e: reqwest::Error) -> Failed {
    let kind = if e.is_connect() {
        FailureKind::Connect
    } else if not_http(&e) {
        FailureKind::Decode
    } else {
        FailureKind::Reset
    };
    Failed::new(kind, Cause::reqwest(e))
}

/// Whether hyper, somewhere under `e`, could not parse the answer as HTTP.
fn not_http(e: &reqwest::Error) -> bool {
    let mut next = std::error::Error::source(e);
    while let Some(inner) = next {
        if inner
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return true;
        }
        next = inner.source();
    }
    false
}
