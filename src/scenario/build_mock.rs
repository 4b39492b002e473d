//! `[mock]`: the built-in mock server's knobs, in a scenario or a `mock --config` file. Every
//! field is read (and every problem recorded) before any is combined, so one bad value never
//! hides another.

use std::num::NonZeroU32;

use super::diagnostics::{Diagnostics, suggestion};
use super::read::Table;
use crate::mock::{ChunkFault, Faults, MockConfig, RateLimit, StallFault, StreamShape};

/// The keys of `[mock]`.
pub(crate) const MOCK_KEYS: &[&str] = &[
    "latency",
    "jitter",
    "completion_tokens",
    "retry_after",
    "max_body_bytes",
    "header_read_timeout",
    "stream",
    "rate_limit",
    "faults",
    "capacity",
];
/// The keys of `[mock.stream]`.
pub(crate) const STREAM_KEYS: &[&str] = &["first_chunk", "chunks", "interval"];
/// The keys of a `mock.rate_limit` table.
pub(crate) const RATE_KEYS: &[&str] = &["mode", "n", "period", "limited"];
/// The values of `mock.rate_limit.mode`.
pub(crate) const RATE_MODES: &[&str] = &["always", "every_nth", "window"];
/// The keys of `[mock.faults]`.
pub(crate) const FAULT_KEYS: &[&str] = &["stall", "reset", "truncate"];
/// The keys of `mock.faults.stall`.
pub(crate) const STALL_KEYS: &[&str] = &["every", "duration"];
/// The keys of `mock.faults.reset` and `mock.faults.truncate`.
pub(crate) const CHUNK_FAULT_KEYS: &[&str] = &["every", "after_chunks"];

/// The `[mock]` table; defaults for what it leaves out. `None` when a problem was recorded.
pub(crate) fn mock(d: &mut Diagnostics<'_>, t: &Table<'_, '_>) -> Option<MockConfig> {
    t.check_keys(d, MOCK_KEYS);
    let base = MockConfig::default();
    let latency = t.duration(d, "latency", true).unwrap_or(base.latency);
    let jitter = t.duration(d, "jitter", true).unwrap_or(base.jitter);
    let completion_tokens = t
        .count(d, "completion_tokens")
        .map_or(base.completion_tokens, NonZeroU32::get);
    let retry_after = t
        .duration(d, "retry_after", true)
        .unwrap_or(base.retry_after);
    let max_body_bytes = t
        .size(d, "max_body_bytes", u64::MAX)
        .unwrap_or(base.max_body_bytes);
    let header_read_timeout = t
        .duration(d, "header_read_timeout", false)
        .unwrap_or(base.header_read_timeout);
    let stream = stream_shape(d, t, base.stream);
    let rate_limit = rate_limit(d, t);
    let faults = faults(d, t);
    let capacity = t.count::<NonZeroU32>(d, "capacity");
    Some(MockConfig {
        latency,
        jitter,
        stream: stream?,
        completion_tokens,
        rate_limit: rate_limit?,
        retry_after,
        max_body_bytes,
        header_read_timeout,
        faults: faults?,
        capacity,
    })
}

/// `[mock.stream]`.
fn stream_shape(
    d: &mut Diagnostics<'_>,
    t: &Table<'_, '_>,
    base: StreamShape,
) -> Option<StreamShape> {
    let Some(s) = t.table(d, "stream") else {
        return t.get("stream").is_none().then_some(base);
    };
    s.check_keys(d, STREAM_KEYS);
    Some(StreamShape {
        first_chunk: s
            .duration(d, "first_chunk", true)
            .unwrap_or(base.first_chunk),
        chunks: s.count(d, "chunks").map_or(base.chunks, NonZeroU32::get),
        interval: s.duration(d, "interval", true).unwrap_or(base.interval),
    })
}

