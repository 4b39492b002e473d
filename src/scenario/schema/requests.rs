//! The schema of what a request is made of: `[target]`, `[payloads]`, `[routes]`, and the
//! external programs of `[clients]` that send requests in the built-in engine's place.

use serde_json::{Value, json};

use super::shapes::{
    boolean, client_name_pattern, count, described, duration, headers, name_pattern, named,
    non_empty, size, string, table, words,
};
use crate::external::PROTOCOL_VARS;
use crate::scenario::MAX_PAYLOAD_BYTES;
use crate::scenario::build_clients::CLIENT_KEYS;
use crate::scenario::build_payloads::{PAYLOAD_KEYS, SOURCE_KEYS};
use crate::scenario::build_routes::{
    BODY_CHECKS, BODY_KINDS, BODY_TABLE_KEYS, EXPECT_KEYS, ROUTE_KEYS,
};
use crate::scenario::build_target::{TARGET_KEYS, TRANSPORTS};

/// `[target]`.
pub(super) fn target() -> Value {
    let transports: Vec<&str> = TRANSPORTS.iter().map(|(word, _)| *word).collect();
    let mut schema = table(
        "The server under test.",
        TARGET_KEYS,
        vec![
            (
                "base_url",
                string(
                    "`\"mock\"` starts the built-in mock server; otherwise an http:// or https:// \
                     base URL without ?query or #fragment, to which route paths are appended. \
                     May use ${env:NAME}.",
                ),
            ),
            (
                "model",
                string(
                    "`model` sent in OpenAI bodies (default \"mock-gpt\"); a `model` axis replaces \
                     it per point.",
                ),
            ),
            (
                "headers",
                headers(
                    "Headers on every request; values may use ${env:NAME}. Credential headers \
                     are shown as *** in reports.",
                ),
            ),
            (
                "timeout",
                duration(
                    "Whole attempt, connect to last byte (default \"30s\"); past it the attempt is \
                     a `timeout`.",
                ),
            ),
            (
                "connect_timeout",
                duration("Past it the attempt is a `connect` failure (default \"5s\")."),
            ),
            (
                "transport",
                words(
                    &transports,
                    "HTTP client (default \"auto\"): `lean` and `hyper` own one HTTP/1.1 \
                     connection per worker (plain http:// only), `reqwest` is one pooled client \
                     (TLS, HTTP/2, proxies), `auto` picks `lean` or `reqwest`.",
                ),
            ),
            (
                "max_response_bytes",
                size(
                    1,
                    "Largest answer body read (default \"64MiB\"); past it the attempt fails.",
                ),
            ),
            (
                "max_event_bytes",
                size(
                    1,
                    "Largest SSE line or event buffered (default \"1MiB\"); past it the attempt is \
                     a `stream` failure.",
                ),
            ),
        ],
    );
    schema["required"] = json!(["base_url"]);
    schema
}

/// `[payloads]`: named texts, each a string or a table with exactly one source.
pub(super) fn payloads() -> Value {
    let mut source = table(
        "The payload's text, or a table with exactly one of `fill` (with `bytes`), `text`, \
         `file`, `template`.",
        PAYLOAD_KEYS,
        vec![
            (
                "fill",
                non_empty("Text repeated and cut to exactly `bytes` bytes."),
            ),
            (
                "bytes",
                size(
                    0,
                    "The size `fill` is repeated to (at most 64 MiB), e.g. \"32KiB\".",
                ),
            ),
            ("text", string("The payload's text.")),
            (
                "file",
                string("A regular file (relative to the scenario's folder), read at validation."),
            ),
            (
                "template",
                string("A minijinja template rendered per point."),
            ),
        ],
    );
    source["type"] = json!(["string", "object"]);
    source["properties"]["bytes"]["maximum"] = json!(MAX_PAYLOAD_BYTES);
    let one_source: Vec<Value> = SOURCE_KEYS
        .iter()
        .map(|key| json!({ "required": [key] }))
        .collect();
    source["if"] = json!({ "type": "object" });
    source["then"] = json!({ "oneOf": one_source });
    source["dependencies"] = json!({ "fill": ["bytes"], "bytes": ["fill"] });
    named(
        "Named payloads that route bodies are built around; a plain string is `text`.",
        name_pattern(),
        source,
    )
}

/// `[routes]`: named endpoints.
pub(super) fn routes() -> Value {
    let mut body = table(
        "`\"openai-chat\"` (the default for chat paths), `\"raw\"` (the payload's text), \
         `\"none\"` (the default for GET), or `{ template = \"...\" }`, a minijinja template \
         rendered per point.",
        BODY_TABLE_KEYS,
        vec![("template", string("The body template."))],
    );
    body["type"] = json!(["string", "object"]);
    body["required"] = json!(["template"]);
    body["if"] = json!({ "type": "string" });
    body["then"] = json!({ "enum": BODY_KINDS });
    let mut route = table(
        "One endpoint: method, path, headers, the body it sends and what a good answer is.",
        ROUTE_KEYS,
        vec![
            ("method", string("HTTP method (default POST).")),
            (
                "path",
                described(
                    json!({ "type": "string", "pattern": "^/[^#]*$" }),
                    "Path (and query) appended to the base URL; starts with `/`, no #fragment.",
                ),
            ),
            (
                "headers",
                headers("Added to (and overriding) the target's headers."),
            ),
            ("body", body),
            (
                "max_tokens",
                count("`max_tokens` in the `openai-chat` body."),
            ),
            (
                "stream",
                boolean("Measure the answer as an SSE stream (TTFT, ITL, tokens); default false."),
            ),
            ("expect", expect()),
        ],
    );
    route["required"] = json!(["path"]);
    named("Named endpoints.", name_pattern(), route)
}

/// `routes.NAME.expect`.
fn expect() -> Value {
    let code = json!({ "type": "integer", "minimum": 100, "maximum": 599 });
    table(
        "What counts as a success.",
        EXPECT_KEYS,
        vec![
            (
                "status",
                json!({
                    "description": "Status codes that count as success, one or a list \
                                    (default: any 2xx).",
                    "type": ["integer", "array"],
                    "minimum": 100,
                    "maximum": 599,
                    "minItems": 1,
                    "items": code,
                }),
            ),
            (
                "body",
                words(
                    BODY_CHECKS,
                    "A success must decode so, else it is a `decode` failure (default `sse` \
                     for streams, `json` for openai-chat, else `any`).",
                ),
            ),
        ],
    )
}

/// `[clients]`: external client programs.
pub(super) fn clients() -> Value {
    let mut client = table(
        "An external client program speaking the benchmark framework's protocol.",
        CLIENT_KEYS,
        vec![
            (
                "command",
                described(
                    json!({ "type": "array", "minItems": 1, "items": { "type": "string" } }),
                    "The program and its arguments; {VAR} placeholders expand to the protocol's \
                     values.",
                ),
            ),
            (
                "env",
                named(
                    "Variables added to the inherited environment; not a protocol variable.",
                    json!({ "not": { "enum": PROTOCOL_VARS } }),
                    json!({ "type": "string" }),
                ),
            ),
            (
                "cwd",
                string("Working directory, relative to the scenario file's folder."),
            ),
            ("lang", non_empty("The client's label in reports.")),
            (
                "timeout",
                duration("How long a run may go on past warmup + measure (default \"30s\")."),
            ),
        ],
    );
    client["required"] = json!(["command"]);
    named(
        "External client programs, run by `matrix.client`.",
        client_name_pattern(),
        client,
    )
}
