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

/// A request head, written before the body of every request of a point.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    /// Request line, header lines and the empty line, as sent.
    pub(crate) bytes: Vec<u8>,
    /// The request asks the server to close the connection after its answer.
    pub(crate) close: bool,
}

impl RequestHead {
    /// The head of `method target HTTP/1.1` with `headers` (which carry `host`) and a body of
    /// `body_len` bytes, framed as hyper frames a known-length body: `content-length` when
    /// there is a body (replacing any the headers set), none when there is not, and never
    /// `transfer-encoding`, since the body is sent whole.
    pub(crate) fn new(method: &Method, target: &Uri, headers: &HeaderMap, body_len: usize) -> Self {
        let path = target.path_and_query().map_or("/", |p| p.as_str());
        let mut bytes = Vec::with_capacity(64 + path.len() + 32 * headers.len());
        for part in [method.as_str(), " ", path, " HTTP/1.1\r\n"] {
            bytes.extend_from_slice(part.as_bytes());
        }
        for (name, value) in headers {
            if name == header::TRANSFER_ENCODING || (body_len > 0 && name == header::CONTENT_LENGTH)
            {
                continue;
            }
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        if body_len > 0 {
            bytes.extend_from_slice(b"content-length: ");
            bytes.extend_from_slice(itoa::Buffer::new().format(body_len).as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        let close = headers
            .get_all(header::CONNECTION)
            .iter()
            .any(|v| has_token(v.as_bytes(), "close"));
        Self { bytes, close }
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
    let framing = match status {
        0..=99 => return Err(HeadError::Status),
        100 | 102..=199 => return Ok(Parsed::Interim(len)),
        101 | 204 | 304 => Framing::Empty,
        _ if *method == Method::HEAD => Framing::Empty,
        200..=299 if *method == Method::CONNECT => Framing::Empty,
        _ => body_framing(headers, http11)?,
    };
    // 101 and a 2xx to CONNECT hand the connection over to another protocol.
    let upgraded = status == 101 || (*method == Method::CONNECT && (200..=299).contains(&status));
    Ok(Parsed::Final(Head {
        status,
        len,
        framing,
        keep_alive: keep_alive(headers, http11) && !upgraded && framing != Framing::UntilClose,
        headers: Headers(headers),
    }))
}

/// The framing of a body the status and method allow: chunked when the last transfer coding
/// is `chunked`, to the close for any other coding, else `content-length`, else to the close.
fn body_framing(headers: &[httparse::Header<'_>], http11: bool) -> Result<Framing, HeadError> {
    let named = |name: &'static str| {
        headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    };
    if let Some(last) = named("transfer-encoding").next_back() {
        if !http11 {
            return Err(HeadError::TransferEncodingOnHttp10);
        }
        let coding = last.value.rsplit(|&b| b == b',').next().unwrap_or_default();
        return Ok(if coding.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut length = None;
    for line in named("content-length") {
        for value in line.value.split(|&b| b == b',') {
            let n = digits(value.trim_ascii()).ok_or(HeadError::ContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(HeadError::ContentLength);
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
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

/// Whether the connection stays open after the answer: HTTP/1.1 unless a `connection` line
/// says `close`; HTTP/1.0 only when one says `keep-alive` and none says `close`.
fn keep_alive(headers: &[httparse::Header<'_>], http11: bool) -> bool {
    let mut keep = http11;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("connection"))
    {
        if has_token(h.value, "close") {
            return false;
        }
        keep |= has_token(h.value, "keep-alive");
    }
    keep
}

/// Whether the comma-separated `value` holds `token`, in any case.
fn has_token(value: &[u8], token: &str) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}
