//! A transport for tests: answers from a script of fixed outcomes and timings, with no socket,
//! read through the same `Exchange` as real answers, so the pipeline (workers, phases,
//! retries, stream timing, merge, summaries) can be checked against exact numbers.
//!
//! Each attempt sleeps its scripted latency — on a paused tokio clock that moves time exactly
//! without waiting — and hands the exchange instants computed from the script, so recorded
//! timings are exact to the microsecond even where the paused clock rounds to milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::HeaderMap;
use tokio::time::Instant;

use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::Stop;
use crate::runner::cause::Cause;
use crate::runner::exchange::{Exchange, Failed};

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Status of the answer; `None` for no answer at all (a connect failure, "connection
    /// refused").
    pub(crate) status: Option<u16>,
    /// Headers arrive this long after the attempt starts, µs.
    pub(crate) ttfb_us: u64,
    /// Body pieces, each with when it arrives, µs after the attempt starts.
    pub(crate) body: Vec<(u64, &'static str)>,
    /// The answer ends this long after the attempt starts, µs.
    pub(crate) latency_us: u64,
    /// Headers of the answer.
    pub(crate) headers: Vec<(&'static str, &'static str)>,
}

impl Step {
    /// A 200 JSON answer (`{}`) taking `latency_us`, headers at half of it.
    pub(crate) fn ok(latency_us: u64) -> Self {
        Self {
            status: Some(200),
            ttfb_us: latency_us / 2,
            body: vec![(latency_us, "{}")],
            latency_us,
            headers: vec![("content-type", "application/json")],
        }
    }

    /// No connection: a `connect` failure after `latency_us`.
    pub(crate) fn refused(latency_us: u64) -> Self {
        Self {
            status: None,
            ttfb_us: latency_us,
            body: Vec::new(),
            latency_us,
            headers: Vec::new(),
        }
    }

    /// A 429 after `latency_us` asking to retry after `retry_after` (header text).
    pub(crate) fn limited(latency_us: u64, retry_after: &'static str) -> Self {
        Self {
            status: Some(429),
            ttfb_us: latency_us,
            body: Vec::new(),
            latency_us,
            headers: vec![("retry-after", retry_after)],
        }
    }

    /// An SSE answer: headers at `ttfb_us`, one content event at each of `tokens_us`, then a
    /// usage event and `[DONE]` at `latency_us`. `usage` false leaves tokens to be counted.
    pub(crate) fn stream(ttfb_us: u64, tokens_us: &[u64], latency_us: u64, usage: bool) -> Self {
        let mut body = vec![(
            ttfb_us,
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        )];
        body.extend(tokens_us.iter().map(|&t| {
            (
                t,
                "data: {\"choices\":[{\"delta\":{\"content\":\"tok\"}}]}\n\n",
            )
        }));
        if usage {
            body.push((
                latency_us,
                "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":4,\"total_tokens\":11}}\n\n",
            ));
        }
        body.push((latency_us, "data: [DONE]\n\n"));
        Self {
            status: Some(200),
            ttfb_us,
            body,
            latency_us,
            headers: vec![("content-type", "text/event-stream")],
        }
    }
}

/// Hands out transports that walk one shared script, cycling.
#[derive(Clone)]
pub(crate) struct ScriptedConnector {
    steps: Arc<Vec<Step>>,
    next: Arc<AtomicUsize>,
    stop_after: Option<(usize, Stop)>,
}

impl ScriptedConnector {
    /// A connector answering with `steps` in order, over and over.
    pub(crate) fn new(steps: Vec<Step>) -> Self {
        Self {
            steps: Arc::new(steps),
            next: Arc::new(AtomicUsize::new(0)),
            stop_after: None,
        }
    }

    /// Raise `stop` when the attempt numbered `after` (0-based) begins: it is then abandoned,
    /// as an attempt in flight at a Ctrl-C is.
    pub(crate) fn stopping(mut self, after: usize, stop: Stop) -> Self {
        self.stop_after = Some((after, stop));
        self
    }
}

impl Connector for ScriptedConnector {
    type Transport = ScriptedTransport;

    fn transport(&self) -> ScriptedTransport {
        ScriptedTransport {
            steps: Arc::clone(&self.steps),
            next: Arc::clone(&self.next),
            stop_after: self.stop_after.clone(),
        }
    }
}

/// A worker's view of the script.
pub(crate) struct ScriptedTransport {
    steps: Arc<Vec<Step>>,
    next: Arc<AtomicUsize>,
    stop_after: Option<(usize, Stop)>,
}

impl Transport for ScriptedTransport {
    async fn send(&mut self, req: &Prepared, ex: &mut Exchange, obs: &mut Observation) {
        let start = Instant::now();
        ex.begin(obs, start);
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        if let Some((after, stop)) = &self.stop_after {
            if n == *after {
                stop.request();
            }
        }
        let step = &self.steps[n % self.steps.len()];
        let at = |us: u64| start + Duration::from_micros(us);
        tokio::time::sleep(Duration::from_micros(step.latency_us)).await;
        let Some(status) = step.status else {
            let refused = Failed::new(FailureKind::Connect, Cause::Said("connection refused"));
            return ex.fail(obs, refused, at(step.latency_us));
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &step.headers {
            headers.insert(
                *name,
                value.parse().expect("scripted header values are valid"),
            );
        }
        ex.headers(obs, &req.answer, status, &headers, at(step.ttfb_us));
        for (t, piece) in &step.body {
            if let Err(failed) = ex.chunk(obs, piece.as_bytes(), at(*t)) {
                return ex.fail(obs, failed, at(*t));
            }
        }
        ex.finish(obs, at(step.latency_us));
    }
}
