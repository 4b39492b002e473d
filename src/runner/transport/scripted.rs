//! A transport for tests: answers from a script of fixed outcomes and latencies, with no
//! socket, so the pipeline (workers, phases, retries, merge, summaries) can be checked
//! against exact numbers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::exchange::Exchange;

/// One scripted answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// Reported latency, µs.
    pub(crate) latency_us: u64,
    /// Status code.
    pub(crate) status: u16,
    /// Failure, if any.
    pub(crate) failure: Option<FailureKind>,
}

/// Hands out transports that walk one shared script, cycling.
pub(crate) struct ScriptedConnector {
    steps: Arc<Vec<Step>>,
    next: Arc<AtomicUsize>,
}

impl ScriptedConnector {
    /// A connector answering with `steps` in order, over and over.
    pub(crate) fn new(steps: Vec<Step>) -> Self {
        Self {
            steps: Arc::new(steps),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Connector for ScriptedConnector {
    type Transport = ScriptedTransport;

    fn transport(&self) -> ScriptedTransport {
        ScriptedTransport {
            steps: Arc::clone(&self.steps),
            next: Arc::clone(&self.next),
        }
    }
}

/// A worker's view of the script.
pub(crate) struct ScriptedTransport {
    steps: Arc<Vec<Step>>,
    next: Arc<AtomicUsize>,
}

impl Transport for ScriptedTransport {
    async fn send(&mut self, _req: &Prepared, _ex: &mut Exchange, obs: &mut Observation) {
        obs.reset();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.steps.len();
        let step = self.steps[i];
        obs.status = Some(step.status);
        obs.failure = step.failure;
        obs.latency_us = step.latency_us;
        obs.ttfb_us = Some(step.latency_us / 2);
        if step.status == 429 {
            obs.retry_after = Some(std::time::Duration::ZERO);
        }
        // Let the other workers run, as a real transport would while waiting.
        tokio::task::yield_now().await;
    }
}
