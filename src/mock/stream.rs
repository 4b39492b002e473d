//! Response bodies of the mock: a whole body, or an SSE stream fed by a task that paces the
//! chunks on absolute deadlines (so timer granularity does not accumulate into drift) and
//! injects the stream faults.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use super::bodies;
use super::pacer::Pacer;

/// Why a body ends abnormally: hyper then drops the connection.
#[derive(Debug, thiserror::Error)]
#[error("mock fault: connection reset")]
pub(crate) struct ResetFault;

/// A response body: whole, or streamed.
pub(crate) enum MockBody {
    /// The whole body at once (content-length set).
    Full(Option<Bytes>),
    /// SSE frames from a pacing task; an `Err` resets the connection.
    Stream(mpsc::Receiver<Result<Bytes, ResetFault>>),
}

impl MockBody {
    /// A whole body.
    pub(crate) fn full(bytes: Bytes) -> Self {
        Self::Full(Some(bytes))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = ResetFault;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ResetFault>>> {
        match &mut *self {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Stream(rx) => rx
                .poll_recv(cx)
                .map(|item| item.map(|r| r.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Stream(_) => SizeHint::default(),
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
    /// Reset the connection after this many content chunks.
    Reset(u32),
}

/// What one streamed answer looks like.
#[derive(Debug, Clone)]
pub(crate) struct StreamPlan {
    /// Model echoed in every chunk.
    pub(crate) model: String,
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

/// Start the task that feeds a stream body, paced by `pacer`; `on_reset` runs before a reset
/// fault's error.
pub(crate) fn spawn(
    plan: StreamPlan,
    pacer: Arc<Pacer>,
    on_reset: impl FnOnce() + Send + 'static,
) -> MockBody {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let start = Instant::now();
        if tx.send(Ok(bodies::role_chunk(&plan.model))).await.is_err() {
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
            if tx
                .send(Ok(bodies::content_chunk(&plan.model, index)))
                .await
                .is_err()
            {
                return;
            }
        }
        match plan.end {
            StreamEnd::Complete => {
                let _ = tx
                    .send(Ok(bodies::final_chunks(
                        &plan.model,
                        plan.prompt_tokens,
                        plan.chunks,
                    )))
                    .await;
            }
            StreamEnd::Truncate(_) => {}
            StreamEnd::Reset(_) => {
                on_reset();
                let _ = tx.send(Err(ResetFault)).await;
            }
        }
    });
    MockBody::Stream(rx)
}
