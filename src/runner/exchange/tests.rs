//! Reading answers: SSE streams cut anywhere, JSON answers checked as they arrive, limits,
//! failures and `Retry-After`.

use super::*;

fn spec(stream: bool) -> AnswerSpec {
    let body = if stream {
        BodyCheck::Sse
    } else {
        BodyCheck::Json
    };
    AnswerSpec {
        stream,
        expect: Expect {
            status: Vec::new(),
            body,
        },
        max_response_bytes: 1000,
        max_event_bytes: 100,
    }
}

fn sse_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        "text/event-stream".parse().unwrap(),
    );
    h
}

#[test]
fn retry_after_in_seconds_or_as_a_date() {
    assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
    assert_eq!(retry_after(&past), Some(Duration::ZERO));
    assert_eq!(retry_after("soon"), None);
}

#[test]
fn a_stream_split_anywhere_gives_ttft_gaps_and_tokens() {
    let body = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n\
                data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n\
                data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n\
                data: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\n\
                data: [DONE]\n\n";
    let t0 = Instant::now();
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    ex.begin(&mut obs, t0);
    ex.headers(
        &mut obs,
        &spec(true),
        200,
        &sse_headers(),
        t0 + Duration::from_millis(1),
    );
    for (i, piece) in body.as_bytes().chunks(7).enumerate() {
        ex.chunk(&mut obs, piece, t0 + Duration::from_millis(2 + i as u64))
            .unwrap();
    }
    ex.finish(&mut obs, t0 + Duration::from_millis(100));
    assert_eq!(obs.failure, None);
    assert_eq!(obs.stream.content_events, 3);
    assert_eq!(obs.stream.gaps_us.len(), 2);
    let ttft = obs.stream.ttft_us.unwrap();
    assert!(obs.ttfb_us.unwrap() <= ttft && ttft <= obs.latency_us);
    let usage = obs.usage.unwrap();
    assert!(usage.estimated);
    assert_eq!(usage.completion_tokens, 3);
}

#[test]
fn a_stream_in_one_read_is_not_streamed() {
    let event = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
    let body = event.repeat(13) + "data: [DONE]\n\n";
    let t0 = Instant::now();
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    let read = |ex: &mut Exchange, obs: &mut Observation, chunks: &[(&[u8], u64)]| {
        ex.begin(obs, t0);
        ex.headers(obs, &spec(true), 200, &sse_headers(), t0);
        for (bytes, at_ms) in chunks {
            ex.chunk(obs, bytes, t0 + Duration::from_millis(*at_ms))
                .unwrap();
        }
        ex.finish(obs, t0 + Duration::from_millis(20));
    };
    read(&mut ex, &mut obs, &[(body.as_bytes(), 2)]);
    assert_eq!(obs.failure, None);
    assert_eq!(obs.stream.content_events, 13);
    assert!(obs.stream.not_streamed(), "13 events in one read");

    let (first, rest) = body.split_at(event.len());
    read(
        &mut ex,
        &mut obs,
        &[(first.as_bytes(), 2), (rest.as_bytes(), 3)],
    );
    assert!(!obs.stream.not_streamed(), "a gap of 1 ms is a stream");
}

#[test]
fn a_stream_without_done_is_broken_and_bad_json_is_decode() {
    let t0 = Instant::now();
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    ex.begin(&mut obs, t0);
    ex.headers(&mut obs, &spec(true), 200, &sse_headers(), t0);
    ex.chunk(&mut obs, b"data: {\"choices\":[]}\n\n", t0)
        .unwrap();
    ex.finish(&mut obs, t0);
    assert_eq!(obs.failure, Some(FailureKind::Stream));

    ex.begin(&mut obs, t0);
    ex.headers(&mut obs, &spec(false), 200, &HeaderMap::new(), t0);
    ex.chunk(&mut obs, b"{\"choices\": [", t0).unwrap();
    ex.finish(&mut obs, t0);
    assert_eq!(obs.failure, Some(FailureKind::Decode));
    let mut why = String::new();
    ex.describe_failure(&mut why);
    assert_eq!(why, "the body is not JSON: it ends before its value does");
}

#[test]
fn a_json_answer_in_pieces_gives_its_usage() {
    let body = br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
    let t0 = Instant::now();
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    ex.begin(&mut obs, t0);
    ex.headers(&mut obs, &spec(false), 200, &HeaderMap::new(), t0);
    for piece in body.chunks(5) {
        ex.chunk(&mut obs, piece, t0).unwrap();
    }
    ex.finish(&mut obs, t0);
    assert_eq!(obs.failure, None);
    assert_eq!(obs.usage.map(|u| u.total_tokens), Some(10));
}

#[test]
fn a_large_json_answer_is_checked_without_being_kept() {
    let text = "x".repeat(8 << 20);
    let body = format!(
        r#"{{"choices":[{{"message":{{"content":"{text}"}}}}],"usage":{{"prompt_tokens":1}}}}"#
    );
    let t0 = Instant::now();
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    ex.begin(&mut obs, t0);
    let mut spec = spec(false);
    spec.max_response_bytes = 16 << 20;
    ex.headers(&mut obs, &spec, 200, &HeaderMap::new(), t0);
    for piece in body.as_bytes().chunks(64 << 10) {
        ex.chunk(&mut obs, piece, t0).unwrap();
    }
    assert!(
        ex.json.held_bytes() < 1024,
        "{} bytes held",
        ex.json.held_bytes()
    );
    ex.finish(&mut obs, t0);
    assert_eq!(obs.failure, None);
    assert_eq!(obs.usage.map(|u| u.prompt_tokens), Some(1));
}

