//! The general transport: one shared, pooled `reqwest::Client` (TLS via rustls, HTTP/2,
//! proxies), cloned into every worker.

use tokio::time::Instant;

use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::RunError;
use crate::runner::exchange::Exchange;
use crate::scenario::Target;

/// Hands out clones of one pooled client.
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
            // No answer: refused, reset or closed before the headers, or the connect timeout
            // (the whole-attempt timeout is the `timeout` around this block). The hyper
            // transport calls these `connect` too.
            let mut response = match request.send().await {
                Ok(r) => r,
                Err(_) => return ex.fail(obs, FailureKind::Connect, Instant::now()),
            };
            ex.headers(
                obs,
                &req.answer,
                response.status().as_u16(),
                response.headers(),
                Instant::now(),
            );
            loop {
                match response.chunk().await {
                    Ok(Some(bytes)) => ex.chunk(obs, &bytes, Instant::now()),
                    Ok(None) => return ex.finish(obs, Instant::now()),
                    // Sent, but the answer never came whole: the connection broke under it.
                    Err(_) => return ex.fail(obs, FailureKind::Stream, Instant::now()),
                }
            }
        };
        if tokio::time::timeout(req.timeout, attempt).await.is_err() {
            ex.fail(obs, FailureKind::Timeout, Instant::now());
        }
    }
}
