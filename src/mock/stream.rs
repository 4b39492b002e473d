//! Response bodies of the mock: a whole body, a body cut short (the JSON faults), or an SSE
//! stream fed by a task that paces the chunks on absolute deadlines (so timer granularity does
//! not accumulate into drift) and injects the stream faults. A fault never makes a body fail:
//! the body arms the connection's ending and waits, and [`super::conn::MockIo`] ends the
//! connection once hyper has written out everything before it.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use super::bodies::ChunkPrefix;
use super::conn::{ConnControl, Ending};
use super::pacer::Pacer;

/// The service's error: hyper then drops the connection without an answer (a reset armed
/// before the headers).
#[derive(Debug, thiserror::Error)]
#[error("mock fault: connection reset")]
pub(crate) struct ResetFault;

/// A response body.
pub(crate) enum MockBody {
    /// The whole body at once (content-length set).
    Full(Option<Bytes>),
    /// Part of a body whose `content-length` the headers promise in full; after it, the
    /// connection ends as `then` says.
    Partial {
        /// The bytes that are sent.
        bytes: Option<Bytes>,
        /// `Reset` or `Close`.
        then: Ending,
        /// The connection to end.
        conn: Arc<ConnControl>,
    },
    /// SSE events from a pacing task; an `Err` from it arms a reset.
    Stream {
        /// The pacing task's events.
        events: mpsc::Receiver<Result<Bytes, ResetFault>>,
        /// The connection to reset.
        conn: Arc<ConnControl>,
        /// A reset is armed: no more frames, ever.
        cut: bool,
    },
}

impl MockBody {
    /// A whole body.
    pub(crate) fn full(bytes: Bytes) -> Self {
        Self::Full(Some(bytes))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut *self {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Partial { bytes, then, conn } => match bytes.take() {
                Some(b) if !b.is_empty() => Poll::Ready(Some(Ok(Frame::data(b)))),
                _ => {
                    // Pending, not the end: ending the body would let hyper notice the short
                    // length and drop the connection before flushing what was sent.
                    conn.arm(*then);
                    Poll::Pending
                }
            },
            Self::Stream { events, conn, cut } => {
                if *cut {
                    return Poll::Pending;
                }
                match events.poll_recv(cx) {
                    Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                    Poll::Ready(Some(Err(ResetFault))) => {
                        conn.arm(Ending::Reset);
                        *cut = true;
                        Poll::Pending
                    }
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            // Unknown, so that hyper takes the length from the `content-length` header.
            Self::Partial { .. } | Self::Stream { .. } => SizeHint::default(),
        }
    }
}

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// Usage chunk and `[DONE]`.
    Complete,
    /// Stop after this many content chunks, cleanly, without usage or `[DONE]`.
    Truncate(u32),
    /// Reset the connection after this many content chunks have reached the client.
    Reset(u32),
}

/// What one streamed answer looks like.
#[derive(Debug, Clone)]
pub(crate) struct StreamPlan {
    /// The start of every chunk: id, time, model.
    pub(crate) prefix: ChunkPrefix,
    /// Prompt tokens reported in usage.
    pub(crate) prompt_tokens: u64,
    /// Content chunks.
    pub(crate) chunks: u32,
    /// Delay from the headers to the first content chunk.
    pub(crate) first_chunk: Duration,
    /// Delay between content chunks.
    pub(crate) interval: Duration,
    /// Normal end or a fault.
    pub(crate) end: StreamEnd,
}

/// Start the task that feeds a stream body, paced by `pacer`; a reset ends `conn`.
pub(crate) fn spawn(plan: StreamPlan, pacer: Arc<Pacer>, conn: Arc<ConnControl>) -> MockBody {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let start = Instant::now();
        if tx.send(Ok(plan.prefix.role())).await.is_err() {
            return;
        }
        let limit = match plan.end {
            StreamEnd::Complete => plan.chunks,
            StreamEnd::Truncate(n) | StreamEnd::Reset(n) => n.min(plan.chunks),
        };
        for index in 0..limit {
            // Absolute deadlines: a late chunk does not push the later ones back.
            pacer
                .sleep_until(start + plan.first_chunk + plan.interval * index)
                .await;
            if tx.send(Ok(plan.prefix.content(index))).await.is_err() {
                return;
            }
        }
        let last = match plan.end {
            StreamEnd::Complete => Ok(plan.prefix.closing(plan.prompt_tokens, plan.chunks)),
            StreamEnd::Truncate(_) => return,
            StreamEnd::Reset(_) => Err(ResetFault),
        };
        let _ = tx.send(last).await;
    });
    MockBody::Stream {
        events: rx,
        conn,
        cut: false,
    }
}
