//! The OpenAI wire format the mock speaks: completion and chunk JSON, error bodies, the model
//! list. Fixed parts are rendered once per server (the completion's content) or once per stream
//! (the chunk prefix with id, time and model); each answer or chunk is then one buffer of the
//! right size, filled by copying.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// Defines the words completions are made of and, from the same list, each word's content
/// chunk after the per-stream prefix, so that the two cannot drift apart.
macro_rules! words {
    ($($word:literal),* $(,)?) => {
        /// A word per completion token; the content is these repeated.
        const WORDS: [&str; 8] = [$($word),*];
        /// What follows the chunk prefix in content chunk `i`: `WORDS[i % 8]` and a space.
        const CONTENT_SUFFIXES: [&str; 8] = [$(concat!(
            r#"{"index":0,"delta":{"content":""#, $word,
            r#" "},"finish_reason":null}]}"#, "\n\n"
        )),*];
    };
}
words!(
    "Hello", "from", "the", "nitro", "mock", "server", "stream", "token"
);

const ROLE_SUFFIX: &str = concat!(
    r#"{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
    "\n\n"
);
const STOP_SUFFIX: &str = concat!(r#"{"index":0,"delta":{},"finish_reason":"stop"}]}"#, "\n\n");
const DONE: &str = "data: [DONE]\n\n";

/// What makes one answer distinct: its `id` (a per-server counter) and `created` (Unix time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The number in `chatcmpl-mock-N`.
    pub(crate) id: u64,
    /// Seconds since the Unix epoch.
    pub(crate) created: u64,
}

