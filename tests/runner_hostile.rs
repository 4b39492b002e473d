//! The runner against servers that misbehave on purpose, raw TCP on `127.0.0.1:0`, for every
//! transport: bodies without end (chunked, or a content-length of a terabyte), an SSE line
//! that never ends, a connection closed under the request, an answer that is not HTTP, and a
//! port nobody listens on. Each run must end, bounded by its request count (and the attempt
//! timeout, which no attempt may reach), with every request counted under the right failure
//! kind, the right sample message, and no more body read than the limits allow.

mod run_support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nitro_scenario::metrics::RunStats;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TRANSPORTS: [&str; 3] = ["hyper", "lean", "reqwest"];
const REQUESTS: u64 = 6;
/// `target.max_response_bytes` of these runs.
const MAX_RESPONSE: u64 = 1 << 20;
/// `target.max_event_bytes` of these runs.
const MAX_EVENT: u64 = 64 << 10;
/// What a hostile server sends at most per connection before it just waits: 16 times the
/// body limit, so a client that ignored the limit would hang until its timeout (and fail the
/// test) rather than fill memory.
const SENT_AT_MOST: usize = 16 << 20;

/// What the server does once it has read a request.
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    /// 200 JSON, chunked, chunks of spaces forever.
    EndlessChunked,
    /// 200 JSON with `content-length` of a terabyte, then spaces.
    HugeContentLength,
    /// 200 `text/event-stream`, then `data: ` and a line that never ends.
    EndlessSseLine,
    /// Close the connection without a byte of answer.
    CloseBeforeHeaders,
    /// Answer with text that is not HTTP.
    NotHttp,
}

/// A server that meets every request with `how`; counts the connections it accepted.
async fn hostile(how: Misbehaviour) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(serve(socket, how));
        }
    });
    (addr, accepted)
}

/// Read one request (head and `content-length` body), then misbehave.
async fn serve(mut socket: TcpStream, how: Misbehaviour) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let body_start = loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut have = request.len() - body_start;
    while have < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => have += n,
        }
    }
    let (head, first, piece): (&str, &[u8], Vec<u8>) = match how {
        Misbehaviour::CloseBeforeHeaders => return,
        Misbehaviour::NotHttp => {
            let _ = socket.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
            return wait_for_close(socket).await;
        }
        Misbehaviour::EndlessChunked => (
            "content-type: application/json\r\ntransfer-encoding: chunked",
            b"",
            chunk(&[b' '; 16 << 10]),
        ),
        Misbehaviour::HugeContentLength => (
            "content-type: application/json\r\ncontent-length: 1099511627776",
            b"",
            vec![b' '; 16 << 10],
        ),
        Misbehaviour::EndlessSseLine => (
            "content-type: text/event-stream\r\ntransfer-encoding: chunked",
            b"6\r\ndata: \r\n",
            chunk(&[b'a'; 16 << 10]),
        ),
    };
    let head = format!("HTTP/1.1 200 OK\r\n{head}\r\n\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() || socket.write_all(first).await.is_err() {
        return;
    }
    let mut sent = 0;
    while sent < SENT_AT_MOST {
        if socket.write_all(&piece).await.is_err() {
            return;
        }
        sent += piece.len();
    }
    wait_for_close(socket).await;
}

