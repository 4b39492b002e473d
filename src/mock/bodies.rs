//! The OpenAI wire format the mock speaks: completion and chunk JSON, error bodies, the model
//! list. Fixed parts are rendered once per server; per-request parts (model, usage) are
//! written into a buffer sized up front.

use std::borrow::Cow;
use std::fmt::Write;

use bytes::Bytes;
use serde::Deserialize;

/// A word per completion token; the content is these repeated.
const WORDS: [&str; 8] = [
    "Hello", "from", "the", "nitro", "mock", "server", "stream", "token",
];

/// The fields of a chat request the mock reads.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatRequest<'a> {
    /// Requested model, echoed back (borrowed from the body when it has no escapes).
    #[serde(default, borrow)]
    pub(crate) model: Option<Cow<'a, str>>,
    /// `"stream": true` turns `/v1/chat/completions` into a stream.
    #[serde(default)]
    pub(crate) stream: bool,
}

/// Prompt tokens the mock reports for a request body of `body_len` bytes (about 4 bytes each).
pub(crate) fn prompt_tokens(body_len: usize) -> u64 {
    (body_len as u64 / 4).max(1)
}

/// The `content` of a non-streamed completion of `tokens` tokens.
pub(crate) fn completion_text(tokens: u32) -> String {
    let mut text = String::new();
    for i in 0..tokens as usize {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(WORDS[i % WORDS.len()]);
    }
    text
}

/// A `chat.completion` answer; `content_json` is the content already as a JSON string.
pub(crate) fn completion(model: &str, content_json: &str, prompt: u64, completion: u32) -> Bytes {
    let mut out = String::with_capacity(256 + content_json.len() + model.len());
    let _ = write!(
        out,
        r#"{{"id":"chatcmpl-mock","object":"chat.completion","created":0,"model":{},"choices":[{{"index":0,"message":{{"role":"assistant","content":{content_json}}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{}}}}}"#,
        json_string(model),
        prompt + completion as u64
    );
    Bytes::from(out)
}

/// One SSE event: `data: JSON\n\n`.
fn event(json: &str) -> Bytes {
    let mut out = String::with_capacity(json.len() + 8);
    push_event(&mut out, json);
    Bytes::from(out)
}

fn push_event(out: &mut String, json: &str) {
    out.push_str("data: ");
    out.push_str(json);
    out.push_str("\n\n");
}

/// The first stream event: the assistant role with empty content.
pub(crate) fn role_chunk(model: &str) -> Bytes {
    event(&format!(
        r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":0,"model":{},"choices":[{{"index":0,"delta":{{"role":"assistant","content":""}},"finish_reason":null}}]}}"#,
        json_string(model)
    ))
}

/// Content event number `index` (one token).
pub(crate) fn content_chunk(model: &str, index: u32) -> Bytes {
    let word = WORDS[index as usize % WORDS.len()];
    event(&format!(
        r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":0,"model":{},"choices":[{{"index":0,"delta":{{"content":"{word} "}},"finish_reason":null}}]}}"#,
        json_string(model)
    ))
}

/// The closing events: `finish_reason`, then usage with empty choices, then `[DONE]`.
pub(crate) fn final_chunks(model: &str, prompt: u64, completion: u32) -> Bytes {
    let model = json_string(model);
    let mut out = String::new();
    push_event(
        &mut out,
        &format!(
            r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":0,"model":{model},"choices":[{{"index":0,"delta":{{}},"finish_reason":"stop"}}]}}"#
        ),
    );
    push_event(
        &mut out,
        &format!(
            r#"{{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":0,"model":{model},"choices":[],"usage":{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{}}}}}"#,
            prompt + completion as u64
        ),
    );
    out.push_str("data: [DONE]\n\n");
    Bytes::from(out)
}

/// An OpenAI-style error body.
pub(crate) fn error(message: &str, kind: &str, code: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"error":{{"message":{},"type":"{kind}","param":null,"code":"{code}"}}}}"#,
        json_string(message)
    ))
}

/// `GET /v1/models`.
pub(crate) fn models() -> Bytes {
    Bytes::from_static(
        br#"{"object":"list","data":[{"id":"mock-gpt","object":"model","created":0,"owned_by":"nitro-scenario"}]}"#,
    )
}

/// A 200 body that is deliberately not JSON (truncated object, trailing garbage).
pub(crate) fn malformed() -> Bytes {
    Bytes::from_static(br#"{"id":"chatcmpl-mock","object":"chat.completion","choices":[{"message":{"content":"oops"#)
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_openai_json() {
        let c: serde_json::Value =
            serde_json::from_slice(&completion("m\"x", &json_string("hi there"), 10, 2)).unwrap();
        assert_eq!(c["model"], "m\"x");
        assert_eq!(c["usage"]["total_tokens"], 12);
        assert_eq!(c["choices"][0]["message"]["content"], "hi there");
        let e: serde_json::Value =
            serde_json::from_slice(&error("slow down", "rate_limit_error", "rate_limited"))
                .unwrap();
        assert_eq!(e["error"]["type"], "rate_limit_error");
        assert!(serde_json::from_slice::<serde_json::Value>(&malformed()).is_err());
        assert_eq!(completion_text(3), "Hello from the");
    }
}
