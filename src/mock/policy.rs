//! Which requests get what: the every-Nth counters of rate limits and faults, the rate-limit
//! window, the `x-mock-fault` header, and the latency draw. One `Shared` per server holds the
//! counters (atomics: in-process servers run on several threads).
//!
//! "Every Nth" means the same thing everywhere: requests N, 2N, 3N, ... (counting from 1 over
//! the server's life) are hit, so with N = 2 the first request passes and the second is hit.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::HeaderMap;
use tokio::time::Instant;

use super::config::{ChunkFault, MockConfig, RateLimit};

/// The header a client names a fault with; a constant, so no request parses the name again.
const FAULT_HEADER: http::HeaderName = http::HeaderName::from_static("x-mock-fault");
/// How long a stall asked for by header lasts when the config has no stall fault.
const HEADER_STALL: Duration = Duration::from_secs(1);

/// A fault chosen for one chat request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Stall(Duration),
    Reset(u32),
    Truncate(u32),
}

/// The server's counters and clock.
#[derive(Debug)]
pub(crate) struct Policy {
    /// When the server started (rate-limit windows count from here).
    started: Instant,
    /// Requests to `:rate` so far.
    rate_requests: AtomicU64,
    /// Requests to the two fault-prone chat routes so far.
    chat_requests: AtomicU64,
}

impl Policy {
    /// Counters at zero, windows starting now.
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            rate_requests: AtomicU64::new(0),
            chat_requests: AtomicU64::new(0),
        }
    }

    /// Whether this request to `:rate` gets 429.
    pub(crate) fn rate_limited(&self, rule: RateLimit) -> bool {
        match rule {
            RateLimit::Always => true,
            RateLimit::EveryNth(n) => nth(&self.rate_requests, n),
            RateLimit::Window { period, limited } => {
                let elapsed = self.started.elapsed().as_nanos();
                elapsed % period.as_nanos().max(1) < limited.as_nanos()
            }
        }
    }

    /// The fault for a request to `/v1/chat/completions` or `:stream`: the `x-mock-fault`
    /// header if present, else the config's every-Nth rules (reset before truncate before
    /// stall when several hit the same request).
    pub(crate) fn fault(&self, headers: &HeaderMap, config: &MockConfig) -> Fault {
        let faults = &config.faults;
        if let Some(asked) = headers.get(&FAULT_HEADER).and_then(|v| v.to_str().ok()) {
            // Without a configured point, a header fault strikes mid-answer.
            let after = |f: Option<ChunkFault>| {
                f.map_or((config.stream.chunks / 2).max(1), |f| f.after_chunks)
            };
            return match asked {
                "stall" => Fault::Stall(faults.stall.map_or(HEADER_STALL, |s| s.duration)),
                "reset" => Fault::Reset(after(faults.reset)),
                "truncate" => Fault::Truncate(after(faults.truncate)),
                _ => Fault::None,
            };
        }
        if faults.stall.is_none() && faults.reset.is_none() && faults.truncate.is_none() {
            return Fault::None;
        }
        let n = self.chat_requests.fetch_add(1, Ordering::Relaxed) + 1;
        let hits = |every: NonZeroU32| n % u64::from(every.get()) == 0;
        if let Some(f) = faults.reset.filter(|f| hits(f.every)) {
            return Fault::Reset(f.after_chunks);
        }
        if let Some(f) = faults.truncate.filter(|f| hits(f.every)) {
            return Fault::Truncate(f.after_chunks);
        }
        if let Some(f) = faults.stall.filter(|f| hits(f.every)) {
            return Fault::Stall(f.duration);
        }
        Fault::None
    }

    /// Fixed latency plus uniform jitter (a cheap hash of the clock: no RNG state to share).
    pub(crate) fn delay(&self, config: &MockConfig) -> Duration {
        let mut wait = config.latency;
        if !config.jitter.is_zero() {
            let seed = self.started.elapsed().as_nanos() as u64;
            let jitter_us = config.jitter.as_micros() as u64;
            wait += Duration::from_micros(mix(seed) % (jitter_us + 1));
        }
        wait
    }
}

/// Count one request on `counter`; true for requests N, 2N, ...
fn nth(counter: &AtomicU64, n: NonZeroU32) -> bool {
    let number = counter.fetch_add(1, Ordering::Relaxed) + 1;
    number % u64::from(n.get()) == 0
}

/// splitmix64's finalizer: spreads nearby seeds over the whole range.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{Faults, StallFault};

    #[test]
    fn every_nth_hits_the_nth_request_for_rate_limits_and_faults_alike() {
        let policy = Policy::new();
        let rule = RateLimit::EveryNth(NonZeroU32::new(3).unwrap());
        let limited: Vec<bool> = (0..6).map(|_| policy.rate_limited(rule)).collect();
        assert_eq!(limited, [false, false, true, false, false, true]);

        let config = MockConfig {
            faults: Faults {
                reset: Some(ChunkFault {
                    every: NonZeroU32::new(3).unwrap(),
                    after_chunks: 2,
                }),
                stall: Some(StallFault {
                    every: NonZeroU32::new(2).unwrap(),
                    duration: Duration::from_secs(5),
                }),
                truncate: None,
            },
            ..Default::default()
        };
        let faults: Vec<Fault> = (0..6)
            .map(|_| policy.fault(&HeaderMap::new(), &config))
            .collect();
        let stall = Fault::Stall(Duration::from_secs(5));
        assert_eq!(
            faults,
            [
                Fault::None,
                stall,
                Fault::Reset(2),
                stall,
                Fault::None,
                Fault::Reset(2)
            ]
        );
    }

    #[test]
    fn a_header_fault_takes_the_configured_point_or_strikes_mid_answer() {
        let policy = Policy::new();
        let mut headers = HeaderMap::new();
        headers.insert("x-mock-fault", "reset".parse().unwrap());
        let config = MockConfig::default();
        assert_eq!(policy.fault(&headers, &config), Fault::Reset(8));
        let mut one_chunk = MockConfig::default();
        one_chunk.stream.chunks = 1;
        assert_eq!(policy.fault(&headers, &one_chunk), Fault::Reset(1));
        headers.insert("x-mock-fault", "stall".parse().unwrap());
        assert_eq!(policy.fault(&headers, &config), Fault::Stall(HEADER_STALL));
    }

    #[test]
    fn latency_without_jitter_is_exact() {
        let config = MockConfig {
            latency: Duration::from_millis(10),
            ..Default::default()
        };
        assert_eq!(Policy::new().delay(&config), Duration::from_millis(10));
    }
}