/// `data` as one chunk of a chunked body.
fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// Hold the connection open until the client closes it.
async fn wait_for_close(mut socket: TcpStream) {
    let mut buf = [0u8; 1024];
    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Run `REQUESTS` requests at concurrency 2 against `addr` (JSON chat, or the SSE route).
async fn run(addr: SocketAddr, transport: &str, stream: bool) -> RunStats {
    let text = format!(
        "[target]\nbase_url = \"http://{addr}\"\ntransport = \"{transport}\"\n\
         timeout = \"10s\"\nmax_response_bytes = {MAX_RESPONSE}\nmax_event_bytes = {MAX_EVENT}\n\
         [run]\nrequests = {REQUESTS}\n\
         [routes.r]\npath = \"/v1/chat/completions\"\nstream = {stream}\n\
         [matrix]\nroute = [\"r\"]\nconcurrency = [2]\n"
    );
    let base = url::Url::parse(&format!("http://{addr}")).unwrap();
    let out = run_support::run_text(&text, &base).await;
    let mut point = out.points.into_iter().next().unwrap();
    assert_eq!(point.runs.len(), 1);
    let run = point.runs.remove(0);
    assert_eq!(run.requests, REQUESTS);
    run
}

/// The run's error samples as `(kind, message, count)`.
fn samples(run: &RunStats) -> Vec<(&str, &str, u64)> {
    run.error_samples
        .iter()
        .map(|e| (e.kind.as_str(), e.message.as_str(), e.count))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_bodies_stop_at_the_response_limit_and_drop_the_connection() {
    for how in [
        Misbehaviour::EndlessChunked,
        Misbehaviour::HugeContentLength,
    ] {
        for t in TRANSPORTS {
            let (addr, accepted) = hostile(how).await;
            let r = run(addr, t, false).await;
            assert_eq!(r.outcomes.decode, REQUESTS, "{t} {how:?}: {:?}", r.outcomes);
            assert_eq!(
                samples(&r),
                [(
                    "decode",
                    "larger than `target.max_response_bytes` (1MiB)",
                    REQUESTS
                )],
                "{t} {how:?}"
            );
            // Reading stopped within a read of the limit...
            assert!(
                r.body_bytes > REQUESTS * MAX_RESPONSE
                    && r.body_bytes <= REQUESTS * (MAX_RESPONSE + (1 << 20)),
                "{t} {how:?}: {} bytes read",
                r.body_bytes
            );
            // ...and no connection served a second request.
            assert_eq!(accepted.load(Ordering::Relaxed), REQUESTS, "{t} {how:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_sse_line_stops_at_the_event_limit() {
    for t in TRANSPORTS {
        let (addr, accepted) = hostile(Misbehaviour::EndlessSseLine).await;
        let r = run(addr, t, true).await;
        assert_eq!(r.outcomes.stream, REQUESTS, "{t}: {:?}", r.outcomes);
        assert_eq!(
            samples(&r),
            [(
                "stream",
                "larger than `target.max_event_bytes` (64KiB)",
                REQUESTS
            )],
            "{t}"
        );
        // The event limit, not the body limit, ended each stream.
        assert!(
            r.body_bytes < REQUESTS * MAX_RESPONSE,
            "{t}: {} bytes read",
            r.body_bytes
        );
        assert_eq!(accepted.load(Ordering::Relaxed), REQUESTS, "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_reset_and_a_non_http_answer_is_decode() {
    for t in TRANSPORTS {
        let (addr, _) = hostile(Misbehaviour::CloseBeforeHeaders).await;
        let r = run(addr, t, false).await;
        assert_eq!(r.outcomes.reset, REQUESTS, "{t}: {:?}", r.outcomes);
        assert!(
            r.error_samples.iter().all(|e| e.kind == "reset"),
            "{t}: {:?}",
            r.error_samples
        );

        let (addr, _) = hostile(Misbehaviour::NotHttp).await;
        let r = run(addr, t, false).await;
        assert_eq!(r.outcomes.decode, REQUESTS, "{t}: {:?}", r.outcomes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_connect_with_its_os_error_and_no_url() {
    // A port that was just free: nothing listens there.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    for t in TRANSPORTS {
        let r = run(addr, t, false).await;
        assert_eq!(r.outcomes.connect, REQUESTS, "{t}: {:?}", r.outcomes);
        let [(kind, message, count)] = samples(&r)[..] else {
            panic!("{t}: one message expected: {:?}", r.error_samples);
        };
        assert_eq!((kind, count), ("connect", REQUESTS), "{t}");
        assert!(
            message.to_lowercase().contains("connection refused"),
            "{t}: {message}"
        );
        assert!(
            !message.contains("http://") && !message.contains(&addr.port().to_string()),
            "{t}: {message}"
        );
    }
}
