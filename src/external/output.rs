//! A client's stdout and stderr: read continuously so that a client writing a flood never
//! blocks on a full pipe, keeping only the last [`TAIL_BYTES`] of each so that memory stays
//! bounded whatever it writes.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bytes kept of each stream: the end, where a summary and the last error are.
pub const TAIL_BYTES: usize = 64 * 1024;

/// The last bytes of a stream, and how many went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tail {
    kept: VecDeque<u8>,
    limit: usize,
    total: u64,
}

impl Tail {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            kept: VecDeque::with_capacity(limit),
            limit,
            total: 0,
        }
    }

    /// Append `bytes`, dropping the oldest beyond the limit.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let bytes = &bytes[bytes.len().saturating_sub(self.limit)..];
        let over = (self.kept.len() + bytes.len()).saturating_sub(self.limit);
        self.kept.drain(..over);
        self.kept.extend(bytes);
    }

    /// Bytes written to the stream in all.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// What is kept, as text (invalid UTF-8, such as a character cut at the start, replaced).
    pub(crate) fn text(&self) -> String {
        let (a, b) = self.kept.as_slices();
        let mut bytes = Vec::with_capacity(a.len() + b.len());
        bytes.extend_from_slice(a);
        bytes.extend_from_slice(b);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A stream being read in the background.
#[derive(Debug)]
pub(crate) struct Drain {
    task: JoinHandle<Tail>,
    give_up: oneshot::Sender<()>,
}

impl Drain {
    /// Start reading the pipe `fd` (must be called inside a tokio runtime).
    pub(crate) fn start(fd: OwnedFd) -> io::Result<Self> {
        let pipe = pipe::Receiver::from_owned_fd(fd)?;
        let (give_up, stop) = oneshot::channel();
        let task = tokio::spawn(read_into_tail(pipe, stop));
        Ok(Self { task, give_up })
    }

    /// The tail once the stream ends, or after `limit` if it does not (a process outside
    /// the client's group may still hold it open).
    pub(crate) async fn finish(mut self, limit: std::time::Duration) -> Tail {
        if let Ok(done) = tokio::time::timeout(limit, &mut self.task).await {
            return done.unwrap_or_else(|_| Tail::new(0));
        }
        let _ = self.give_up.send(());
        self.task.await.unwrap_or_else(|_| Tail::new(0))
    }
}

async fn read_into_tail(mut pipe: pipe::Receiver, mut give_up: oneshot::Receiver<()>) -> Tail {
    let mut tail = Tail::new(TAIL_BYTES);
    let mut buf = vec![0u8; TAIL_BYTES];
    loop {
        tokio::select! {
            read = pipe.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => tail.push(&buf[..n]),
            },
            _ = &mut give_up => break,
        }
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_keeps_the_last_bytes_and_counts_all() {
        let mut t = Tail::new(4);
        t.push(b"ab");
        assert_eq!(t.text(), "ab");
        t.push(b"cde");
        assert_eq!(t.text(), "bcde");
        t.push(b"0123456789");
        assert_eq!(t.text(), "6789");
        t.push(b"");
        t.push(b"x");
        assert_eq!((t.text().as_str(), t.total()), ("789x", 16));
        assert!(t.kept.capacity() < 64, "memory stays bounded");
    }

    #[test]
    fn a_character_cut_at_the_start_is_replaced() {
        let mut t = Tail::new(3);
        t.push("aé!".as_bytes());
        t.push(b"?");
        assert_eq!(t.text(), "\u{fffd}!?");
    }
}
