//! Undoing a body's framing in place: the decoder takes what the read buffer holds, uses up
//! framing bytes (chunk-size lines with their extensions, the CRLF after each chunk, trailer
//! lines) and hands body bytes back as a slice of that same buffer — never a copy. Input may
//! stop at any byte; the decoder then asks for more without losing its place.

use httparse::Status;

use super::Framing;

/// Longest chunk-size line, bytes: the size and 16 KiB of extensions (hyper's limit).
const MAX_SIZE_LINE: usize = (16 << 10) + 32;
/// Most trailer bytes after the last chunk (hyper's limit).
const MAX_TRAILER_BYTES: usize = 16 << 10;
/// Most trailer lines after the last chunk (hyper's limit, as for header lines).
const MAX_TRAILER_LINES: usize = 100;

/// Where in the body the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A `content-length` body with this many bytes left.
    Length(u64),
    /// A chunk-size line is next.
    Size,
    /// Inside a chunk with this many bytes left.
    Data(u64),
    /// The CRLF after a chunk's data is next.
    DataEnd,
    /// Trailer lines after the last chunk, up to an empty line.
    Trailers,
    /// Everything until the connection closes.
    UntilClose,
    /// The body ended.
    Done,
}

/// Decodes one answer's body.
#[derive(Debug)]
pub(crate) struct BodyDecoder {
    state: State,
    /// Trailer bytes seen so far.
    trailer_bytes: usize,
    /// Trailer lines seen so far.
    trailer_lines: usize,
}

/// What one call made of the input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Decoded<'a> {
    /// Bytes of the input used up, framing and `data` alike: drop them from the buffer.
    /// Zero (and no data) means the input ends inside framing: read more.
    pub(crate) used: usize,
    /// Body bytes: a slice of the input, empty when there were none.
    pub(crate) data: &'a [u8],
}

/// A body whose framing is broken: each a `stream` failure, as hyper's body errors are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// A chunk-size line that is not a hexadecimal size with optional extensions.
    ChunkSize,
    /// A chunk-size line longer than `MAX_SIZE_LINE`.
    ChunkExtensions,
    /// Chunk data not followed by CRLF.
    ChunkEnd,
    /// Trailers over `MAX_TRAILER_BYTES` or `MAX_TRAILER_LINES`.
    Trailers,
    /// The connection closed before the body's end.
    Incomplete,
}

impl BodyError {
    /// The reason in words, for an error sample.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::ChunkSize => "the answer's chunk-size line is invalid",
            Self::ChunkExtensions => "the answer's chunk extensions are larger than 16KiB",
            Self::ChunkEnd => "the answer's chunk data is not followed by CRLF",
            Self::Trailers => "the answer's trailers are larger than 16KiB or 100 lines",
            Self::Incomplete => "the connection closed before the body ended",
        }
    }
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`.
    pub(crate) fn new(framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Size,
            Framing::UntilClose => State::UntilClose,
        };
        Self {
            state,
            trailer_bytes: 0,
            trailer_lines: 0,
        }
    }

    /// Whether the body ended.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Take what `input` (the unread bytes) holds: framing up to the next body bytes, and at
    /// most one run of them. Call again with what is left until `used` is zero or the body is
    /// done.
    pub(crate) fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, BodyError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                State::Done => break,
                State::Length(left) | State::Data(left) => {
                    if rest.is_empty() {
                        break;
                    }
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let left = left - n as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), _) => State::Length(left),
                        (_, 0) => State::DataEnd,
                        _ => State::Data(left),
                    };
                    return Ok(Decoded {
                        used: used + n,
                        data: &rest[..n],
                    });
                }
                State::UntilClose => {
                    return Ok(Decoded {
                        used: used + rest.len(),
                        data: rest,
                    });
                }
                State::Size => match httparse::parse_chunk_size(rest) {
                    // httparse reads an empty size as zero: a size needs a digit.
                    Ok(Status::Complete(_)) if !rest[0].is_ascii_hexdigit() => {
                        return Err(BodyError::ChunkSize);
                    }
                    Ok(Status::Complete((line, size))) => {
                        used += line;
                        self.state = if size == 0 {
                            State::Trailers
                        } else {
                            State::Data(size)
                        };
                    }
                    Ok(Status::Partial) if rest.len() > MAX_SIZE_LINE => {
                        return Err(BodyError::ChunkExtensions);
                    }
                    Ok(Status::Partial) => break,
                    Err(httparse::InvalidChunkSize) => return Err(BodyError::ChunkSize),
                },
                State::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        used += 2;
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => break,
                    _ => return Err(BodyError::ChunkEnd),
                },
                State::Trailers => {
                    let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                        if self.trailer_bytes + rest.len() > MAX_TRAILER_BYTES {
                            return Err(BodyError::Trailers);
                        }
                        break;
                    };
                    used += end + 2;
                    if end == 0 {
                        self.state = State::Done;
                        break;
                    }
                    self.trailer_bytes += end + 2;
                    self.trailer_lines += 1;
                    if self.trailer_bytes > MAX_TRAILER_BYTES
                        || self.trailer_lines > MAX_TRAILER_LINES
                    {
                        return Err(BodyError::Trailers);
                    }
                }
            }
        }
        Ok(Decoded { used, data: &[] })
    }

    /// The connection closed: the end of a body read to the close, an error for any other
    /// body not yet done.
    pub(crate) fn eof(&mut self) -> Result<(), BodyError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(BodyError::Incomplete),
        }
    }
}
