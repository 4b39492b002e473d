//! The mock's faults on the wire, for streams and JSON answers alike: what a client receives
//! before a reset (exactly), what a truncated answer looks like, and stalls that outlast a
//! client's timeout. Faults come from the config (every Nth request) or the `x-mock-fault`
//! header. A raw TCP client reads the JSON faults, so that byte counts and how the connection
//! ended (reset or clean close) are visible. Slow clients too: a connection that does not send
//! a whole request head in `header_read_timeout` is closed, one being answered is not.

mod mock_support;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use mock_support::{chat_body, start};
use nitro_scenario::mock::{ChunkFault, Faults, MockConfig, StallFault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HOUR: Duration = Duration::from_secs(3600);
/// Safety net for waits on the server: far above the short header timeouts configured here,
/// below the default one. Nothing asserts how long anything takes.
const LIMIT: Duration = Duration::from_secs(10);

fn faults(faults: Faults) -> MockConfig {
    MockConfig {
        faults,
        ..Default::default()
    }
}

fn chunk_fault(every: u32, after_chunks: u32) -> Option<ChunkFault> {
    Some(ChunkFault {
        every: NonZeroU32::new(every).unwrap(),
        after_chunks,
    })
}

/// A stream read to its end: the complete SSE events received and whether the body ended in
/// an error (a reset) rather than cleanly.
async fn read_stream(
    client: &reqwest::Client,
    url: String,
    fault: Option<&str>,
) -> (Vec<String>, bool) {
    let mut request = client.post(url).body(chat_body());
    if let Some(fault) = fault {
        request = request.header("x-mock-fault", fault);
    }
    let mut r = request.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut text = String::new();
    let failed = loop {
        match r.chunk().await {
            Ok(Some(chunk)) => text.push_str(std::str::from_utf8(&chunk).unwrap()),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    let events = text
        .split_terminator("\n\n")
        .map(|e| e.strip_prefix("data: ").unwrap().to_string())
        .collect();
    (events, failed)
}

fn content_chunks(events: &[String]) -> usize {
    events
        .iter()
        .filter(|e| e.contains(r#""delta":{"content""#))
        .count()
}

/// A JSON chat request on a fresh connection, read until the server ends it: the answer's
/// head, its body bytes, and whether the connection was reset (not closed cleanly).
async fn raw_chat(addr: SocketAddr, fault: Option<&str>) -> (String, Vec<u8>, bool) {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = chat_body();
    let fault = fault.map_or(String::new(), |f| format!("x-mock-fault: {f}\r\n"));
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: mock\r\ncontent-length: {}\r\n{fault}\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let reset = loop {
        match socket.read(&mut buf).await {
            Ok(0) => break false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
                break true;
            }
        }
    };
    let split = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(got[..split].to_vec()).unwrap();
    (head, got[split + 4..].to_vec(), reset)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("content-length")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_stream_reset_delivers_exactly_the_configured_chunks_then_resets() {
    let (_server, client, base) = start(faults(Faults {
        reset: chunk_fault(2, 3),
        ..Default::default()
    }))
    .await;
    let url = format!("{base}v1/chat/completions:stream");
    // Requests 2, 4, ... are hit: the first completes.
    let (events, failed) = read_stream(&client, url.clone(), None).await;
    assert_eq!(
        (events.last().map(String::as_str), failed),
        (Some("[DONE]"), false)
    );
    for _ in 0..3 {
        let (events, failed) = read_stream(&client, url.clone(), None).await;
        assert!(failed, "the body read must fail");
        assert!(events[0].contains(r#""role":"assistant""#));
        assert_eq!(
            content_chunks(&events),
            3,
            "all chunks before the reset arrive"
        );
        assert_eq!(events.len(), 1 + 3);
        let _ = read_stream(&client, url.clone(), None).await;
    }
}

#[tokio::test]
async fn a_header_reset_strikes_mid_stream_and_reset_zero_gives_no_answer() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let url = format!("{base}v1/chat/completions:stream");
    let (events, failed) = read_stream(&client, url, Some("reset")).await;
    assert!(failed);
    assert_eq!(content_chunks(&events), 8, "half of the 16 chunks");

    let (_server, client, base) = start(faults(Faults {
        reset: chunk_fault(1, 0),
        ..Default::default()
    }))
    .await;
    for path in ["v1/chat/completions", "v1/chat/completions:stream"] {
        let sent = client
            .post(format!("{base}{path}"))
            .body(chat_body())
            .send()
            .await;
        assert!(sent.is_err(), "{path}: reset before the headers");
    }
}

#[tokio::test]
async fn a_json_reset_sends_the_headers_and_half_the_body_then_resets() {
    for (config, header) in [
        (MockConfig::default(), Some("reset")),
        (
            faults(Faults {
                reset: chunk_fault(1, 4),
                ..Default::default()
            }),
            None,
        ),
    ] {
        let (server, _, _) = start(config).await;
        let (head, body, reset) = raw_chat(server.addr(), header).await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        let promised = content_length(&head);
        assert_eq!(body.len(), promised / 2, "{header:?}");
        assert!(reset, "{header:?}: a reset, not a clean close");
    }
}

#[tokio::test]
async fn a_truncated_json_answer_promises_more_than_it_sends_then_closes() {
    let (server, client, base) = start(MockConfig::default()).await;
    let (head, body, reset) = raw_chat(server.addr(), Some("truncate")).await;
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert_eq!(body.len(), content_length(&head) / 2);
    assert!(!reset, "a clean close");
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
    let r = client
        .post(format!("{base}v1/chat/completions"))
        .header("x-mock-fault", "truncate")
        .body(chat_body())
        .send()
        .await
        .unwrap();
    assert!(r.bytes().await.is_err(), "a client sees the body cut short");

    let (server, _, _) = start(faults(Faults {
        truncate: chunk_fault(1, 0),
        ..Default::default()
    }))
    .await;
    let (head, body, reset) = raw_chat(server.addr(), None).await;
    assert!(content_length(&head) > 0);
    assert_eq!((body.len(), reset), (0, false), "headers only");
}

#[tokio::test]
async fn a_truncated_stream_ends_cleanly_without_finish_usage_or_done() {
    let (_server, client, base) = start(faults(Faults {
        truncate: chunk_fault(1, 5),
        ..Default::default()
    }))
    .await;
    let url = format!("{base}v1/chat/completions:stream");
    for header in [None, Some("truncate")] {
        let (events, failed) = read_stream(&client, url.clone(), header).await;
        assert!(!failed, "{header:?}: a clean end of the body");
        assert_eq!(events.len(), 1 + 5, "{header:?}: role and 5 content chunks");
        assert_eq!(content_chunks(&events), 5);
        assert!(!events.iter().any(|e| e == "[DONE]" || e.contains("usage")));
    }
}

#[tokio::test]
async fn a_configured_stall_outlasts_a_client_timeout() {
    // An hour: the client's timeout fires first whatever the machine's load.
    let (_server, client, base) = start(faults(Faults {
        stall: Some(StallFault {
            every: NonZeroU32::new(2).unwrap(),
            duration: HOUR,
        }),
        ..Default::default()
    }))
    .await;
    let url = format!("{base}v1/chat/completions");
    let send = || {
        client
            .post(&url)
            .timeout(Duration::from_millis(300))
            .body(chat_body())
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200, "request 1 is not hit");
    assert!(send().await.unwrap_err().is_timeout(), "request 2 stalls");
    // The header stall takes the configured duration.
    let stalled = client
        .post(&url)
        .header("x-mock-fault", "stall")
        .timeout(Duration::from_millis(300))
        .body(chat_body())
        .send()
        .await;
    assert!(stalled.unwrap_err().is_timeout());
}

/// Everything the server sends until it ends the connection (a reset counts as an end), or
/// `None` when it is still open after [`LIMIT`].
async fn read_until_closed(socket: &mut TcpStream) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(LIMIT, read_all).await.ok()?;
    Some(got)
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_read_timeout() {
    let (server, _client, _base) = start(MockConfig {
        header_read_timeout: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    for (what, sent) in [
        (
            "half a head",
            "POST /v1/chat/completions HTTP/1.1\r\nhost: mock\r\n",
        ),
        ("nothing", ""),
    ] {
        let mut socket = TcpStream::connect(server.addr()).await.unwrap();
        socket.write_all(sent.as_bytes()).await.unwrap();
        let got = read_until_closed(&mut socket).await;
        let got = got.unwrap_or_else(|| panic!("{what}: still open after {LIMIT:?}"));
        assert!(got.is_empty(), "{what}: closed without an answer: {got:?}");
    }
}

#[tokio::test]
async fn the_header_read_timeout_spares_an_answer_in_progress_then_closes_the_idle_connection() {
    let (server, _client, _base) = start(MockConfig {
        header_read_timeout: Duration::from_millis(100),
        faults: Faults {
            // Asked for by header only; five times the header timeout.
            stall: Some(StallFault {
                every: NonZeroU32::MAX,
                duration: Duration::from_millis(500),
            }),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    // `raw_chat` reads until the server ends the connection: kept alive after the answer,
    // it ends only when the idle connection's header timeout closes it.
    let answered = tokio::time::timeout(LIMIT, raw_chat(server.addr(), Some("stall"))).await;
    let (head, body, reset) = answered.expect("the idle connection is closed");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert_eq!((body.len(), reset), (content_length(&head), false));
}
