//! The lean path for plain `http://`, the default there: each worker owns one TCP connection
//! and speaks HTTP/1.1 on it itself, through the `http1` codec — no connection task, no
//! channel between the worker and its connection, no lock, no per-request allocation for
//! answers up to 8 KiB. The read buffer starts at 1 KiB, grows while reads fill it and goes
//! back after an answer that grew it past 8 KiB. The request is serialized once per point and
//! written in one call; body bytes go to the `Exchange` as slices of the read buffer; the
//! attempt timer is re-armed only when it fires.
//!
//! It counts every attempt as the hyper transport does: no connection is `connect`; sent but
//! closed or reset before a whole head is `reset`; a head that is not HTTP is `decode`; a body
//! broken or cut short is `stream`; the whole attempt past `target.timeout` is `timeout`. A
//! connection is kept only after a whole answer that allows it (`connection: close`, HTTP/1.0
//! without keep-alive and bodies read to the close do not). Where hyper races its writer
//! against its reader — a server that answers (a 413) and closes before taking the whole
//! body — this transport always reads the answer that came.

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::http1::{self, BodyDecoder, Framing, Parsed};
use super::tcp::Addrs;
use super::{Connector, Prepared, Transport};
use crate::metrics::{FailureKind, Observation};
use crate::runner::RunError;
use crate::runner::cause::Cause;
use crate::runner::exchange::{Exchange, Failed};
use crate::scenario::Target;

/// First size of a connection's read buffer, bytes: a small JSON answer with its head, or a
/// few stream events, in one read. A point may hold 10,000 connections.
const INITIAL_READ: usize = 1 << 10;
/// Largest read buffer kept after an answer, bytes (hyper's size); one grown past it by a
/// large answer goes back to `INITIAL_READ` once that answer is read.
const KEEP_READ: usize = 8 << 10;
/// Largest read of body bytes: the buffer doubles up to it while reads fill it. Not for SSE
/// streams, nor heads: their events and lines are parsed as they come (a partial line waits
/// in the parser), so small reads serve them as well, and a stream the server sends in bursts
/// does not leave thousands of connections each holding a grown buffer. Any buffer still
/// grows when what it must hold whole (a head, a chunk-size line) does not fit.
const MAX_BODY_READ: usize = 64 << 10;

/// Makes lean transports for one server.
#[derive(Clone)]
pub(crate) struct LeanConnector {
    addrs: Arc<Addrs>,
}

impl LeanConnector {
    /// Resolve the base URL's host once. `shown` is the base URL as messages may show it
    /// (secrets redacted).
    pub(crate) async fn new(
        base: &url::Url,
        shown: &str,
        target: &Target,
    ) -> Result<Self, RunError> {
        Ok(Self {
            addrs: Arc::new(Addrs::resolve(base, shown, "lean", target.connect_timeout).await?),
        })
    }
}

impl Connector for LeanConnector {
    type Transport = LeanTransport;

    fn transport(&self) -> LeanTransport {
        LeanTransport {
            conn: Conn {
                addrs: Arc::clone(&self.addrs),
                stream: None,
                buf: ReadBuf::default(),
            },
            timer: None,
        }
    }
}

/// One worker's connection and its attempt timer.
pub(crate) struct LeanTransport {
    conn: Conn,
    /// The whole-attempt timeout, armed lazily: it keeps the deadline of an earlier attempt
    /// until it fires, and only then moves to the current attempt's. Attempts far shorter
    /// than `target.timeout` so cost no timer update at all; an attempt still times out at
    /// its own deadline exactly.
    timer: Option<Pin<Box<Sleep>>>,
}

/// The connection, its address book and its read buffer.
struct Conn {
    addrs: Arc<Addrs>,
    stream: Option<TcpStream>,
    buf: ReadBuf,
}

impl Transport for LeanTransport {
    async fn send(&mut self, req: &Prepared, ex: &mut Exchange, obs: &mut Observation) {
        let start = Instant::now();
        ex.begin(obs, start);
        let deadline = start + req.timeout;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        }
        let outcome = {
            let mut attempt = pin!(self.conn.attempt(req, ex, obs));
            poll_fn(|cx| {
                if let Poll::Ready(done) = attempt.as_mut().poll(cx) {
                    return Poll::Ready(Some(done));
                }
                while timer.as_mut().poll(cx).is_ready() {
                    if Instant::now() >= deadline {
                        return Poll::Ready(None);
                    }
                    timer.as_mut().reset(deadline);
                }
                Poll::Pending
            })
            .await
        };
        // A connection that failed, timed out, outgrew a limit or may not carry another
        // request is closed.
        match outcome {
            Some(Ok(true)) => return,
            Some(Ok(false)) => {}
            Some(Err(failed)) => ex.fail(obs, failed, Instant::now()),
            None => ex.time_out(obs, Instant::now()),
        }
        self.conn.stream = None;
    }
}

