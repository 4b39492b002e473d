//! The naive synchronous tracker the journal replaces, as the original `UsageTracker` did it:
//! every call reads the whole JSON file, parses it, merges the call and rewrites the file.

use std::path::PathBuf;

use nitro_scenario::journal::RequestRecord;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::record;

/// Sessions the original tracker kept in its file (older ones were cut); the sync files start
/// with this many, as a tracker in use for a while has them.
pub const SYNC_SESSIONS_KEPT: usize = 1_000;

/// The original design: every call reads the whole JSON file, parses it, appends a session
/// (keeping the last 1,000), updates daily, model and provider totals, and rewrites the file
/// pretty-printed.
pub struct SyncTracker {
    path: PathBuf,
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .expect("the current time formats as RFC 3339")
}

/// Add `r` to the tracker's document, as the original's merge did.
fn merge(doc: &mut Value, r: &RequestRecord, now: &str) {
    let tokens = u64::from(r.prompt_tokens) + u64::from(r.completion_tokens);
    let cost = f64::from(r.prompt_tokens) * 1e-5 + f64::from(r.completion_tokens) * 3e-5;
    let session = json!({
        "timestamp": now, "model": "bench-model", "provider": "openai",
        "input_tokens": r.prompt_tokens, "output_tokens": r.completion_tokens,
        "total_tokens": tokens, "cost_usd": cost, "latency_ms": r.latency_us as f64 / 1000.0,
        "operation": "chat", "metadata": {},
    });
    if let Some(sessions) = doc["sessions"].as_array_mut() {
        sessions.push(session);
        let excess = sessions.len().saturating_sub(SYNC_SESSIONS_KEPT);
        sessions.drain(..excess);
    }
    let today = now.get(..10).unwrap_or(now).to_string();
    for (table, key) in [
        ("daily_totals", today.as_str()),
        ("model_breakdown", "bench-model"),
        ("provider_breakdown", "openai"),
    ] {
        let total = &mut doc[table][key];
        let cost_so_far = total["cost"].as_f64().unwrap_or(0.0);
        *total = json!({
            "tokens": total["tokens"].as_u64().unwrap_or(0) + tokens,
            "cost": cost_so_far + cost,
            "calls": total["calls"].as_u64().unwrap_or(0) + 1,
        });
    }
    doc["last_updated"] = json!(now);
}

impl SyncTracker {
    /// A tracker file already holding `SYNC_SESSIONS_KEPT` sessions.
    pub fn new(path: PathBuf) -> Self {
        let mut doc = json!({"sessions": [], "daily_totals": {}, "model_breakdown": {},
                             "provider_breakdown": {}, "last_updated": now_text()});
        let now = now_text();
        for i in 0..SYNC_SESSIONS_KEPT as u64 {
            merge(&mut doc, &record(i), &now);
        }
        let text = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
        std::fs::write(&path, text).expect("seed the tracker file");
        Self { path }
    }

    /// Record one call: read, parse, merge, rewrite.
    pub fn record(&self, r: &RequestRecord) {
        let text = std::fs::read_to_string(&self.path).expect("read the tracker file");
        let mut doc: Value = serde_json::from_str(&text).expect("parse the tracker file");
        merge(&mut doc, r, &now_text());
        let text = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
        std::fs::write(&self.path, text).expect("write the tracker file");
    }
}
