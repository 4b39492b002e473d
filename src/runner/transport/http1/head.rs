//! Message heads: the request head, serialized once per point, and the answer's head —
//! status, how its body is framed, whether the connection stays open, and its header lines
//! for the `Exchange`, all read in place from the read buffer.

use std::mem::MaybeUninit;

use http::{HeaderMap, Method, Uri, header};

use crate::runner::exchange::AnswerHeaders;

/// Most header lines an answer may have (hyper's default).
const MAX_HEADERS: usize = 100;
/// Largest answer head, bytes (hyper's default read buffer limit, 408 KiB).
pub(crate) const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// Bodies up to this size are written in one piece with the head (a copy per point, one
/// system call per request); larger ones after it, from the shared body.
const INLINE_BODY_BYTES: usize = 16 << 10;

/// A point's request as written on the wire, serialized once.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    /// Request line, header lines and the empty line, then the body when `with_body`.
    pub(crate) bytes: Vec<u8>,
    /// Whether `bytes` ends with the body (else the body is written after them).
    pub(crate) with_body: bool,
    /// The request asks the server to close the connection after its answer.
    pub(crate) close: bool,
}

impl RequestHead {
    /// The request `method target HTTP/1.1` with `headers` (which carry `host`) and `body`,
    /// framed as hyper frames a known-length body: `content-length` when there is a body
    /// (replacing any the headers set), none when there is not, and never
    /// `transfer-encoding`, since the body is sent whole.
    pub(crate) fn new(method: &Method, target: &Uri, headers: &HeaderMap, body: &[u8]) -> Self {
        let path = target.path_and_query().map_or("/", |p| p.as_str());
        let with_body = body.len() <= INLINE_BODY_BYTES;
        let inline = if with_body { body.len() } else { 0 };
        let mut bytes = Vec::with_capacity(64 + path.len() + 32 * headers.len() + inline);
        for part in [method.as_str(), " ", path, " HTTP/1.1\r\n"] {
            bytes.extend_from_slice(part.as_bytes());
        }
        for (name, value) in headers {
            if name == header::TRANSFER_ENCODING
                || (!body.is_empty() && name == header::CONTENT_LENGTH)
            {
                continue;
            }
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        if !body.is_empty() {
            bytes.extend_from_slice(b"content-length: ");
            bytes.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        if with_body {
            bytes.extend_from_slice(body);
        }
        let close = headers
            .get_all(header::CONNECTION)
            .iter()
            .any(|v| has_token(v.as_bytes(), "close"));
        Self {
            bytes,
            with_body,
            close,
        }
    }
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body: an answer to `HEAD`, a 101, 204 or 304.
    Empty,
    /// `content-length` bytes.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// Room for the header lines of one answer, filled by the parser (no initialization cost).
pub(crate) type HeaderStorage<'b> = [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS];

/// Empty room for `parse_head`.
pub(crate) fn new_header_storage<'b>() -> HeaderStorage<'b> {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// What the start of the read buffer holds.
#[derive(Debug)]
pub(crate) enum Parsed<'h, 'b> {
    /// Not a whole head yet: read more.
    Partial,
    /// An interim (1xx) answer of this many bytes, to skip: the final answer follows it.
    Interim(usize),
    /// The final answer's head.
    Final(Head<'h, 'b>),
}

/// The final answer's head.
#[derive(Debug)]
pub(crate) struct Head<'h, 'b> {
    /// Status code.
    pub(crate) status: u16,
    /// Length of the head, bytes: the body starts there.
    pub(crate) len: usize,
    /// How the body is delimited.
    pub(crate) framing: Framing,
    /// Whether the connection may carry another request once the body is read.
    pub(crate) keep_alive: bool,
    /// The header lines, for the `Exchange`.
    pub(crate) headers: Headers<'h, 'b>,
}

/// Header lines as parsed, looked up by name without building a map.
#[derive(Debug)]
pub(crate) struct Headers<'h, 'b>(&'h [httparse::Header<'b>]);

impl AnswerHeaders for Headers<'_, '_> {
    fn first(&self, name: &http::HeaderName) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name.as_str()))
            .map(|h| h.value)
    }
}

/// Why an answer's head is not one: each a `decode` failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// `httparse` refused it.
    Syntax(httparse::Error),
    /// A status code below 100.
    Status,
    /// Longer than `MAX_HEAD_BYTES`.
    TooLarge,
    /// `content-length` values that are not one number.
    ContentLength,
    /// `transfer-encoding` in an HTTP/1.0 answer.
    TransferEncodingOnHttp10,
}

impl HeadError {
    /// The reason in words, for an error sample.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Syntax(httparse::Error::Version) => "the answer is not HTTP/1.x",
            Self::Syntax(httparse::Error::Status) | Self::Status => {
                "the answer's status line is invalid"
            }
            Self::Syntax(httparse::Error::TooManyHeaders) => {
                "the answer's head has more than 100 header lines"
            }
            Self::Syntax(httparse::Error::HeaderName) => "the answer has an invalid header name",
            Self::Syntax(httparse::Error::HeaderValue) => "the answer has an invalid header value",
            Self::Syntax(httparse::Error::NewLine | httparse::Error::Token) => {
                "the answer's head is not valid HTTP"
            }
            Self::TooLarge => "the answer's head is larger than 408KiB",
            Self::ContentLength => "the answer's `content-length` is invalid",
            Self::TransferEncodingOnHttp10 => "an HTTP/1.0 answer has a `transfer-encoding`",
        }
    }
}

