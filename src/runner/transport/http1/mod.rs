//! A small HTTP/1.1 client codec, with no I/O: the request head written once per point, the
//! answer's head parsed with `httparse`, and the body's framing (`content-length`, chunked
//! with extensions and trailers, or read to close) undone in place, handing body bytes out as
//! slices of the read buffer. The lean transport drives it over a socket; tests feed it bytes.
//!
//! It decides as hyper's client does (RFC 9112 §6.3): which answers have no body, chunked
//! over `content-length`, what keeps a connection alive, and the same limits (100 header
//! lines, a head of at most 408 KiB, 16 KiB of chunk extensions or trailers), so both
//! transports count every answer alike.

mod body;
mod head;

pub(crate) use body::{BodyDecoder, BodyError};
pub(crate) use head::{
    Framing, MAX_HEAD_BYTES, Parsed, RequestHead, new_header_storage, parse_head,
};

#[cfg(test)]
mod tests;