impl Stamp {
    /// Answer number `id`, created now (a vDSO clock read, no system call).
    pub(crate) fn now(id: u64) -> Self {
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self { id, created }
    }
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
pub(crate) fn completion(
    stamp: Stamp,
    model: &str,
    content_json: &str,
    prompt: u64,
    completion: u32,
) -> Bytes {
    let mut out = Vec::with_capacity(256 + content_json.len() + model.len());
    push_head(&mut out, stamp, "chat.completion", model);
    out.extend_from_slice(br#"{"index":0,"message":{"role":"assistant","content":"#);
    out.extend_from_slice(content_json.as_bytes());
    out.extend_from_slice(br#"},"finish_reason":"stop"}],"#);
    push_usage(&mut out, prompt, completion);
    out.push(b'}');
    Bytes::from(out)
}

/// The start every chunk of one stream shares, `data: {"id":…,"choices":[`, rendered once.
#[derive(Debug, Clone)]
pub(crate) struct ChunkPrefix(Bytes);

impl ChunkPrefix {
    /// The prefix of the stream `stamp` names, for `model`.
    pub(crate) fn new(stamp: Stamp, model: &str) -> Self {
        let mut out = Vec::with_capacity(128 + model.len());
        out.extend_from_slice(b"data: ");
        push_head(&mut out, stamp, "chat.completion.chunk", model);
        Self(Bytes::from(out))
    }

    /// The first event: the assistant role with empty content.
    pub(crate) fn role(&self) -> Bytes {
        self.event(ROLE_SUFFIX)
    }

    /// Content event number `index` (one token).
    pub(crate) fn content(&self, index: u32) -> Bytes {
        self.event(CONTENT_SUFFIXES[index as usize % CONTENT_SUFFIXES.len()])
    }

    /// The closing events: `finish_reason`, then usage with empty choices, then `[DONE]`.
    pub(crate) fn closing(&self, prompt: u64, completion: u32) -> Bytes {
        let mut out = Vec::with_capacity(2 * self.0.len() + STOP_SUFFIX.len() + 128);
        out.extend_from_slice(&self.0);
        out.extend_from_slice(STOP_SUFFIX.as_bytes());
        out.extend_from_slice(&self.0);
        out.extend_from_slice(b"],");
        push_usage(&mut out, prompt, completion);
        out.extend_from_slice(b"}\n\n");
        out.extend_from_slice(DONE.as_bytes());
        Bytes::from(out)
    }

    fn event(&self, suffix: &str) -> Bytes {
        let mut out = Vec::with_capacity(self.0.len() + suffix.len());
        out.extend_from_slice(&self.0);
        out.extend_from_slice(suffix.as_bytes());
        Bytes::from(out)
    }
}

/// `{"id":"chatcmpl-mock-N","object":OBJECT,"created":T,"model":MODEL,"choices":[`
fn push_head(out: &mut Vec<u8>, stamp: Stamp, object: &str, model: &str) {
    out.extend_from_slice(br#"{"id":"chatcmpl-mock-"#);
    push_number(out, stamp.id);
    out.extend_from_slice(br#"","object":""#);
    out.extend_from_slice(object.as_bytes());
    out.extend_from_slice(br#"","created":"#);
    push_number(out, stamp.created);
    out.extend_from_slice(br#","model":"#);
    push_json_string(out, model);
    out.extend_from_slice(br#","choices":["#);
}

/// `"usage":{…}`
fn push_usage(out: &mut Vec<u8>, prompt: u64, completion: u32) {
    out.extend_from_slice(br#""usage":{"prompt_tokens":"#);
    push_number(out, prompt);
    out.extend_from_slice(br#","completion_tokens":"#);
    push_number(out, completion);
    out.extend_from_slice(br#","total_tokens":"#);
    push_number(out, prompt + u64::from(completion));
    out.push(b'}');
}

/// `n` in decimal: `itoa`, because `write!`'s formatting machinery was a tenth of the mock's
/// time per answer.
fn push_number(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// An OpenAI-style error body; `param` names the request field at fault, if any.
pub(crate) fn error(message: &str, kind: &str, param: Option<&str>, code: &str) -> Bytes {
    let mut out = Vec::with_capacity(96 + message.len());
    out.extend_from_slice(br#"{"error":{"message":"#);
    push_json_string(&mut out, message);
    out.extend_from_slice(br#","type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(br#"","param":"#);
    match param {
        Some(p) => push_json_string(&mut out, p),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(br#","code":""#);
    out.extend_from_slice(code.as_bytes());
    out.extend_from_slice(br#""}}"#);
    Bytes::from(out)
}

/// `GET /health`.
pub(crate) fn health() -> Bytes {
    Bytes::from_static(br#"{"status":"ok"}"#)
}

/// `GET /v1/models`.
pub(crate) fn models() -> Bytes {
    Bytes::from_static(
        br#"{"object":"list","data":[{"id":"mock-gpt","object":"model","created":0,"owned_by":"nitro-scenario"}]}"#,
    )
}

/// A 200 body that is deliberately not JSON: a `chat.completion` with its own `id`, like every
/// answer, cut off inside its content string.
pub(crate) fn malformed(stamp: Stamp, model: &str) -> Bytes {
    let mut out = Vec::with_capacity(192 + model.len());
    push_head(&mut out, stamp, "chat.completion", model);
    out.extend_from_slice(br#"{"index":0,"message":{"role":"assistant","content":"oops"#);
    Bytes::from(out)
}

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

fn push_json_string(out: &mut Vec<u8>, s: &str) {
    // Serializing a `str` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const STAMP: Stamp = Stamp {
        id: 7,
        created: 1_700_000_000,
    };

    fn json(b: &[u8]) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn completion_and_error_bodies_are_valid_openai_json() {
        let c = json(&completion(STAMP, "m\"x", &json_string("hi there"), 10, 2));
        assert_eq!(c["id"], "chatcmpl-mock-7");
        assert_eq!(c["created"], 1_700_000_000);
        assert_eq!(c["model"], "m\"x");
        assert_eq!(c["usage"]["total_tokens"], 12);
        assert_eq!(c["choices"][0]["message"]["content"], "hi there");
        assert_eq!(c["choices"][0]["finish_reason"], "stop");
        let e = json(&error(
            "slow \"down\"",
            "rate_limit_error",
            None,
            "rate_limited",
        ));
        assert_eq!(e["error"]["message"], "slow \"down\"");
        assert_eq!(e["error"]["type"], "rate_limit_error");
        assert_eq!(e["error"]["param"], Value::Null);
        let e = json(&error("bad", "invalid_request_error", Some("stream"), "x"));
        assert_eq!(e["error"]["param"], "stream");
        assert_eq!(completion_text(3), "Hello from the");
    }

    #[test]
    fn a_malformed_answer_has_its_own_id_and_is_not_json() {
        let body = malformed(STAMP, "m1");
        assert!(serde_json::from_slice::<Value>(&body).is_err());
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            text.starts_with(r#"{"id":"chatcmpl-mock-7","object":"chat.completion","#),
            "{text}"
        );
        assert!(text.contains(r#""model":"m1""#), "{text}");
    }

    #[test]
    fn chunks_share_one_prefix_and_are_sse_events() {
        let prefix = ChunkPrefix::new(STAMP, "m1");
        let event = |b: Bytes| {
            let text = String::from_utf8(b.to_vec()).unwrap();
            let data = text.strip_prefix("data: ").unwrap().strip_suffix("\n\n");
            json(data.unwrap().as_bytes())
        };
        let role = event(prefix.role());
        assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
        for (i, word) in [(0, "Hello "), (9, "from ")] {
            let c = event(prefix.content(i));
            assert_eq!(c["choices"][0]["delta"]["content"], word);
            assert_eq!(
                (&c["id"], &c["model"], &c["object"]),
                (
                    &Value::from("chatcmpl-mock-7"),
                    &Value::from("m1"),
                    &Value::from("chat.completion.chunk")
                )
            );
            assert_eq!(c["created"], 1_700_000_000);
        }
        let closing = String::from_utf8(prefix.closing(5, 3).to_vec()).unwrap();
        let events: Vec<&str> = closing.split_terminator("\n\n").collect();
        assert_eq!(events.len(), 3);
        let stop = json(events[0].strip_prefix("data: ").unwrap().as_bytes());
        assert_eq!(stop["choices"][0]["finish_reason"], "stop");
        let usage = json(events[1].strip_prefix("data: ").unwrap().as_bytes());
        assert_eq!(usage["choices"], serde_json::json!([]));
        assert_eq!(usage["usage"]["total_tokens"], 8);
        assert_eq!(events[2], "data: [DONE]");
    }
}
