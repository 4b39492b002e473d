//! The codec on hand-written bytes: request heads, answer heads (split at every byte, interim
//! answers, bodiless statuses, framing precedence, keep-alive), and bodies fed in every split,
//! with chunk extensions, trailers, early ends and broken framing.

use http::{HeaderMap, HeaderValue, Method, Uri};

use super::head::{Head, HeadError};
use super::*;
use crate::runner::exchange::AnswerHeaders;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn the_request_head_frames_the_body_by_its_length() {
    let target: Uri = "/v1/chat/completions?x=1".parse().unwrap();
    let with = headers(&[
        ("host", "h:1"),
        ("content-type", "application/json"),
        ("content-length", "999"),
        ("transfer-encoding", "chunked"),
    ]);
    let head = RequestHead::new(&Method::POST, &target, &with, b"{\"a\": \"bcd\"}");
    assert_eq!(
        String::from_utf8(head.bytes).unwrap(),
        "POST /v1/chat/completions?x=1 HTTP/1.1\r\nhost: h:1\r\n\
         content-type: application/json\r\ncontent-length: 12\r\n\r\n{\"a\": \"bcd\"}"
    );
    assert!(head.with_body && !head.close);
    // A large body is written after the head, from the point's shared copy.
    let large = RequestHead::new(&Method::POST, &target, &with, &[b' '; 20_000]);
    assert!(!large.with_body);
    assert!(large.bytes.ends_with(b"content-length: 20000\r\n\r\n"));
    // No body: no length, as hyper sends it; `connection: close` is remembered.
    let get = RequestHead::new(
        &Method::GET,
        &"/".parse().unwrap(),
        &headers(&[("host", "h"), ("connection", "Keep-Alive, Close")]),
        b"",
    );
    assert_eq!(
        String::from_utf8(get.bytes).unwrap(),
        "GET / HTTP/1.1\r\nhost: h\r\nconnection: Keep-Alive, Close\r\n\r\n"
    );
    assert!(get.close);
}

/// The final head of `text`, for a request of `method`.
fn final_head(text: &[u8], method: &Method, check: impl FnOnce(&Head<'_, '_>)) {
    let mut storage = new_header_storage();
    match parse_head(text, &mut storage, method) {
        Ok(Parsed::Final(head)) => check(&head),
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
    }
}

/// `(status, framing, keep_alive)` of the answer `text` to a GET.
fn summary(text: &str) -> (u16, Framing, bool) {
    let mut out = None;
    final_head(text.as_bytes(), &Method::GET, |h| {
        out = Some((h.status, h.framing, h.keep_alive));
    });
    out.unwrap()
}

fn head_error(text: &str) -> HeadError {
    let mut storage = new_header_storage();
    match parse_head(text.as_bytes(), &mut storage, &Method::GET) {
        Err(e) => e,
        other => panic!("{text:?}: {other:?}"),
    }
}

#[test]
fn a_head_split_at_every_byte_is_partial_until_its_empty_line() {
    let text = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\n\
                 Content-Type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    let head_len = text.len() - 2;
    for cut in 0..head_len {
        let mut storage = new_header_storage();
        assert!(
            matches!(
                parse_head(&text[..cut], &mut storage, &Method::GET),
                Ok(Parsed::Partial)
            ),
            "cut at {cut}"
        );
    }
    for cut in head_len..=text.len() {
        final_head(&text[..cut], &Method::GET, |h| {
            assert_eq!(
                (h.status, h.len, h.framing),
                (429, head_len, Framing::Length(2))
            );
            assert!(h.keep_alive);
            let name = http::header::RETRY_AFTER;
            assert_eq!(h.headers.first(&name), Some(&b"2"[..]), "any case");
            assert_eq!(h.headers.first(&http::header::SERVER), None);
        });
    }
}

#[test]
fn interim_answers_are_skipped_and_bodiless_statuses_have_no_body() {
    let mut storage = new_header_storage();
    let text = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n";
    let Ok(Parsed::Interim(first)) = parse_head(text, &mut storage, &Method::GET) else {
        panic!("100 is interim");
    };
    assert_eq!(first, 25);
    let mut storage = new_header_storage();
    assert!(matches!(
        parse_head(&text[first..], &mut storage, &Method::GET),
        Ok(Parsed::Interim(n)) if n == text.len() - first
    ));
    for status in ["204 No Content", "304 Not Modified"] {
        let text = format!("HTTP/1.1 {status}\r\ncontent-length: 10\r\n\r\n");
        assert_eq!(summary(&text).1, Framing::Empty, "{status}");
        assert!(summary(&text).2, "{status} keeps the connection");
    }
    // A 101 switches protocols: no body, and the connection is not HTTP any more.
    assert_eq!(
        summary("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n"),
        (101, Framing::Empty, false)
    );
    // The answer to HEAD has no body whatever its length says.
    final_head(
        b"HTTP/1.1 200 OK\r\ncontent-length: 300\r\n\r\n",
        &Method::HEAD,
        |h| assert_eq!((h.framing, h.keep_alive), (Framing::Empty, true)),
    );
}

