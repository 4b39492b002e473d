//! Decoding of OpenAI answers the runner needs: a `chat.completion` body's `usage` (its JSON
//! checked by `json_scan` as it arrives), and a `chat.completion.chunk` event's content and
//! `usage`. Reads only those fields; borrows strings where the JSON has no escapes.

use std::borrow::Cow;

use serde::Deserialize;

use super::json_scan::JsonScan;
use crate::metrics::Usage;

/// What one stream event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkInfo {
    /// Whether any choice's delta has non-empty `content`, `reasoning_content` or `reasoning`.
    pub has_content: bool,
    /// `usage`, when the event carries one (usually the last).
    pub usage: Option<Usage>,
    /// The event reports an error in-band (`{"error": ...}` or `"object": "error"`), as
    /// servers such as vLLM do when generation fails after the headers were sent.
    pub error: bool,
}

/// The body is not a JSON document, and why, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson(pub &'static str);

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<UsageJson>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
    #[serde(default, borrow)]
    object: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reasoning: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UsageJson {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
}

impl From<UsageJson> for Usage {
    fn from(u: UsageJson) -> Self {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens.max(u.prompt_tokens + u.completion_tokens),
            estimated: false,
        }
    }
}

/// Decode one `data:` payload of a chat completion stream; `None` when it is not JSON.
pub fn inspect_chunk(data: &str) -> Option<ChunkInfo> {
    let chunk: Chunk<'_> = serde_json::from_str(data).ok()?;
    let non_empty = |s: &Option<Cow<'_, str>>| s.as_deref().is_some_and(|s| !s.is_empty());
    let has_content = chunk
        .choices
        .iter()
        .filter_map(|c| c.delta.as_ref())
        .any(|d| {
            non_empty(&d.content) || non_empty(&d.reasoning_content) || non_empty(&d.reasoning)
        });
    Some(ChunkInfo {
        has_content,
        usage: chunk.usage.map(Usage::from),
        error: chunk.error.is_some() || chunk.object.as_deref() == Some("error"),
    })
}

/// Decode a non-streaming body: `Ok(usage)` when it is JSON (usage if present). The runner
/// checks bodies as they arrive, with the same [`JsonScan`]; this is it for a whole body.
pub fn inspect_completion(body: &[u8]) -> Result<Option<Usage>, NotJson> {
    let mut scan = JsonScan::default();
    scan.feed(body);
    scan.finish()
}

/// A `usage` value as written: `None` when it is `null` or not a usage object.
pub(crate) fn parse_usage(value: &[u8]) -> Option<Usage> {
    serde_json::from_slice::<Option<UsageJson>>(value)
        .ok()
        .flatten()
        .map(Usage::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_reasoning_and_role_chunks() {
        let content = r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#;
        assert!(inspect_chunk(content).unwrap().has_content);
        let role = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        assert!(!inspect_chunk(role).unwrap().has_content);
        let reasoning = r#"{"choices":[{"delta":{"reasoning_content":"thinking \"hard\""}}]}"#;
        assert!(inspect_chunk(reasoning).unwrap().has_content);
        let vllm_null =
            r#"{"choices":[{"delta":{"content":null},"finish_reason":"stop"}],"usage":null}"#;
        assert_eq!(inspect_chunk(vllm_null), Some(ChunkInfo::default()));
        assert_eq!(inspect_chunk("not json"), None);
    }

    #[test]
    fn in_band_errors() {
        let openai = r#"{"error":{"message":"overloaded","type":"server_error"}}"#;
        assert!(inspect_chunk(openai).unwrap().error);
        let vllm = r#"{"object":"error","message":"engine dead","code":500}"#;
        assert!(inspect_chunk(vllm).unwrap().error);
        let fine = r#"{"object":"chat.completion.chunk","choices":[]}"#;
        assert!(!inspect_chunk(fine).unwrap().error);
    }

    #[test]
    fn usage_chunks_and_completions() {
        let usage =
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#;
        let info = inspect_chunk(usage).unwrap();
        assert_eq!(info.usage.unwrap().completion_tokens, 7);
        assert!(!info.usage.unwrap().estimated);
        let body = br#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#;
        assert_eq!(inspect_completion(body).unwrap().unwrap().total_tokens, 5);
        assert_eq!(inspect_completion(b"{}"), Ok(None));
        assert_eq!(inspect_completion(b"[1,2]"), Ok(None));
        assert!(inspect_completion(br#"{"id":"x","choices":[{"mess"#).is_err());
    }
}
