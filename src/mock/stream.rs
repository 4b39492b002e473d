//! Response bodies of the mock: a whole body, a body cut short (the JSON faults), or an SSE
//! stream that makes each chunk when hyper asks for the next frame and its deadline has come —
//! absolute deadlines, so timer granularity does not accumulate into drift — and injects the
//! stream faults. No task and no channel per stream: one wake-up of the connection's task per
//! chunk, which is what lets one core serve thousands of streams. A fault never makes a body fail:
//! the body arms the connection's ending and waits, and [`super::conn::MockIo`] ends the
//! connection once hyper has written out everything before it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;

use super::bodies::ChunkPrefix;
use super::conn::{ConnControl, Ending};
use super::lateness::Due;
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
    /// SSE events, each made when it is due. Boxed: it is most of a stream's state, and a
    /// whole body's variant need not be as large.
    Stream(Box<StreamBody>),
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
            Self::Stream(stream) => stream.poll_next(cx),
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
            Self::Partial { .. } | Self::Stream(_) => SizeHint::default(),
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
    /// When the answer was due (arrival + latency): its chunks' deadlines count from here.
    pub(crate) due: Instant,
    /// Delay from the answer's due time to the first content chunk.
    pub(crate) first_chunk: Duration,
    /// Delay between content chunks.
    pub(crate) interval: Duration,
    /// Normal end or a fault.
    pub(crate) end: StreamEnd,
}

/// A stream body's state: where it is in its plan.
pub(crate) struct StreamBody {
    plan: StreamPlan,
    /// The connection to reset.
    conn: Arc<ConnControl>,
    pacer: Arc<Pacer>,
    /// Content chunks the plan sends before its end (fewer than `plan.chunks` for a fault).
    limit: u32,
    /// Frames handed to hyper so far: the role chunk, then the content chunks.
    sent: u32,
    /// The pacer's wake-up for the next content chunk, once asked for.
    wait: Option<oneshot::Receiver<()>>,
    /// The end has been handed over (or a reset armed): no more frames, ever.
    over: bool,
}

/// A stream body that sends `plan`, paced by `pacer`; a reset ends `conn`.
pub(crate) fn body(plan: StreamPlan, pacer: Arc<Pacer>, conn: Arc<ConnControl>) -> MockBody {
    let limit = match plan.end {
        StreamEnd::Complete => plan.chunks,
        StreamEnd::Truncate(n) | StreamEnd::Reset(n) => n.min(plan.chunks),
    };
    MockBody::Stream(Box::new(StreamBody {
        plan,
        conn,
        pacer,
        limit,
        sent: 0,
        wait: None,
        over: false,
    }))
}

impl StreamBody {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = |b: Bytes| Poll::Ready(Some(Ok(Frame::data(b))));
        if self.over {
            // After a reset is armed the body stays pending: ending it would let hyper end
            // the answer cleanly before the connection is reset.
            return match self.plan.end {
                StreamEnd::Reset(_) => Poll::Pending,
                _ => Poll::Ready(None),
            };
        }
        if self.sent == 0 {
            self.sent = 1;
            return frame(self.plan.prefix.role());
        }
        let index = self.sent - 1;
        if index < self.limit {
            let plan = &self.plan;
            let due = plan.due + plan.first_chunk + plan.interval * index;
            if self.wait.is_none() {
                self.wait = self.pacer.wake_at(due);
            }
            if let Some(wait) = &mut self.wait {
                // An error is a stopped pacer: the chunk goes now rather than never.
                let _ = ready!(Pin::new(wait).poll(cx));
                self.wait = None;
            }
            let late = Instant::now().saturating_duration_since(due);
            let kind = if index == 0 {
                Due::FirstChunk
            } else {
                Due::Chunk
            };
            self.pacer.lateness().record(kind, late);
            self.sent += 1;
            return frame(self.plan.prefix.content(index));
        }
        self.over = true;
        match self.plan.end {
            StreamEnd::Complete => frame(
                self.plan
                    .prefix
                    .closing(self.plan.prompt_tokens, self.plan.chunks),
            ),
            StreamEnd::Truncate(_) => Poll::Ready(None),
            StreamEnd::Reset(_) => {
                self.conn.arm(Ending::Reset);
                Poll::Pending
            }
        }
    }
}
