//! The runner against hand-written HTTP/1.1 answers on raw TCP (`127.0.0.1:0`), for every
//! transport: chunk extensions and trailers, interim 1xx answers, answers written a byte at a
//! time, HTTP/1.0, `connection: close` and bodies read to the close (a new connection per
//! request), bodiless statuses and `HEAD` (the connection kept), and closes mid-head,
//! mid-body and mid-chunk. Every transport must count each run alike and open the same number
//! of connections. Runs are bounded by request count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nitro_scenario::metrics::RunStats;
use nitro_scenario::runner::{self, RunOptions, Stop};
use nitro_scenario::scenario::{self, Overrides};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TRANSPORTS: [&str; 3] = ["hyper", "lean", "reqwest"];
const REQUESTS: u64 = 6;

/// How the server writes its answer.
#[derive(Debug, Clone, Copy)]
enum Pace {
    /// In one write.
    Whole,
    /// One byte per write.
    ByteByByte,
}

/// What the server does after an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum After {
    /// Waits for the next request on the same connection.
    KeepOpen,
    /// Closes the connection.
    Close,
}

/// A server that meets every request with `answer`; counts the connections it accepted.
async fn server(answer: &'static str, pace: Pace, after: After) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            let _ = socket.set_nodelay(true);
            tokio::spawn(serve(socket, answer.as_bytes(), pace, after));
        }
    });
    (addr, accepted)
}

/// Answer requests on `socket` until the client closes it (or `after` says to close).
async fn serve(mut socket: TcpStream, answer: &[u8], pace: Pace, after: After) {
    let mut buf = Vec::new();
    while read_request(&mut socket, &mut buf).await {
        let written = match pace {
            Pace::Whole => socket.write_all(answer).await,
            Pace::ByteByByte => {
                let mut result = Ok(());
                for byte in answer.chunks(1) {
                    result = socket.write_all(byte).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
        };
        if written.is_err() || after == After::Close {
            return;
        }
    }
}

/// Read one request (head and `content-length` body) from `socket`, keeping what follows it
/// in `buf`; false when the client closed.
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + length {
                buf.drain(..end + 4 + length);
                return true;
            }
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Run `REQUESTS` requests of `method` at concurrency 1 against `addr`, any body accepted.
async fn run(addr: SocketAddr, transport: &str, method: &str) -> RunStats {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    let text = format!(
        "[target]\nbase_url = \"http://{addr}\"\ntransport = \"{transport}\"\ntimeout = \"10s\"\n\
         [run]\nrequests = {REQUESTS}\n\
         [routes.r]\npath = \"/x\"\nmethod = \"{method}\"\nbody = \"none\"\n\
         [matrix]\nroute = [\"r\"]\nconcurrency = [1]\n"
    );
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
    let points = scenario::expand(&s).unwrap();
    let options = RunOptions {
        quiet: true,
        journal: None,
        stop: Some(Stop::new()),
    };
    let base = url::Url::parse(&format!("http://{addr}")).unwrap();
    let out = runner::run(&s, &points, &base, options).await.unwrap();
    let mut point = out.points.into_iter().next().unwrap();
    assert_eq!(point.runs.len(), 1);
    let run = point.runs.remove(0);
    assert_eq!(run.requests, REQUESTS);
    run
}

/// Each transport's run against a fresh server: its stats and the connections it opened.
async fn each_transport(
    answer: &'static str,
    pace: Pace,
    after: After,
    method: &str,
) -> Vec<(&'static str, RunStats, u64)> {
    let mut out = Vec::new();
    for t in TRANSPORTS {
        let (addr, accepted) = server(answer, pace, after).await;
        let stats = run(addr, t, method).await;
        out.push((t, stats, accepted.load(Ordering::Relaxed)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_in_any_shape_keep_one_connection() {
    let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                   5;name=value\r\nhello\r\n1 ; quoted=\"a;b\"\r\n \r\n5\r\nworld\r\n\
                   0;last\r\nx-checksum: abc\r\nx-more: 1\r\n\r\n";
    let interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n\
                   HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    let http10 = "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok";
    for (answer, body) in [(chunked, 11), (interim, 2), (http10, 2)] {
        for pace in [Pace::Whole, Pace::ByteByByte] {
            for (t, r, accepted) in each_transport(answer, pace, After::KeepOpen, "GET").await {
                let case = format!("{t} {pace:?} {answer:?}");
                assert_eq!(r.outcomes.success, REQUESTS, "{case}: {:?}", r.outcomes);
                assert_eq!(r.body_bytes, body * REQUESTS, "{case}");
                assert_eq!(accepted, 1, "{case}: one connection for every request");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodiless_answers_keep_the_connection() {
    // A 304 and the answer to HEAD have no body, whatever their length says.
    let not_modified = "HTTP/1.1 304 Not Modified\r\ncontent-length: 50\r\n\r\n";
    for (t, r, accepted) in each_transport(not_modified, Pace::Whole, After::KeepOpen, "GET").await
    {
        assert_eq!(r.outcomes.status.get(&304), Some(&REQUESTS), "{t}");
        assert_eq!((r.body_bytes, accepted), (0, 1), "{t}");
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-length: 300\r\n\r\n";
    for (t, r, accepted) in each_transport(head, Pace::Whole, After::KeepOpen, "HEAD").await {
        assert_eq!(r.outcomes.success, REQUESTS, "{t}: {:?}", r.outcomes);
        assert_eq!((r.body_bytes, accepted), (0, 1), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_end_the_connection_get_a_new_one_per_request() {
    let close = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}";
    let http10 = "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    let to_the_close = "HTTP/1.1 200 OK\r\n\r\nuntil the server closes";
    for (answer, body) in [(close, 2), (http10, 2), (to_the_close, 23)] {
        for (t, r, accepted) in each_transport(answer, Pace::Whole, After::Close, "GET").await {
            assert_eq!(
                r.outcomes.success, REQUESTS,
                "{t} {answer:?}: {:?}",
                r.outcomes
            );
            assert_eq!(r.body_bytes, body * REQUESTS, "{t} {answer:?}");
            assert_eq!(accepted, REQUESTS, "{t} {answer:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_closes_are_counted_by_where_they_fall() {
    let mid_head = "HTTP/1.1 200 OK\r\ncontent-len";
    let mid_body = "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc";
    let mid_chunk = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\nabc";
    let mid_size = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n1";
    for (answer, kind) in [
        (mid_head, "reset"),
        (mid_body, "stream"),
        (mid_chunk, "stream"),
        (mid_size, "stream"),
    ] {
        for (t, r, accepted) in each_transport(answer, Pace::Whole, After::Close, "GET").await {
            let count = match kind {
                "reset" => r.outcomes.reset,
                _ => r.outcomes.stream,
            };
            assert_eq!(count, REQUESTS, "{t} {answer:?}: {:?}", r.outcomes);
            assert!(
                r.error_samples.iter().all(|e| e.kind == kind),
                "{t}: {:?}",
                r.error_samples
            );
            assert_eq!(accepted, REQUESTS, "{t} {answer:?}");
        }
    }
}
