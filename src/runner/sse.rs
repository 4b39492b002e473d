//! Server-sent events parser, correct across arbitrary TCP chunk boundaries, `\r\n`, `\r` and
//! `\n` line ends, multi-line `data:` fields and comments. Allocation-free once warm.

/// One dispatched event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseEvent<'a> {
    /// An event's `data` (multi-line fields joined with `\n`), other than `[DONE]`.
    Data(&'a str),
    /// `data: [DONE]`.
    Done,
}

/// Incremental SSE parser; one per worker, `reset` between responses.
#[derive(Debug, Default)]
pub struct SseParser {}

impl SseParser {
    /// A parser with empty buffers.
    pub fn new() -> Self {
        todo!("metrics helper")
    }

    /// Forget any partial event (start of a new response).
    pub fn reset(&mut self) {
        todo!("metrics helper")
    }

    /// Feed the next bytes of the body; `on_event` is called for each complete event.
    /// Returns an error when the data is not UTF-8.
    pub fn feed(
        &mut self,
        _chunk: &[u8],
        _on_event: impl FnMut(SseEvent<'_>),
    ) -> Result<(), SseError> {
        todo!("metrics helper")
    }
}

/// The stream is not valid SSE.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SseError {
    /// An event's data is not UTF-8.
    #[error("event data is not UTF-8")]
    NotUtf8,
}
