//! Decoding of OpenAI answers the runner needs: a `chat.completion` body's `usage`, and a
//! `chat.completion.chunk` event's content and `usage`. Reads only the fields it needs.

use crate::metrics::Usage;

/// What one stream event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkInfo {
    /// Whether any choice's delta has non-empty `content` or `reasoning_content`/`reasoning`.
    pub has_content: bool,
    /// `usage`, when the event carries one (usually the last).
    pub usage: Option<Usage>,
}

/// Decode one `data:` payload of a chat completion stream; `None` when it is not JSON.
pub fn inspect_chunk(_data: &str) -> Option<ChunkInfo> {
    todo!("metrics helper")
}

/// Decode a non-streaming body: `Ok(usage)` when it is JSON (usage if present), `Err(())` when
/// it is not JSON.
pub fn inspect_completion(_body: &[u8]) -> Result<Option<Usage>, NotJson> {
    todo!("metrics helper")
}

/// The body is not a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson;