#[test]
fn an_in_band_error_breaks_the_stream_and_empty_events_are_ignored() {
    let t0 = Instant::now();
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    ex.begin(&mut obs, t0);
    ex.headers(&mut obs, &spec(true), 200, &sse_headers(), t0);
    ex.chunk(
        &mut obs,
        b"data:\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
        t0,
    )
    .unwrap();
    ex.chunk(
        &mut obs,
        b"data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n",
        t0,
    )
    .unwrap();
    ex.finish(&mut obs, t0);
    assert_eq!(obs.failure, Some(FailureKind::Stream));
    assert_eq!(obs.stream.content_events, 1);
    assert_eq!(said(&ex), "the server reported an error in the stream");
}

fn said(ex: &Exchange) -> String {
    let mut buf = String::new();
    ex.describe_failure(&mut buf);
    buf
}

/// Feed `pieces` after the headers of `status`; the failure `chunk` ended it with, if any.
fn feed(
    ex: &mut Exchange,
    obs: &mut Observation,
    stream: bool,
    status: u16,
    pieces: &[&[u8]],
) -> Option<FailureKind> {
    let t0 = Instant::now();
    ex.begin(obs, t0);
    let headers = if stream {
        sse_headers()
    } else {
        HeaderMap::new()
    };
    ex.headers(obs, &spec(stream), status, &headers, t0);
    for piece in pieces {
        if let Err(failed) = ex.chunk(obs, piece, t0) {
            let kind = failed.kind;
            ex.fail(obs, failed, t0);
            return Some(kind);
        }
    }
    ex.finish(obs, t0);
    None
}

#[test]
fn a_body_over_the_limit_ends_the_attempt_by_kind() {
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    let big = [b' '; 600];
    // The limit is 1000 bytes: 600 + 600 is over it, whatever the body is.
    assert_eq!(
        feed(&mut ex, &mut obs, false, 200, &[&big, &big, &big]),
        Some(FailureKind::Decode)
    );
    assert_eq!(
        obs.body_bytes, 1200,
        "the reading stopped at the chunk over the limit"
    );
    assert_eq!(said(&ex), "larger than `target.max_response_bytes` (1000B)");
    assert_eq!(
        feed(&mut ex, &mut obs, false, 500, &[&big, &big]),
        Some(FailureKind::Status(500)),
        "a status failure stays one"
    );
    // A stream route answered without SSE: a decode failure, and it says why.
    let t0 = Instant::now();
    ex.begin(&mut obs, t0);
    ex.headers(&mut obs, &spec(true), 200, &HeaderMap::new(), t0);
    let failed = ex.chunk(&mut obs, &[b'x'; 1001], t0).unwrap_err();
    ex.fail(&mut obs, failed, t0);
    assert_eq!(obs.failure, Some(FailureKind::Decode));
    assert_eq!(
        said(&ex),
        "not an SSE stream: the content-type is not text/event-stream"
    );
    // A stream of 50-byte comment lines, each well under the event limit.
    let comment = [&b": "[..], &[b'x'; 47], b"\n"].concat();
    assert_eq!(
        feed(&mut ex, &mut obs, true, 200, &vec![&comment[..]; 21]),
        Some(FailureKind::Stream)
    );
    assert_eq!(said(&ex), "larger than `target.max_response_bytes` (1000B)");
    // Exactly at the limit is fine.
    assert_eq!(
        feed(&mut ex, &mut obs, false, 200, &[b"{}", &[b' '; 998]]),
        None
    );
    assert_eq!(obs.failure, None);
}

#[test]
fn an_sse_line_over_the_event_limit_breaks_the_stream() {
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    let line = [b'a'; 40];
    // 120 bytes of one unfinished line: over the 100-byte event limit, under the body's.
    assert_eq!(
        feed(
            &mut ex,
            &mut obs,
            true,
            200,
            &[b"data: ", &line, &line, &line]
        ),
        Some(FailureKind::Stream)
    );
    assert_eq!(said(&ex), "larger than `target.max_event_bytes` (100B)");
    // The next attempt starts clean.
    let ok = b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n";
    assert_eq!(feed(&mut ex, &mut obs, true, 200, &[ok]), None);
    assert_eq!((obs.failure, said(&ex).as_str()), (None, ""));
}

#[test]
fn a_429_keeps_its_retry_after() {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
    let mut ex = Exchange::default();
    let mut obs = Observation::default();
    ex.begin(&mut obs, Instant::now());
    ex.headers(&mut obs, &spec(false), 429, &headers, Instant::now());
    assert_eq!(obs.failure, Some(FailureKind::Status(429)));
    assert_eq!(obs.retry_after, Some(Duration::from_secs(2)));
}
