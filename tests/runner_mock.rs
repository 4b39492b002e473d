//! The runner end to end against the in-process mock, for every transport: outcome counts of
//! the five seed routes, retries honouring Retry-After, exact token counts, per-request timing
//! order, a mid-stream reset counted as a broken stream, and faults (a reset before the
//! headers, a truncated stream, a stall) classified alike by every transport. Phases are
//! bounded by request count; nothing asserts wall-clock latencies.

mod run_support;

use std::num::NonZeroU32;
use std::path::Path;

use nitro_scenario::journal::Journal;
use nitro_scenario::metrics::{PointResult, RunStats};
use nitro_scenario::mock::{
    ChunkFault, Faults, MockConfig, MockServer, RateLimit, StallFault, StreamShape,
};

const TRANSPORTS: [&str; 3] = ["hyper", "lean", "reqwest"];
const REQUESTS: u64 = 20;

async fn mock(config: MockConfig) -> MockServer {
    MockServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Run `route` (a seed path suffix such as `:stream`) `REQUESTS` times at `concurrency`.
async fn run(
    server: &MockServer,
    transport: &str,
    suffix: &str,
    stream: bool,
    concurrency: u32,
    log: Option<&Path>,
) -> PointResult {
    run_with_timeout(server, transport, suffix, stream, concurrency, log, "10s").await
}

/// `run` with the target's whole-attempt `timeout`.
async fn run_with_timeout(
    server: &MockServer,
    transport: &str,
    suffix: &str,
    stream: bool,
    concurrency: u32,
    log: Option<&Path>,
    timeout: &str,
) -> PointResult {
    let text = format!(
        "[target]\nbase_url = \"{}\"\ntransport = \"{transport}\"\ntimeout = \"{timeout}\"\n\
         [run]\nrequests = {REQUESTS}\n[run.retry]\nmax = 3\nmax_wait = \"1s\"\n\
         [payloads]\nS = {{ fill = \"Hello, world! \", bytes = 1024 }}\n\
         [routes.r]\npath = \"/v1/chat/completions{suffix}\"\nstream = {stream}\n\
         [matrix]\nroute = [\"r\"]\npayload = [\"S\"]\nconcurrency = [{concurrency}]\n",
        server.base_url()
    );
    let (s, points) = run_support::load(&text);
    let journal =
        log.map(|path| Journal::start(path, vec![points[0].id.clone()], 1 << 16).unwrap());
    let sender = journal.as_ref().map(Journal::sender);
    let out = run_support::run(&s, &points, &server.base_url(), sender).await;
    if let Some(journal) = journal {
        let stats = journal.finish();
        assert_eq!(stats.dropped, 0);
    }
    assert!(!out.partial);
    out.points.into_iter().next().unwrap()
}

/// A mock server whose every chat request meets `faults`.
async fn with_faults(faults: Faults) -> MockServer {
    mock(MockConfig {
        faults,
        ..Default::default()
    })
    .await
}

fn only_run(point: &PointResult) -> &RunStats {
    assert_eq!(point.runs.len(), 1);
    &point.runs[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_answers_are_all_successes() {
    let server = mock(MockConfig::default()).await;
    for t in TRANSPORTS {
        let p = run(&server, t, "", false, 4, None).await;
        let r = only_run(&p);
        assert_eq!(
            (r.requests, r.outcomes.success),
            (REQUESTS, REQUESTS),
            "{t}"
        );
        assert_eq!(
            r.usage.completion_tokens,
            16 * REQUESTS,
            "{t}: usage from the server"
        );
        assert_eq!(r.usage.estimated_requests, 0);
        let (latency, ttfb) = (r.latency.unwrap(), r.ttfb.unwrap());
        assert!(
            latency.count == REQUESTS && ttfb.p50_us <= latency.p50_us,
            "{t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_count_exact_tokens_and_time_in_order() {
    let config = MockConfig {
        stream: StreamShape {
            chunks: 7,
            ..Default::default()
        },
        ..Default::default()
    };
    let server = mock(config).await;
    for t in TRANSPORTS {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.csv");
        let p = run(&server, t, ":stream", true, 3, Some(&log)).await;
        let r = only_run(&p);
        assert_eq!(r.outcomes.success, REQUESTS, "{t}");
        let s = r.stream.as_ref().expect("stream summary");
        assert_eq!(s.output_tokens, 7 * REQUESTS, "{t}");
        assert!(!s.tokens_estimated, "{t}: the mock sends usage");
        assert_eq!(
            s.itl.unwrap().count,
            6 * REQUESTS,
            "{t}: 6 gaps per 7-token stream"
        );
        assert_eq!(s.ttft.unwrap().count, REQUESTS);
        // Per request: ttfb <= ttft <= latency.
        let text = std::fs::read_to_string(&log).unwrap();
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (latency, ttfb, ttft): (u64, u64, u64) = (
                f[4].parse().unwrap(),
                f[5].parse().unwrap(),
                f[6].parse().unwrap(),
            );
            assert!(ttfb <= ttft && ttft <= latency, "{t}: {line}");
            rows += 1;
        }
        assert_eq!(rows, REQUESTS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_honouring_retry_after() {
    let config = MockConfig {
        rate_limit: RateLimit::EveryNth(NonZeroU32::new(2).unwrap()),
        retry_after: std::time::Duration::ZERO,
        ..Default::default()
    };
    for t in TRANSPORTS {
        // A fresh server per transport: the every-Nth counter starts at the first request.
        let server = mock(config.clone()).await;
        // One worker, attempts 2, 4, 6, ... limited: the first request passes at once, each
        // later one is limited on its first attempt and its one retry succeeds.
        let p = run(&server, t, ":rate", false, 1, None).await;
        let r = only_run(&p);
        assert_eq!(
            r.first_attempt.status.get(&429),
            Some(&(REQUESTS - 1)),
            "{t}"
        );
        assert_eq!(
            (r.retries, r.attempts),
            (REQUESTS - 1, 2 * REQUESTS - 1),
            "{t}"
        );
        assert_eq!(r.outcomes.success, REQUESTS, "{t}");
    }
    let always = mock(MockConfig {
        retry_after: std::time::Duration::ZERO,
        ..Default::default()
    })
    .await;
    for t in TRANSPORTS {
        let p = run(&always, t, ":rate", false, 2, None).await;
        let r = only_run(&p);
        assert_eq!(
            r.outcomes.status.get(&429),
            Some(&REQUESTS),
            "{t}: retries exhausted"
        );
        assert_eq!(r.retries, 3 * REQUESTS, "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_malformed_bodies_are_counted_by_kind() {
    let server = mock(MockConfig::default()).await;
    for t in TRANSPORTS {
        let p = run(&server, t, ":error", false, 4, None).await;
        assert_eq!(
            only_run(&p).outcomes.status.get(&500),
            Some(&REQUESTS),
            "{t}"
        );
        let p = run(&server, t, ":malformed", false, 4, None).await;
        let r = only_run(&p);
        assert_eq!(
            (r.outcomes.decode, r.outcomes.success),
            (REQUESTS, 0),
            "{t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mid_stream_reset_is_a_broken_stream_not_a_crash() {
    let faults = Faults {
        reset: Some(ChunkFault {
            every: NonZeroU32::new(2).unwrap(),
            after_chunks: 3,
        }),
        ..Default::default()
    };
    for t in TRANSPORTS {
        let server = mock(MockConfig {
            faults,
            ..Default::default()
        })
        .await;
        let p = run(&server, t, ":stream", true, 1, None).await;
        let r = only_run(&p);
        assert_eq!(r.requests, REQUESTS, "{t}");
        assert_eq!(
            (r.outcomes.stream, r.outcomes.success),
            (REQUESTS / 2, REQUESTS / 2),
            "{t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_classified_alike_by_every_transport() {
    let every = NonZeroU32::MIN;
    let reset_first = Faults {
        reset: Some(ChunkFault {
            every,
            after_chunks: 0,
        }),
        ..Default::default()
    };
    let truncate = Faults {
        truncate: Some(ChunkFault {
            every,
            after_chunks: 2,
        }),
        ..Default::default()
    };
    let stall = Faults {
        stall: Some(StallFault {
            every,
            duration: std::time::Duration::from_secs(3600),
        }),
        ..Default::default()
    };
    for t in TRANSPORTS {
        let server = with_faults(reset_first).await;
        let p = run(&server, t, "", false, 2, None).await;
        let r = only_run(&p);
        assert_eq!(
            (r.outcomes.reset, r.outcomes.connect),
            (REQUESTS, 0),
            "{t}: connected and sent, then reset before the answer"
        );
        assert!(
            r.error_samples.iter().all(|e| e.kind == "reset") && !r.error_samples.is_empty(),
            "{t}: {:?}",
            r.error_samples
        );

        let server = with_faults(truncate).await;
        let p = run(&server, t, ":stream", true, 2, None).await;
        assert_eq!(
            only_run(&p).outcomes.stream,
            REQUESTS,
            "{t}: stream without [DONE]"
        );

        let server = with_faults(stall).await;
        // Every request stalls for an hour: all of them at once, each ends at the timeout.
        let p = run_with_timeout(&server, t, "", false, REQUESTS as u32, None, "200ms").await;
        let r = only_run(&p);
        assert_eq!(
            (r.outcomes.timeout, r.outcomes.success),
            (REQUESTS, 0),
            "{t}"
        );
    }
}
