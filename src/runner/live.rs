//! Live figures for the progress bar: request and error counters and a coarse latency
//! histogram (8 buckets per power of two, ~9% wide) that workers update with relaxed atomics.
//! The exact figures come from the per-worker HDR recorders after the phase.

use std::sync::atomic::{AtomicU64, Ordering};

/// Buckets: 8 per octave over 2^0..2^40 µs.
const BUCKETS: usize = 8 * 41;

/// Counters shared by the workers of one phase and read by the progress ticker.
#[derive(Debug)]
pub(crate) struct Live {
    requests: AtomicU64,
    errors: AtomicU64,
    buckets: Box<[AtomicU64]>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

fn bucket(us: u64) -> usize {
    let us = us.max(1);
    let octave = 63 - us.leading_zeros() as usize;
    let sub = if octave >= 3 {
        (us >> (octave - 3)) & 7
    } else {
        (us << (3 - octave)) & 7
    };
    (octave * 8 + sub as usize).min(BUCKETS - 1)
}

fn bucket_upper_us(index: usize) -> u64 {
    let (octave, sub) = (index / 8, index % 8);
    ((8 + sub as u64 + 1) << octave) >> 3
}

impl Live {
    /// Count a finished request.
    pub(crate) fn record(&self, latency_us: u64, failed: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        } else {
            self.buckets[bucket(latency_us)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests and errors so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }

    /// Approximate latency at `quantile` of successful requests, µs (0 when none).
    pub(crate) fn quantile_us(&self, quantile: f64) -> u64 {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64) * quantile).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_upper_us(i);
            }
        }
        0
    }

    /// Start over for the next phase.
    pub(crate) fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.errors.store(0, Ordering::Relaxed);
        for b in self.buckets.iter() {
            b.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_quantiles_are_within_a_bucket() {
        let live = Live::default();
        for us in 1..=1000 {
            live.record(us, false);
        }
        live.record(5, true);
        assert_eq!(live.counts(), (1001, 1));
        let p99 = live.quantile_us(0.99);
        assert!((990..=1100).contains(&p99), "{p99}");
        let p50 = live.quantile_us(0.5);
        assert!((500..=550).contains(&p50), "{p50}");
    }
}
