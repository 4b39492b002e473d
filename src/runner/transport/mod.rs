//! The transport seam: how one attempt goes over the wire. Each worker owns its transport
//! (no lock in the request path); workers are generic over it, so there is no dynamic
//! dispatch either. Answers are read by the shared `Exchange`, so every transport measures
//! the same way.

mod http1;
mod hyper_conn;
mod lean;
mod reqwest_client;
#[cfg(test)]
pub(crate) mod scripted;
mod tcp;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use url::Url;

pub(crate) use hyper_conn::HyperConnector;
pub(crate) use lean::LeanConnector;
pub(crate) use reqwest_client::ReqwestConnector;

use super::RunError;
use super::exchange::{AnswerSpec, Exchange};
use crate::metrics::Observation;
use crate::scenario::{Point, Target};
use http1::RequestHead;

/// A point's request, built once and sent by every worker.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// HTTP method.
    pub(crate) method: http::Method,
    /// Full URL (base URL + route path).
    pub(crate) url: Url,
    /// Headers with secrets resolved.
    pub(crate) headers: HeaderMap,
    /// Path and query of `url`, parsed once for transports that send origin-form requests.
    pub(crate) origin_form: http::Uri,
    /// `headers` plus `Host`, for transports that write the request themselves.
    pub(crate) headers_with_host: HeaderMap,
    /// The HTTP/1.1 request, serialized once, for the lean transport.
    pub(crate) http1: RequestHead,
    /// The body, shared by reference count.
    pub(crate) body: Bytes,
    /// How to read the answer.
    pub(crate) answer: AnswerSpec,
    /// Whole-attempt timeout.
    pub(crate) timeout: Duration,
}

impl Prepared {
    /// Build the request of `point` against `base`. Messages name the point and its path,
    /// never the resolved URL, which may carry secrets.
    pub(crate) fn new(point: &Point, base: &Url, target: &Target) -> Result<Self, RunError> {
        let path = &point.request.path;
        let bad_url =
            || RunError::Transport(format!("point `{}`: `{path}` gives no valid URL", point.id));
        let url = Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
            .map_err(|_| bad_url())?;
        let mut headers = HeaderMap::new();
        for (name, value) in &point.request.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| RunError::Transport(format!("`{name}` is not a header name")))?;
            let value = http::HeaderValue::from_str(&value.resolved).map_err(|_| {
                RunError::Transport(format!("the value of `{name}` is not a valid header value"))
            })?;
            headers.append(name, value);
        }
        let origin_form = url[url::Position::BeforePath..]
            .parse()
            .map_err(|_| bad_url())?;
        let mut headers_with_host = headers.clone();
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => String::new(),
        };
        if let Ok(value) = http::HeaderValue::from_str(&host) {
            headers_with_host.insert(http::header::HOST, value);
        }
        let http1 = RequestHead::new(
            &point.request.method,
            &origin_form,
            &headers_with_host,
            &point.request.body,
        );
        Ok(Self {
            method: point.request.method.clone(),
            headers,
            origin_form,
            headers_with_host,
            http1,
            url,
            body: point.request.body.clone(),
            answer: AnswerSpec {
                stream: point.request.stream,
                expect: point.request.expect.clone(),
                max_response_bytes: target.max_response_bytes,
                max_event_bytes: target.max_event_bytes,
            },
            timeout: target.timeout,
        })
    }
}

/// Whether the proxy settings of the environment `env` reads (`http_proxy`, `https_proxy`,
/// `all_proxy`, in either case, less `no_proxy`) send requests to `url` through a proxy — as
/// reqwest reads them.
pub(crate) fn proxy_applies(url: &Url, env: impl Fn(&str) -> Option<String>) -> bool {
    let var = |name: &str| {
        env(name)
            .or_else(|| env(&name.to_ascii_uppercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let scheme_proxy = match url.scheme() {
        "https" => var("https_proxy"),
        _ => var("http_proxy"),
    };
    if scheme_proxy.or_else(|| var("all_proxy")).is_none() {
        return false;
    }
    let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
    let excluded = var("no_proxy").is_some_and(|list| {
        list.split(',').map(str::trim).any(|entry| {
            let entry = entry.trim_start_matches('.');
            entry == "*"
                || (!entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}"))))
        })
    });
    !excluded
}

/// Sends attempts. One per worker.
pub(crate) trait Transport: Send + 'static {
    /// Send one attempt of `req` and fill `obs` through `ex` (which resets it first).
    fn send(
        &mut self,
        req: &Prepared,
        ex: &mut Exchange,
        obs: &mut Observation,
    ) -> impl Future<Output = ()> + Send;
}

/// Makes one transport per worker. Cheap to clone (it shares what it holds): an open loop's
/// dispatcher, a task of its own, takes a clone to start workers.
pub(crate) trait Connector: Clone + Send + Sync + 'static {
    /// The transport it makes.
    type Transport: Transport;
    /// A transport for one worker (connections open lazily, on the first attempt).
    fn transport(&self) -> Self::Transport;
}