/// `mock.rate_limit`: `"always"` or a table with `mode` and the keys that mode takes.
fn rate_limit(d: &mut Diagnostics<'_>, t: &Table<'_, '_>) -> Option<RateLimit> {
    let Some(v) = t.get("rate_limit") else {
        return Some(RateLimit::Always);
    };
    if v.get_ref().as_str() == Some("always") {
        return Some(RateLimit::Always);
    }
    let Some(r) = Table::of(v, t.key_path("rate_limit")) else {
        d.error(
            v.span(),
            &t.key_path("rate_limit"),
            "expected `\"always\"` or a table with `mode`",
        );
        return None;
    };
    r.check_keys(d, RATE_KEYS);
    let mode = r.string(d, "mode");
    let n = r.count::<NonZeroU32>(d, "n");
    let period = r.duration(d, "period", false);
    let limited = r.duration(d, "limited", true);
    match mode.as_deref() {
        Some("always") => {
            unused_by(d, &r, "always", &["n", "period", "limited"]);
            Some(RateLimit::Always)
        }
        Some("every_nth") => {
            unused_by(d, &r, "every_nth", &["period", "limited"]);
            if r.get("n").is_none() {
                r.missing(d, "n", "`every_nth` needs `n`, e.g. `n = 2`");
            }
            n.map(RateLimit::EveryNth)
        }
        Some("window") => {
            unused_by(d, &r, "window", &["n"]);
            for key in ["period", "limited"] {
                if r.get(key).is_none() {
                    r.missing(d, key, "`window` needs `period` and `limited`");
                }
            }
            let (period, limited) = (period?, limited?);
            if limited > period {
                let at = r.get("limited").map_or(r.span.clone(), |l| l.span());
                d.error(
                    at,
                    &r.key_path("limited"),
                    "must not be longer than `period`",
                );
                return None;
            }
            Some(RateLimit::Window { period, limited })
        }
        Some(other) => {
            let at = r.get("mode").map_or(r.span.clone(), |m| m.span());
            d.error(
                at,
                &r.key_path("mode"),
                format!("unknown mode `{other}`{}", suggestion(other, RATE_MODES)),
            );
            None
        }
        None => {
            if r.get("mode").is_none() {
                r.missing(
                    d,
                    "mode",
                    "missing; write `mode = \"always\"`, `\"every_nth\"` or `\"window\"`",
                );
            }
            None
        }
    }
}

/// Report every key of `keys` present in `r`, which `mode` does not use.
fn unused_by(d: &mut Diagnostics<'_>, r: &Table<'_, '_>, mode: &str, keys: &[&str]) {
    for key in keys {
        if let Some(v) = r.get(key) {
            d.error(
                v.span(),
                &r.key_path(key),
                format!("`{key}` is not used by `mode = \"{mode}\"`; remove it"),
            );
        }
    }
}

/// `[mock.faults]`.
fn faults(d: &mut Diagnostics<'_>, t: &Table<'_, '_>) -> Option<Faults> {
    let Some(f) = t.table(d, "faults") else {
        return t.get("faults").is_none().then(Faults::default);
    };
    f.check_keys(d, FAULT_KEYS);
    let stall = fault(d, &f, "stall", stall_fault);
    let reset = fault(d, &f, "reset", chunk_fault);
    let truncate = fault(d, &f, "truncate", chunk_fault);
    Some(Faults {
        stall: stall?,
        reset: reset?,
        truncate: truncate?,
    })
}

/// The fault at `key`: `Some(None)` when absent, `None` when it has a problem.
fn fault<T>(
    d: &mut Diagnostics<'_>,
    f: &Table<'_, '_>,
    key: &str,
    build: fn(&mut Diagnostics<'_>, &Table<'_, '_>) -> Option<T>,
) -> Option<Option<T>> {
    match f.table(d, key) {
        Some(table) => build(d, &table).map(Some),
        None => f.get(key).is_none().then_some(None),
    }
}

fn stall_fault(d: &mut Diagnostics<'_>, s: &Table<'_, '_>) -> Option<StallFault> {
    s.check_keys(d, STALL_KEYS);
    let every = every(d, s);
    let duration = s.duration(d, "duration", false);
    if s.get("duration").is_none() {
        s.missing(
            d,
            "duration",
            "missing; write how long it stalls, e.g. `duration = \"2s\"`",
        );
    }
    Some(StallFault {
        every: every?,
        duration: duration?,
    })
}

fn chunk_fault(d: &mut Diagnostics<'_>, c: &Table<'_, '_>) -> Option<ChunkFault> {
    c.check_keys(d, CHUNK_FAULT_KEYS);
    let every = every(d, c);
    let after_chunks = match c.get("after_chunks") {
        None => Some(0),
        Some(_) => c.integer(d, "after_chunks"),
    };
    Some(ChunkFault {
        every: every?,
        after_chunks: after_chunks?,
    })
}

/// The `every` of a fault, required.
fn every(d: &mut Diagnostics<'_>, t: &Table<'_, '_>) -> Option<NonZeroU32> {
    if t.get("every").is_none() {
        t.missing(
            d,
            "every",
            "missing; write which requests it hits, e.g. `every = 10` for every 10th",
        );
    }
    t.count(d, "every")
}
