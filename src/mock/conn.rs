//! The mock's side of one TCP connection: the socket hyper reads and writes through, wrapped so
//! that an answer can end the way a fault or a 413 asks:
//!
//! - `Reset`: once hyper has handed over every byte of the answer so far, wait (bounded) until
//!   the kernel's send queue is empty — the client has acknowledged those bytes — then close
//!   with `SO_LINGER` 0, so the client reads everything sent and *then* sees a TCP reset;
//! - `Close`: close right after the bytes so far (a body cut short of its `content-length`);
//! - `Linger`: after the answer, shut down our side and keep reading (and discarding) what the
//!   client still sends, bounded, so that a client still uploading a refused body reads the 413
//!   instead of a reset.
//!
//! Owning the socket here is what makes the `ioctl` on its fd sound, and `SO_LINGER` land on
//! the right socket: the fd cannot be closed and reused while this value lives. Routes only arm an ending through the
//! connection's [`ConnControl`]; hyper drives the rest by calling `poll_flush` and
//! `poll_shutdown`.

use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Longest wait for the client to acknowledge the bytes before a reset: a client that stopped
/// reading must not hold the connection.
const SEND_QUEUE_WAIT: Duration = Duration::from_secs(1);
/// How often the send queue is looked at while waiting.
const SEND_QUEUE_POLL: Duration = Duration::from_millis(1);
/// Longest lingering close: how long a refused upload may go on being read and discarded.
const LINGER_LIMIT: Duration = Duration::from_secs(2);

/// How the connection ends after the current answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Ending {
    /// Normally: keep-alive, or whatever hyper decides.
    Normal = 0,
    /// TCP reset once the bytes so far are acknowledged.
    Reset = 1,
    /// Plain close after the bytes so far.
    Close = 2,
    /// Lingering close: shut down our side, then read and discard until the client closes.
    Linger = 3,
}

/// The part of a connection that routes and bodies may touch: which ending is armed. Shared
/// between the service (which arms) and [`MockIo`] (which acts); an atomic because hyper's
/// connection future must be `Send`.
#[derive(Debug, Default)]
pub(crate) struct ConnControl {
    ending: AtomicU8,
}

impl ConnControl {
    /// End the connection this way once the current answer's bytes are handed over.
    pub(crate) fn arm(&self, ending: Ending) {
        self.ending.store(ending as u8, Ordering::Relaxed);
    }

    fn armed(&self) -> Ending {
        match self.ending.load(Ordering::Relaxed) {
            1 => Ending::Reset,
            2 => Ending::Close,
            3 => Ending::Linger,
            _ => Ending::Normal,
        }
    }
}

/// The accepted socket as hyper sees it.
pub(crate) struct MockIo {
    stream: TcpStream,
    control: std::sync::Arc<ConnControl>,
    /// Timer of the bounded waits (send queue, lingering close), created on first use.
    wait: Option<Wait>,
    /// Our side is shut down (lingering close in progress).
    shut: bool,
}

struct Wait {
    until: Instant,
    tick: Pin<Box<Sleep>>,
}

impl MockIo {
    /// Wrap an accepted socket; `control` is the handle the connection's service arms.
    pub(crate) fn new(stream: TcpStream, control: std::sync::Arc<ConnControl>) -> Self {
        Self {
            stream,
            control,
            wait: None,
            shut: false,
        }
    }

    /// Ready once the send queue is empty or the wait ran out.
    fn poll_sent(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let wait = self.wait.get_or_insert_with(|| Wait {
                until: Instant::now() + SEND_QUEUE_WAIT,
                tick: Box::pin(tokio::time::sleep(SEND_QUEUE_POLL)),
            });
            if unacknowledged_bytes(&self.stream) == 0 || Instant::now() >= wait.until {
                return Poll::Ready(());
            }
            ready!(wait.tick.as_mut().poll(cx));
            wait.tick.as_mut().reset(Instant::now() + SEND_QUEUE_POLL);
        }
    }

    /// Read and discard until the client closes, errs, or the linger limit passes.
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let wait = self.wait.get_or_insert_with(|| Wait {
            until: Instant::now() + LINGER_LIMIT,
            tick: Box::pin(tokio::time::sleep(LINGER_LIMIT)),
        });
        if wait.tick.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let mut scratch = [0u8; 8192];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf)) {
                Ok(()) if buf.filled().is_empty() => return Poll::Ready(()),
                Ok(()) => {}
                Err(_) => return Poll::Ready(()),
            }
        }
    }
}

impl AsyncRead for MockIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for MockIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    /// hyper calls this after writing out everything it buffered, so an armed reset or close
    /// acts here: nothing of the answer so far is left behind in hyper's buffer.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.control.armed() {
            Ending::Normal | Ending::Linger => Poll::Ready(Ok(())),
            Ending::Reset => {
                ready!(this.poll_sent(cx));
                // Best effort: if it fails the client sees a plain close, still a broken answer.
                let _ = this.stream.set_zero_linger();
                // The error makes hyper drop the connection, and so close the socket.
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "mock fault: reset",
                )))
            }
            Ending::Close => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "mock fault: answer cut short",
            ))),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.shut {
            ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            this.shut = true;
        }
        if this.control.armed() == Ending::Linger {
            ready!(this.poll_discard(cx));
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for MockIo {
    fn drop(&mut self) {
        // A reset armed before the headers: hyper drops the connection without flushing.
        if self.control.armed() == Ending::Reset {
            let _ = self.stream.set_zero_linger();
        }
    }
}

/// Bytes written to the socket that the peer has not acknowledged yet (`SIOCOUTQ`); 0 when
/// the kernel cannot tell, so that a failure never holds a connection.
fn unacknowledged_bytes(stream: &TcpStream) -> libc::c_int {
    let mut queued: libc::c_int = 0;
    // SAFETY: the fd belongs to `stream`, borrowed for the call; SIOCOUTQ (= TIOCOUTQ on Linux)
    // writes one int through the pointer, which points at `queued`.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
    if rc == 0 { queued } else { 0 }
}