#[test]
fn chunked_wins_over_content_length_and_other_codings_read_to_the_close() {
    let ok = "HTTP/1.1 200 OK\r\n";
    let framing = |lines: &str| summary(&format!("{ok}{lines}\r\n"));
    assert_eq!(
        framing("content-length: 5\r\ntransfer-encoding: chunked\r\n"),
        (200, Framing::Chunked, true)
    );
    assert_eq!(
        framing("transfer-encoding: gzip\r\ntransfer-encoding: gzip, Chunked\r\n").1,
        Framing::Chunked
    );
    assert_eq!(
        framing("transfer-encoding: chunked, gzip\r\n"),
        (200, Framing::UntilClose, false)
    );
    assert_eq!(framing(""), (200, Framing::UntilClose, false));
    // Names in any case; a name that only looks alike is another header.
    assert_eq!(framing("CONTENT-LENGTH: 5\r\n").1, Framing::Length(5));
    assert_eq!(
        framing("Transfer-ENCODING: chunked\r\n").1,
        Framing::Chunked
    );
    for other in [
        "content_length",
        "content-lengtx",
        "Content-Lengths",
        "xontent-length",
    ] {
        assert_eq!(
            framing(&format!("{other}: 5\r\n")).1,
            Framing::UntilClose,
            "{other}"
        );
    }
    assert_eq!(
        framing("content-length: 7, 7\r\ncontent-length: 7\r\n").1,
        Framing::Length(7)
    );
    for bad in ["5, 6", "-1", "+1", "1 2", "", "99999999999999999999"] {
        assert_eq!(
            head_error(&format!("{ok}content-length: {bad}\r\n\r\n")),
            HeadError::ContentLength,
            "{bad:?}"
        );
    }
    assert_eq!(
        head_error("HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
        HeadError::TransferEncodingOnHttp10
    );
}

#[test]
fn keep_alive_follows_the_version_and_connection_lines() {
    let cl = "content-length: 0\r\n";
    assert!(summary(&format!("HTTP/1.1 200 OK\r\n{cl}\r\n")).2);
    assert!(!summary(&format!("HTTP/1.1 200 OK\r\n{cl}Connection: close\r\n\r\n")).2);
    assert!(!summary(&format!("HTTP/1.1 200 OK\r\n{cl}CONNECTION: Close\r\n\r\n")).2);
    assert!(summary(&format!("HTTP/1.1 200 OK\r\n{cl}connectiom: close\r\n\r\n")).2);
    assert!(
        !summary(&format!(
            "HTTP/1.1 200 OK\r\n{cl}connection: close\r\nconnection: keep-alive\r\n\r\n"
        ))
        .2,
        "a close is not undone"
    );
    assert!(!summary(&format!("HTTP/1.0 200 OK\r\n{cl}\r\n")).2);
    assert!(
        !summary(&format!(
            "HTTP/1.0 200 OK\r\n{cl}connection: upgrade\r\n\r\n"
        ))
        .2
    );
    assert!(
        summary(&format!(
            "HTTP/1.0 200 OK\r\n{cl}Connection: Keep-Alive\r\n\r\n"
        ))
        .2
    );
}

#[test]
fn heads_that_are_not_http_are_refused_with_a_reason() {
    let not_http = head_error("SSH-2.0-OpenSSH_9.6\r\n\r\n");
    assert_eq!(not_http.describe(), "the answer is not HTTP/1.x");
    assert_eq!(
        head_error("HTTP/1.1 099 Low\r\n\r\n").describe(),
        "the answer's status line is invalid"
    );
    let many: String = (0..101).map(|i| format!("x-{i}: y\r\n")).collect();
    assert_eq!(
        head_error(&format!("HTTP/1.1 200 OK\r\n{many}\r\n")).describe(),
        "the answer's head has more than 100 header lines"
    );
    let long = format!("HTTP/1.1 200 OK\r\nx: {}", "a".repeat(MAX_HEAD_BYTES));
    assert_eq!(head_error(&long), HeadError::TooLarge);
}

/// Feed `pieces` to a decoder of `framing` as the transport does — appended to a buffer,
/// decoded until it needs more — then end the input. The body and the bytes left after it.
fn decode(
    framing: Framing,
    pieces: &[&[u8]],
    close: bool,
) -> Result<(Vec<u8>, Vec<u8>), BodyError> {
    let mut decoder = BodyDecoder::new(framing);
    let (mut buf, mut body) = (Vec::new(), Vec::new());
    for piece in pieces {
        buf.extend_from_slice(piece);
        while !decoder.is_done() {
            let decoded = decoder.decode(&buf)?;
            body.extend_from_slice(decoded.data);
            let used = decoded.used;
            buf.drain(..used);
            if used == 0 {
                break;
            }
        }
    }
    if close && !decoder.is_done() {
        decoder.eof()?;
    }
    assert!(decoder.is_done(), "the body ended");
    Ok((body, buf))
}

/// Every way to cut `wire` into two pieces, and into single bytes: each gives the same body.
fn every_split(framing: Framing, wire: &[u8], close: bool) -> Vec<u8> {
    let whole = decode(framing, &[wire], close).unwrap();
    for cut in 0..=wire.len() {
        let (a, b) = wire.split_at(cut);
        assert_eq!(
            decode(framing, &[a, b], close).unwrap(),
            whole,
            "cut at {cut}"
        );
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(
        decode(framing, &bytes, close).unwrap(),
        whole,
        "byte by byte"
    );
    whole.0
}

#[test]
fn content_length_bodies_in_any_split_stop_at_their_length() {
    assert_eq!(
        every_split(Framing::Length(11), b"hello world", false),
        b"hello world"
    );
    let (body, rest) = decode(Framing::Length(3), &[b"abcHTTP/1.1"], false).unwrap();
    assert_eq!((&body[..], &rest[..]), (&b"abc"[..], &b"HTTP/1.1"[..]));
    assert_eq!(every_split(Framing::Empty, b"", false), b"");
    assert_eq!(
        every_split(Framing::UntilClose, b"to the end", true),
        b"to the end"
    );
}

#[test]
fn chunked_bodies_with_extensions_and_trailers_in_any_split() {
    let wire = b"5;name=value;quoted=\"a;b\"\r\nhello\r\n\
                 1 ; ext\r\n \r\n\
                 A\r\n0123456789\r\n\
                 0;last\r\nx-checksum: abc\r\nx-more: 1\r\n\r\n";
    assert_eq!(
        every_split(Framing::Chunked, wire, false),
        b"hello 0123456789"
    );
    let (_, rest) = decode(Framing::Chunked, &[b"0\r\n\r\nHTTP"], false).unwrap();
    assert_eq!(rest, b"HTTP", "bytes after the body stay unread");
}

#[test]
fn an_early_close_is_incomplete_wherever_it_falls() {
    let wire = b"4\r\nabcd\r\n0\r\nx-t: 1\r\n\r\n";
    for cut in 0..wire.len() {
        assert_eq!(
            decode(Framing::Chunked, &[&wire[..cut]], true),
            Err(BodyError::Incomplete),
            "closed after {cut} bytes"
        );
    }
    for cut in 0..5 {
        assert_eq!(
            decode(Framing::Length(5), &[&b"abcde"[..cut]], true),
            Err(BodyError::Incomplete)
        );
    }
    assert_eq!(
        BodyError::Incomplete.describe(),
        "the connection closed before the body ended"
    );
}

#[test]
fn broken_chunk_framing_is_refused() {
    let chunked = |wire: &[u8]| decode(Framing::Chunked, &[wire], false);
    assert_eq!(chunked(b"zz\r\n"), Err(BodyError::ChunkSize));
    assert_eq!(
        chunked(b";ext\r\n"),
        Err(BodyError::ChunkSize),
        "no size digit"
    );
    assert_eq!(
        chunked(b"10000000000000000\r\n"),
        Err(BodyError::ChunkSize),
        "overflow"
    );
    assert_eq!(chunked(b"3\r\nabcX"), Err(BodyError::ChunkEnd));
    assert_eq!(chunked(b"3\r\nabc\rX"), Err(BodyError::ChunkEnd));
    let extensions = [&b"1;"[..], &[b'e'; 17 << 10]].concat();
    assert_eq!(chunked(&extensions), Err(BodyError::ChunkExtensions));
    let trailer = [&b"0\r\nx-t: "[..], &[b'v'; 17 << 10]].concat();
    assert_eq!(chunked(&trailer), Err(BodyError::Trailers));
    let lines: Vec<u8> = [&b"0\r\n"[..], &b"x: y\r\n".repeat(101), b"\r\n"].concat();
    assert_eq!(chunked(&lines), Err(BodyError::Trailers));
}
