//! How far behind its own schedule the mock ran: the end of each answer's latency wait against
//! its arrival plus the latency, each stream's first content chunk against arrival + latency +
//! `first_chunk`, and every later chunk against its due time. A load generator's timing error
//! against the mock is only its own when the mock kept to its schedule: `GET /mock/stats` says
//! whether it did, so that a benchmark can tell the client's error from the server's.
//!
//! One HDR histogram per figure (integer µs, 3 significant digits, 1 µs to 1 hour) behind an
//! uncontended lock: the mock's runtime is one thread.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;

/// Largest lateness kept, µs (1 hour; longer values are clamped).
const MAX_US: u64 = 3_600_000_000;

/// Which schedule a lateness is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// The end of an answer's latency wait: arrival + latency.
    Answer,
    /// A stream's first content chunk: arrival + latency + the stream's first-chunk delay.
    FirstChunk,
    /// A later content chunk: the first one's due time + its index × the interval.
    Chunk,
}

/// The mock's lateness so far, per schedule.
pub(crate) struct Lateness {
    answer: Mutex<Histogram<u64>>,
    first_chunk: Mutex<Histogram<u64>>,
    chunk: Mutex<Histogram<u64>>,
}

impl Default for Lateness {
    fn default() -> Self {
        let histogram = || {
            Mutex::new(
                Histogram::new_with_bounds(1, MAX_US, 3)
                    .expect("1 µs to 1 hour at 3 digits is a valid histogram"),
            )
        };
        Self {
            answer: histogram(),
            first_chunk: histogram(),
            chunk: histogram(),
        }
    }
}

impl Lateness {
    /// Something due by `due` happened `late` after it (zero when on time).
    pub(crate) fn record(&self, due: Due, late: Duration) {
        let histogram = match due {
            Due::Answer => &self.answer,
            Due::FirstChunk => &self.first_chunk,
            Due::Chunk => &self.chunk,
        };
        let us = u64::try_from(late.as_micros()).unwrap_or(MAX_US);
        if let Ok(mut h) = histogram.lock() {
            h.saturating_record(us.min(MAX_US));
        }
    }

    /// The `GET /mock/stats` body: for each schedule, its count and the p50, p99, p99.9 and
    /// max of its lateness in µs (bucket midpoints; `null` before anything was recorded).
    pub(crate) fn json(&self) -> Bytes {
        let figure = |h: &Mutex<Histogram<u64>>| match h.lock() {
            Ok(h) if !h.is_empty() => {
                let at = |q: f64| h.median_equivalent(h.value_at_quantile(q));
                format!(
                    r#"{{"count":{},"p50":{},"p99":{},"p999":{},"max":{}}}"#,
                    h.len(),
                    at(0.5),
                    at(0.99),
                    at(0.999),
                    h.median_equivalent(h.max())
                )
            }
            Ok(h) => format!(
                r#"{{"count":{},"p50":null,"p99":null,"p999":null,"max":null}}"#,
                h.len()
            ),
            Err(_) => "null".to_string(),
        };
        Bytes::from(format!(
            r#"{{"late_us":{{"answer":{},"first_chunk":{},"chunk":{}}}}}"#,
            figure(&self.answer),
            figure(&self.first_chunk),
            figure(&self.chunk)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stats_give_each_schedule_its_own_figures() {
        let late = Lateness::default();
        for us in 1..=100 {
            late.record(Due::Chunk, Duration::from_micros(us));
        }
        late.record(Due::FirstChunk, Duration::from_millis(3));
        let v: serde_json::Value = serde_json::from_slice(&late.json()).unwrap();
        let chunk = &v["late_us"]["chunk"];
        assert_eq!(
            (chunk["count"].as_u64(), chunk["p50"].as_u64()),
            (Some(100), Some(50))
        );
        assert_eq!(
            (chunk["p99"].as_u64(), chunk["max"].as_u64()),
            (Some(99), Some(100))
        );
        let first = &v["late_us"]["first_chunk"];
        assert_eq!(
            (first["count"].as_u64(), first["max"].as_u64()),
            (Some(1), Some(3_001))
        );
        let answer = &v["late_us"]["answer"];
        assert_eq!(answer["count"].as_u64(), Some(0));
        assert!(
            answer["p99"].is_null(),
            "no answer waited: no figure, not 0"
        );
    }
}