impl Conn {
    /// One attempt: (re)connect as needed, send, read the answer into `ex`. `Ok(true)` when
    /// the connection may carry the next request. Bytes count as arrived when the read that
    /// brought them returned.
    async fn attempt(
        &mut self,
        req: &Prepared,
        ex: &mut Exchange,
        obs: &mut Observation,
    ) -> Result<bool, Failed> {
        let Self { addrs, stream, buf } = self;
        if stream.as_ref().is_some_and(closed_while_idle) {
            *stream = None;
        }
        let stream = match stream {
            Some(stream) => stream,
            None => {
                buf.reset();
                // Boxed: the connect's state is most of an attempt's, and would otherwise
                // sit in every worker's task for the whole run; a connect is rare.
                stream.insert(Box::pin(addrs.connect()).await?)
            }
        };
        let sent_whole = match write_request(stream, &req.http1, &req.body).await {
            Ok(()) => true,
            // A server may answer before it takes the whole body (a 413, a 401) and close:
            // when that answer's head is already here, it is what the server said.
            Err(_) if buf.answered_early(stream, &req.method) => false,
            Err(e) => return Err(Failed::new(FailureKind::Reset, Cause::Io(e))),
        };
        let (framing, keep_alive, mut now) = read_head(stream, buf, req, ex, obs).await?;
        let broken =
            |e: http1::BodyError| Failed::new(FailureKind::Stream, Cause::Said(e.describe()));
        let mut body = BodyDecoder::new(framing);
        let ahead = if req.answer.stream { 0 } else { MAX_BODY_READ };
        loop {
            let decoded = body.decode(buf.unread()).map_err(broken)?;
            if !decoded.data.is_empty() {
                ex.chunk(obs, decoded.data, now)?;
            }
            let used = decoded.used;
            buf.consume(used);
            if body.is_done() {
                break;
            }
            if used == 0 {
                let read = buf.read_from(stream, MAX_BODY_READ, ahead).await;
                now = Instant::now();
                if read.map_err(|e| Failed::new(FailureKind::Stream, Cause::Io(e)))? == 0 {
                    body.eof().map_err(broken)?;
                }
            }
        }
        ex.finish(obs, now);
        // Bytes past the answer are no answer to anything we sent: the connection is not
        // trusted with another request.
        let reusable = keep_alive && sent_whole && !req.http1.close && buf.unread().is_empty();
        if reusable {
            buf.settle();
        }
        Ok(reusable)
    }
}

/// Read up to the final answer's head (skipping interim 1xx answers), hand it to `ex`, and
/// return its body's framing, whether it keeps the connection open, and when it arrived.
async fn read_head(
    stream: &mut TcpStream,
    buf: &mut ReadBuf,
    req: &Prepared,
    ex: &mut Exchange,
    obs: &mut Observation,
) -> Result<(Framing, bool, Instant), Failed> {
    loop {
        if !buf.unread().is_empty() {
            let now = Instant::now();
            let mut storage = http1::new_header_storage();
            match http1::parse_head(buf.unread(), &mut storage, &req.method) {
                Ok(Parsed::Final(head)) => {
                    ex.headers(obs, &req.answer, head.status, &head.headers, now);
                    let (len, framing, keep_alive) = (head.len, head.framing, head.keep_alive);
                    buf.consume(len);
                    return Ok((framing, keep_alive, now));
                }
                Ok(Parsed::Interim(len)) => {
                    buf.consume(len);
                    continue;
                }
                Ok(Parsed::Partial) => {}
                Err(e) => return Err(Failed::new(FailureKind::Decode, Cause::Said(e.describe()))),
            }
        }
        let read = buf.read_from(stream, http1::MAX_HEAD_BYTES + 1, 0).await;
        if read.map_err(|e| Failed::new(FailureKind::Reset, Cause::Io(e)))? == 0 {
            return Err(Failed::new(
                FailureKind::Reset,
                Cause::Said("the connection closed before the answer's head ended"),
            ));
        }
    }
}

