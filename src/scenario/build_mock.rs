//! `[mock]`: the built-in mock server's knobs, in a scenario or a `mock --config` file.

use std::num::NonZeroU32;

use toml::de::DeValue;

use super::diagnostics::Diagnostics;
use super::read::Table;
use crate::mock::{ChunkFault, Faults, MockConfig, RateLimit, StallFault, StreamShape};

const MOCK_KEYS: &[&str] = &[
    "latency",
    "jitter",
    "completion_tokens",
    "retry_after",
    "max_body_bytes",
    "stream",
    "rate_limit",
    "faults",
];
const STREAM_KEYS: &[&str] = &["first_chunk", "chunks", "interval"];
const RATE_KEYS: &[&str] = &["mode", "n", "period", "limited"];
const FAULT_KEYS: &[&str] = &["stall", "reset", "truncate"];

/// The `[mock]` table; defaults for what it leaves out.
pub(crate) fn mock(d: &mut Diagnostics<'_>, t: &Table<'_, '_>) -> Option<MockConfig> {
    t.check_keys(d, MOCK_KEYS);
    let base = MockConfig::default();
    let mut ok = true;
    let stream = match t.table(d, "stream") {
        None => base.stream,
        Some(s) => {
            s.check_keys(d, STREAM_KEYS);
            StreamShape {
                first_chunk: s
                    .duration(d, "first_chunk", true)
                    .unwrap_or(base.stream.first_chunk),
                chunks: s
                    .count32(d, "chunks")
                    .map_or(base.stream.chunks, NonZeroU32::get),
                interval: s
                    .duration(d, "interval", true)
                    .unwrap_or(base.stream.interval),
            }
        }
    };
    let rate_limit = match t.get("rate_limit") {
        None => Some(base.rate_limit),
        Some(v) => match v.get_ref() {
            DeValue::String(s) if s == "always" => Some(RateLimit::Always),
            DeValue::Table(entries) => {
                let r = Table {
                    entries,
                    path: t.key_path("rate_limit"),
                };
                r.check_keys(d, RATE_KEYS);
                match r.string(d, "mode").as_deref() {
                    Some("always") => Some(RateLimit::Always),
                    Some("every_nth") => r.count32(d, "n").map(RateLimit::EveryNth).or_else(|| {
                        if r.get("n").is_none() {
                            d.error(v.span(), &r.path, "`every_nth` needs `n`, e.g. `n = 2`");
                        }
                        None
                    }),
                    Some("window") => {
                        let period = r.duration(d, "period", false);
                        let limited = r.duration(d, "limited", true);
                        match (period, limited) {
                            (Some(period), Some(limited)) if limited <= period => {
                                Some(RateLimit::Window { period, limited })
                            }
                            (Some(_), Some(_)) => {
                                d.error(
                                    v.span(),
                                    &r.path,
                                    "`limited` must not be longer than `period`",
                                );
                                None
                            }
                            _ => {
                                if r.get("period").is_none() || r.get("limited").is_none() {
                                    d.error(
                                        v.span(),
                                        &r.path,
                                        "`window` needs `period` and `limited`",
                                    );
                                }
                                None
                            }
                        }
                    }
                    _ => {
                        let at = r.get("mode").map_or(v.span(), |m| m.span());
                        d.error(
                            at,
                            &r.key_path("mode"),
                            "expected `\"always\"`, `\"every_nth\"` or `\"window\"`",
                        );
                        None
                    }
                }
            }
            _ => {
                d.error(
                    v.span(),
                    &t.key_path("rate_limit"),
                    "expected `\"always\"` or a table with `mode`",
                );
                None
            }
        },
    };
    let faults = match t.table(d, "faults") {
        None => Some(Faults::default()),
        Some(f) => {
            f.check_keys(d, FAULT_KEYS);
            let stall = f.table(d, "stall").and_then(|s| {
                s.check_keys(d, &["every", "duration"]);
                let every = s.count32(d, "every").or_else(|| missing(d, &s, "every"));
                let duration = s
                    .duration(d, "duration", false)
                    .or_else(|| missing(d, &s, "duration"));
                Some(StallFault {
                    every: every?,
                    duration: duration?,
                })
            });
            ok &= f.get("stall").is_none() || stall.is_some();
            let reset = chunk_fault(d, &f, "reset");
            ok &= f.get("reset").is_none() || reset.is_some();
            let truncate = chunk_fault(d, &f, "truncate");
            ok &= f.get("truncate").is_none() || truncate.is_some();
            Some(Faults {
                stall,
                reset,
                truncate,
            })
        }
    };
    let config = MockConfig {
        latency: t.duration(d, "latency", true).unwrap_or(base.latency),
        jitter: t.duration(d, "jitter", true).unwrap_or(base.jitter),
        stream,
        completion_tokens: t
            .count32(d, "completion_tokens")
            .map_or(base.completion_tokens, NonZeroU32::get),
        rate_limit: rate_limit?,
        retry_after: t
            .duration(d, "retry_after", true)
            .unwrap_or(base.retry_after),
        max_body_bytes: t.size(d, "max_body_bytes").unwrap_or(base.max_body_bytes),
        faults: faults?,
    };
    ok.then_some(config)
}

fn chunk_fault(d: &mut Diagnostics<'_>, f: &Table<'_, '_>, key: &str) -> Option<ChunkFault> {
    let t = f.table(d, key)?;
    t.check_keys(d, &["every", "after_chunks"]);
    let every = t.count32(d, "every").or_else(|| missing(d, &t, "every"));
    let after_chunks = t
        .unsigned(d, "after_chunks")
        .unwrap_or(0)
        .min(u32::MAX as u64) as u32;
    Some(ChunkFault {
        every: every?,
        after_chunks,
    })
}

fn missing<T>(d: &mut Diagnostics<'_>, t: &Table<'_, '_>, key: &str) -> Option<T> {
    if t.get(key).is_none() {
        d.error_in_file(&t.key_path(key), format!("missing `{key}` in [{}]", t.path));
    }
    None
}