/// Parse the answer at the start of `buf`, sent for a request of `method`, keeping its header
/// lines in `storage`.
pub(crate) fn parse_head<'h, 'b>(
    buf: &'b [u8],
    storage: &'h mut HeaderStorage<'b>,
    method: &Method,
) -> Result<Parsed<'h, 'b>, HeadError> {
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        storage,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD_BYTES => len,
        Ok(httparse::Status::Complete(_)) => return Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            return Err(HeadError::TooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(Parsed::Partial),
        Err(e) => return Err(HeadError::Syntax(e)),
    };
    let (Some(status), Some(version)) = (response.code, response.version) else {
        return Err(HeadError::Status);
    };
    let headers: &'h [httparse::Header<'b>] = response.headers;
    let http11 = version == 1;
    let lines = Lines::scan(headers, http11);
    let framing = match status {
        0..=99 => return Err(HeadError::Status),
        100 | 102..=199 => return Ok(Parsed::Interim(len)),
        101 | 204 | 304 => Framing::Empty,
        _ if *method == Method::HEAD => Framing::Empty,
        200..=299 if *method == Method::CONNECT => Framing::Empty,
        _ => lines.body_framing(http11)?,
    };
    // 101 and a 2xx to CONNECT hand the connection over to another protocol.
    let upgraded = status == 101 || (*method == Method::CONNECT && (200..=299).contains(&status));
    // HTTP/1.1 stays open unless a `connection` line says `close`; HTTP/1.0 only when one
    // says `keep-alive` and none says `close`.
    let keep_alive = !lines.close && (http11 || lines.keep_alive);
    Ok(Parsed::Final(Head {
        status,
        len,
        framing,
        keep_alive: keep_alive && !upgraded && framing != Framing::UntilClose,
        headers: Headers(headers),
    }))
}

/// What a head's framing and connection lines say, gathered in one pass.
struct Lines<'b> {
    /// The last `transfer-encoding` line.
    transfer_encoding: Option<&'b [u8]>,
    /// The `content-length` lines: none, one number (however often repeated), or an error.
    content_length: Result<Option<u64>, HeadError>,
    /// A `connection` line says `close`.
    close: bool,
    /// A `connection` line says `keep-alive` (looked for in HTTP/1.0 answers only).
    keep_alive: bool,
}

impl<'b> Lines<'b> {
    fn scan(headers: &[httparse::Header<'b>], http11: bool) -> Self {
        let mut lines = Self {
            transfer_encoding: None,
            content_length: Ok(None),
            close: false,
            keep_alive: false,
        };
        for h in headers {
            // By length first: most lines are none of these three.
            match h.name.len() {
                10 if is_name(h.name, b"connection") => {
                    lines.close |= has_token(h.value, "close");
                    lines.keep_alive |= !http11 && has_token(h.value, "keep-alive");
                }
                14 if is_name(h.name, b"content-length") => {
                    lines.content_length = lines.content_length.and_then(|known| {
                        h.value
                            .split(|&b| b == b',')
                            .try_fold(known, |known, value| {
                                match (known, digits(value.trim_ascii())) {
                                    (_, None) => Err(HeadError::ContentLength),
                                    (Some(k), Some(n)) if k != n => Err(HeadError::ContentLength),
                                    (_, n) => Ok(n),
                                }
                            })
                    });
                }
                17 if is_name(h.name, b"transfer-encoding") => {
                    lines.transfer_encoding = Some(h.value);
                }
                _ => {}
            }
        }
        lines
    }

    /// The framing of a body the status and method allow: chunked when the last transfer
    /// coding is `chunked`, to the close for any other coding, else `content-length`, else to
    /// the close.
    fn body_framing(&self, http11: bool) -> Result<Framing, HeadError> {
        if let Some(line) = self.transfer_encoding {
            if !http11 {
                return Err(HeadError::TransferEncodingOnHttp10);
            }
            let coding = line.rsplit(|&b| b == b',').next().unwrap_or_default();
            return Ok(if coding.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            });
        }
        Ok(self
            .content_length?
            .map_or(Framing::UntilClose, Framing::Length))
    }
}

/// A decimal number of ASCII digits only (no sign, no space), without overflow.
fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

/// Whether the header name `name` is `lower` (lowercase letters and `-`, at least 8 bytes)
/// in any case, compared 8 bytes at a time. `name` is a token, as httparse checked: in a
/// token, `| 0x20` lowercases a letter, leaves `-` as it is, and turns no other byte into a
/// letter or `-`, so the comparison is exact.
fn is_name(name: &str, lower: &[u8]) -> bool {
    const FOLD: u64 = u64::from_ne_bytes([0x20; 8]);
    let name = name.as_bytes();
    if name.len() != lower.len() || name.len() < 8 {
        return false;
    }
    let word = |bytes: &[u8], at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_ne_bytes(word)
    };
    // Whole words, then the last 8 bytes (overlapping the last word when the length is not a
    // multiple of 8).
    let last = name.len() - 8;
    (0..last)
        .step_by(8)
        .chain([last])
        .all(|at| word(name, at) | FOLD == word(lower, at))
}

/// Whether the comma-separated `value` holds `token`, in any case.
fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}