/// Write the request: in one piece when its body is inline, else the head and the body
/// together, in one system call when the socket takes them whole.
async fn write_request(
    stream: &mut TcpStream,
    wire: &http1::RequestHead,
    body: &[u8],
) -> io::Result<()> {
    let head = &wire.bytes[..];
    if wire.with_body {
        return stream.write_all(head).await;
    }
    let mut written = 0;
    while written < head.len() + body.len() {
        let n = match head.get(written..) {
            Some(rest) if !rest.is_empty() => {
                stream
                    .write_vectored(&[IoSlice::new(rest), IoSlice::new(body)])
                    .await?
            }
            _ => stream.write(&body[written - head.len()..]).await?,
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        written += n;
    }
    Ok(())
}

/// Whether the server closed (or spoke on) the connection while it sat idle between
/// requests, as far as the runtime has heard: a request sent on it would be refused unread,
/// so a fresh connection is opened — as hyper does when its connection is no longer ready.
/// A quiet connection costs no system call: the last short read cleared its readiness.
fn closed_while_idle(stream: &TcpStream) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    match stream.poll_read_ready(&mut cx) {
        Poll::Pending => false,
        Poll::Ready(Err(_)) => true,
        Poll::Ready(Ok(())) => !matches!(
            stream.try_read(&mut [0u8; 1]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        ),
    }
}

/// A connection's read buffer: `bytes[start..end]` is read and not yet used.
#[derive(Debug)]
struct ReadBuf {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for ReadBuf {
    fn default() -> Self {
        Self {
            bytes: vec![0; INITIAL_READ],
            start: 0,
            end: 0,
        }
    }
}

impl ReadBuf {
    /// The bytes read and not yet used.
    fn unread(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// Mark `n` unread bytes used.
    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
    }

    /// Forget everything (a new connection); a buffer a large answer grew is given back.
    fn reset(&mut self) {
        (self.start, self.end) = (0, 0);
        self.settle();
    }

    /// Between answers (nothing unread): give back a buffer a large answer grew past
    /// `KEEP_READ`, so that thousands of connections do not each keep the largest answer's.
    fn settle(&mut self) {
        if self.bytes.len() > KEEP_READ && self.start == self.end {
            (self.start, self.end) = (0, 0);
            self.bytes = vec![0; INITIAL_READ];
        }
    }

    /// Whether a whole answer head to a request of `method` is waiting on `stream` (the
    /// socket read without waiting until it has nothing more).
    fn answered_early(&mut self, stream: &TcpStream, method: &http::Method) -> bool {
        loop {
            if self.end == self.bytes.len() {
                self.grow(http1::MAX_HEAD_BYTES + 1);
            }
            match stream.try_read(&mut self.bytes[self.end..]) {
                Ok(n) if n > 0 => self.end += n,
                _ => break,
            }
        }
        let mut storage = http1::new_header_storage();
        matches!(
            http1::parse_head(self.unread(), &mut storage, method),
            Ok(Parsed::Final(_))
        )
    }

    /// Read once from `stream` after the unread bytes; how many came (0: the server closed).
    /// The buffer doubles when it is full, up to `limit`, and after a read that filled it, up
    /// to `ahead` (more is likely waiting: read it in fewer calls).
    async fn read_from(
        &mut self,
        stream: &mut TcpStream,
        limit: usize,
        ahead: usize,
    ) -> io::Result<usize> {
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.end == self.bytes.len() {
            self.grow(limit);
        }
        let room = self.bytes.len() - self.end;
        if room == 0 {
            // The codec refuses heads and framing lines well before this.
            return Err(io::Error::other("the read buffer is full"));
        }
        let n = stream.read(&mut self.bytes[self.end..]).await?;
        self.end += n;
        if n == room {
            self.grow(ahead);
        }
        Ok(n)
    }

    fn grow(&mut self, limit: usize) {
        let size = (self.bytes.len() * 2).min(limit);
        if size > self.bytes.len() {
            self.bytes.resize(size, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_grown_past_what_is_kept_goes_back_after_the_answer() {
        let mut buf = ReadBuf::default();
        assert_eq!(buf.bytes.len(), INITIAL_READ);
        buf.grow(KEEP_READ);
        buf.grow(KEEP_READ);
        buf.grow(KEEP_READ);
        buf.grow(KEEP_READ);
        assert_eq!(buf.bytes.len(), KEEP_READ);
        buf.settle();
        assert_eq!(
            buf.bytes.len(),
            KEEP_READ,
            "kept: no allocation per mid-size answer"
        );
        buf.grow(MAX_BODY_READ);
        // Unread bytes are never dropped.
        buf.end = 10;
        buf.settle();
        assert_eq!(buf.bytes.len(), 2 * KEEP_READ);
        buf.consume(10);
        buf.settle();
        assert_eq!(buf.bytes.len(), INITIAL_READ);
        while buf.bytes.len() <= KEEP_READ {
            buf.grow(MAX_BODY_READ);
        }
        buf.reset();
        assert_eq!(
            buf.bytes.len(),
            INITIAL_READ,
            "a new connection starts small"
        );
    }
}
