//! The schema of `[mock]`: the built-in mock server's knobs, with one variant of
//! `rate_limit` per mode holding only the keys that mode uses.

use serde_json::{Value, json};

use super::shapes::{count, duration, size, table, unsigned, words};
use crate::scenario::build_mock::{
    CHUNK_FAULT_KEYS, FAULT_KEYS, MOCK_KEYS, RATE_KEYS, RATE_MODES, STALL_KEYS, STREAM_KEYS,
};

/// `[mock]`.
pub(super) fn mock() -> Value {
    table(
        "The built-in mock server, used when `target.base_url = \"mock\"`.",
        MOCK_KEYS,
        vec![
            (
                "latency",
                duration("Fixed delay before every answer (default \"0s\")."),
            ),
            (
                "jitter",
                duration("Uniform extra delay in [0, jitter] (default \"0s\")."),
            ),
            (
                "completion_tokens",
                count("Tokens in a non-streamed completion (default 16)."),
            ),
            (
                "retry_after",
                duration("Retry-After of a 429, whole seconds rounded up (default \"1s\")."),
            ),
            (
                "max_body_bytes",
                size(0, "Larger request bodies get 413 (default \"4MiB\")."),
            ),
            (
                "header_read_timeout",
                duration(
                    "Close a connection whose request head is not complete this long after it \
                     opened or after its last answer (default \"30s\").",
                ),
            ),
            ("stream", stream()),
            ("rate_limit", rate_limit()),
            ("faults", faults()),
            (
                "capacity",
                count(
                    "Service slots: at most this many chat requests are in their latency at once \
                     (default: no limit).",
                ),
            ),
        ],
    )
}

/// `[mock.stream]`.
fn stream() -> Value {
    table(
        "The shape of streamed answers.",
        STREAM_KEYS,
        vec![
            (
                "first_chunk",
                duration("Headers to first content chunk (default \"0s\")."),
            ),
            (
                "chunks",
                count("Content chunks, one token each (default 16)."),
            ),
            ("interval", duration("Gap between chunks (default \"0s\").")),
        ],
    )
}

/// `mock.rate_limit`: `"always"`, or a table whose `mode` says which other keys it takes.
fn rate_limit() -> Value {
    let typed = RATE_KEYS
        .iter()
        .filter_map(|key| Some((*key, rate_key(key)?)))
        .collect();
    let mut schema = table(
        "Which `:rate` requests get 429 (default \"always\"): \"always\", \
         `{ mode = \"every_nth\", n = N }` or `{ mode = \"window\", period, limited }`.",
        RATE_KEYS,
        typed,
    );
    schema["type"] = json!(["string", "object"]);
    schema["required"] = json!(["mode"]);
    schema["if"] = json!({ "type": "string" });
    schema["then"] = json!({ "const": "always" });
    // A table (not a string): each mode's keys, as a chain of `if`/`else` rather than an
    // `allOf`, since taplo shows the description of a schema only when it has no `allOf`.
    schema["else"] = RATE_MODES.iter().rev().fold(json!({}), |otherwise, mode| {
        let keys: Vec<&str> = RATE_KEYS
            .iter()
            .copied()
            .filter(|key| *key == "mode" || uses(mode, key))
            .collect();
        json!({
            "if": { "properties": { "mode": { "const": mode } }, "required": ["mode"] },
            "then": { "propertyNames": { "enum": keys }, "required": keys },
            "else": otherwise,
        })
    });
    schema
}

/// Whether rate-limit `mode` uses `key`; a mode this does not know keeps every key.
fn uses(mode: &str, key: &str) -> bool {
    match mode {
        "always" => false,
        "every_nth" => key == "n",
        "window" => matches!(key, "period" | "limited"),
        _ => true,
    }
}

/// The schema of `key` in a rate-limit table; `None` for a key it does not type.
fn rate_key(key: &str) -> Option<Value> {
    Some(match key {
        "mode" => words(RATE_MODES, "Which requests get 429."),
        "n" => count("With `every_nth`: every Nth `:rate` request gets 429."),
        "period" => duration("With `window`: the window's period, longer than zero."),
        "limited" => {
            duration("With `window`: how long of each period answers 429; at most `period`.")
        }
        _ => return None,
    })
}

/// `[mock.faults]`.
fn faults() -> Value {
    let every = || count("Which requests it hits: every Nth.");
    let mut stall = table(
        "Every Nth chat request waits before its headers.",
        STALL_KEYS,
        vec![
            ("every", every()),
            ("duration", duration("How long it stalls.")),
        ],
    );
    stall["required"] = json!(STALL_KEYS);
    let chunk = |description: &str| {
        let mut fault = table(
            description,
            CHUNK_FAULT_KEYS,
            vec![
                ("every", every()),
                (
                    "after_chunks",
                    unsigned("Content chunks sent first (default 0)."),
                ),
            ],
        );
        fault["required"] = json!(["every"]);
        fault
    };
    table(
        "Faults for reliability tests.",
        FAULT_KEYS,
        vec![
            ("stall", stall),
            (
                "reset",
                chunk(
                    "TCP reset after `after_chunks` content chunks (0 on JSON: before the \
                     headers).",
                ),
            ),
            (
                "truncate",
                chunk("The stream ends after `after_chunks` chunks without usage or [DONE]."),
            ),
        ],
    )
}
