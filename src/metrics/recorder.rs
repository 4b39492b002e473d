//! A worker's recorder: HDR histograms (integer µs) and counters, owned by one worker,
//! merged with the others at phase end. No lock, no allocation per record, bounded memory.

use std::time::Duration;

use super::attempt::Observation;
use super::summary::{ClientStats, RunStats};

/// One worker's measurements of one phase.
#[derive(Debug, Clone)]
pub struct Recorder {}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        todo!("metrics helper")
    }

    /// Count one attempt; `retry` is 0 for a request's first attempt (its outcome is the
    /// request's first-attempt outcome), 1.. for retries after a 429.
    pub fn record_attempt(&mut self, _obs: &Observation, _retry: u32) {
        todo!("metrics helper")
    }

    /// Record a request's final outcome (its last attempt). `latency_us` runs from the first
    /// attempt's start to the last attempt's last byte, retry waits included.
    pub fn record_request(&mut self, _last: &Observation, _latency_us: u64) {
        todo!("metrics helper")
    }

    /// Add another worker's measurements into this one.
    pub fn merge(&mut self, _other: &Recorder) {
        todo!("metrics helper")
    }

    /// Requests with a final outcome so far.
    pub fn requests(&self) -> u64 {
        todo!("metrics helper")
    }

    /// Summarize a measure phase that lasted `measure`.
    pub fn summarize(&self, _run: u32, _measure: Duration, _client: ClientStats) -> RunStats {
        todo!("metrics helper")
    }
}
