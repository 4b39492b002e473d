//! Reading one answer into an `Observation`, the same for every transport: status and
//! `Retry-After` from the headers, then the body chunk by chunk — SSE events through the
//! parser for stream routes (TTFT, gaps, tokens, `[DONE]`), the JSON check for others — and
//! why the attempt failed, when it did (`Cause`, put into words only for a sample).
//!
//! Bounded whatever the server sends: past `max_response_bytes` of body, or an SSE line or
//! event past `max_event_bytes`, `chunk` ends the attempt and tells the transport to stop
//! reading and drop the connection.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use http::HeaderMap;

use super::cause::Cause;
use super::openai;
use super::sse::{SseError, SseEvent, SseParser};
use crate::metrics::{FailureKind, Observation, Usage};
use crate::scenario::{BodyCheck, Expect};

/// What the reader must know of the request.
#[derive(Debug, Clone)]
pub(crate) struct AnswerSpec {
    /// Whether the answer is measured as a stream.
    pub(crate) stream: bool,
    /// What a good answer is.
    pub(crate) expect: Expect,
    /// Largest body read, bytes (`target.max_response_bytes`).
    pub(crate) max_response_bytes: u64,
    /// Largest SSE line or event, bytes (`target.max_event_bytes`).
    pub(crate) max_event_bytes: u64,
}

/// The answer's headers as the reader needs them: the first value of a header by name. Every
/// transport hands over its own form (hyper's and reqwest's `HeaderMap`, the lean transport's
/// parsed lines) without building another.
pub(crate) trait AnswerHeaders {
    /// The first value of the header `name` (lowercase), as sent.
    fn first(&self, name: &http::HeaderName) -> Option<&[u8]>;
}

impl AnswerHeaders for HeaderMap {
    fn first(&self, name: &http::HeaderName) -> Option<&[u8]> {
        self.get(name).map(http::HeaderValue::as_bytes)
    }
}

/// An attempt that ended without a whole answer: its failure kind and why. The transport
/// drops the connection it came on.
#[derive(Debug)]
pub(crate) struct Failed {
    /// How it is counted.
    pub(crate) kind: FailureKind,
    /// Why, for the error samples.
    pub(crate) cause: Cause,
}

impl Failed {
    /// A failure of `kind` because of `cause`.
    pub(crate) fn new(kind: FailureKind, cause: Cause) -> Self {
        Self { kind, cause }
    }
}

/// Bodies kept for the JSON check above this capacity are not kept from one answer to the
/// next: one large answer must not pin its size in every worker for the rest of the run.
const KEPT_BODY_CAPACITY: usize = 1 << 20;

/// Per-worker reusable state for reading answers.
#[derive(Debug)]
pub(crate) struct Exchange {
    sse: SseParser,
    /// Body kept for the JSON check (non-stream routes expecting JSON only).
    body: Vec<u8>,
    start: Option<Instant>,
    last_content: Option<Instant>,
    /// Why the stream does not decode, once an event did not.
    decode_error: Option<&'static str>,
    /// The stream carried an in-band error event.
    stream_error: bool,
    streaming: bool,
    keep_body: bool,
    /// The answer's body limit, bytes.
    max_response_bytes: u64,
    /// Why the last attempt failed.
    cause: Cause,
}

impl Default for Exchange {
    fn default() -> Self {
        Self {
            sse: SseParser::new(),
            body: Vec::new(),
            start: None,
            last_content: None,
            decode_error: None,
            stream_error: false,
            streaming: false,
            keep_body: false,
            max_response_bytes: u64::MAX,
            cause: Cause::None,
        }
    }
}

impl Exchange {
    /// Start an attempt at `start`.
    pub(crate) fn begin(&mut self, obs: &mut Observation, start: Instant) {
        obs.reset();
        self.sse.reset();
        self.body.clear();
        self.body.shrink_to(KEPT_BODY_CAPACITY);
        self.start = Some(start);
        self.last_content = None;
        self.decode_error = None;
        self.stream_error = false;
        self.streaming = false;
        self.keep_body = false;
        self.cause = Cause::None;
    }

    /// Append why the last attempt failed, in words (nothing when it did not, or when its
    /// status says it all).
    pub(crate) fn describe_failure(&self, buf: &mut String) {
        self.cause.describe(buf);
    }

    fn since_start(&self, now: Instant) -> u64 {
        self.start
            .map_or(0, |s| now.saturating_duration_since(s).as_micros() as u64)
    }

    /// The answer's headers arrived.
    pub(crate) fn headers(
        &mut self,
        obs: &mut Observation,
        spec: &AnswerSpec,
        status: u16,
        headers: &impl AnswerHeaders,
        now: Instant,
    ) {
        obs.status = Some(status);
        obs.ttfb_us = Some(self.since_start(now));
        self.max_response_bytes = spec.max_response_bytes;
        if !spec.expect.status_ok(status) {
            obs.failure = Some(FailureKind::Status(status));
            if status == 429 {
                obs.retry_after = headers
                    .first(&http::header::RETRY_AFTER)
                    .and_then(|v| retry_after(std::str::from_utf8(v).ok()?));
            }
            return;
        }
        if spec.stream {
            let is_sse = headers
                .first(&http::header::CONTENT_TYPE)
                .is_some_and(|v| v.starts_with(b"text/event-stream"));
            if !is_sse {
                obs.failure = Some(FailureKind::Decode);
                self.cause =
                    Cause::Said("not an SSE stream: the content-type is not text/event-stream");
                return;
            }
            let max_event = usize::try_from(spec.max_event_bytes).unwrap_or(usize::MAX);
            self.sse.set_max_event_bytes(max_event);
            self.streaming = true;
            obs.stream.active = true;
        } else {
            self.keep_body = spec.expect.body == BodyCheck::Json;
        }
    }

    /// Body bytes arrived. `Err` ends the attempt: the body outgrew a limit, and the transport
    /// must stop reading and drop the connection.
    pub(crate) fn chunk(
        &mut self,
        obs: &mut Observation,
        bytes: &[u8],
        now: Instant,
    ) -> Result<(), Failed> {
        obs.body_bytes += bytes.len() as u64;
        if obs.body_bytes > self.max_response_bytes {
            // An answer that already failed (a status, not SSE) keeps its kind and cause; one
            // that was good so far is too large.
            return Err(match obs.failure {
                Some(kind) => Failed::new(kind, std::mem::take(&mut self.cause)),
                None => Failed::new(
                    if self.streaming {
                        FailureKind::Stream
                    } else {
                        FailureKind::Decode
                    },
                    Cause::TooLarge {
                        key: "target.max_response_bytes",
                        limit: self.max_response_bytes,
                    },
                ),
            });
        }
        if self.keep_body {
            self.body.extend_from_slice(bytes);
        }
        if !self.streaming {
            return Ok(());
        }
        let since_start = self.since_start(now);
        let Self {
            sse,
            last_content,
            decode_error,
            stream_error,
            ..
        } = self;
        let stream = &mut obs.stream;
        let usage = &mut obs.usage;
        let parsed = sse.feed(bytes, |event| match event {
            SseEvent::Done => stream.done = true,
            // An empty event carries nothing (some servers send them to keep the line open).
            SseEvent::Data("") => {}
            SseEvent::Data(data) => match openai::inspect_chunk(data) {
                None => {
                    decode_error.get_or_insert("an event's data is not JSON");
                }
                Some(info) => {
                    *stream_error |= info.error;
                    if info.has_content {
                        match last_content {
                            None => stream.ttft_us = Some(since_start),
                            Some(last) => stream
                                .gaps_us
                                .push(now.saturating_duration_since(*last).as_micros() as u64),
                        }
                        *last_content = Some(now);
                        stream.content_events += 1;
                    }
                    if info.usage.is_some() {
                        *usage = info.usage;
                    }
                }
            },
        });
        match parsed {
            Ok(()) => Ok(()),
            Err(SseError::NotUtf8) => {
                self.decode_error
                    .get_or_insert("an event's data is not UTF-8");
                Ok(())
            }
            Err(SseError::TooLarge { limit }) => Err(Failed::new(
                FailureKind::Stream,
                Cause::TooLarge {
                    key: "target.max_event_bytes",
                    limit: limit as u64,
                },
            )),
        }
    }

    /// The body ended normally.
    pub(crate) fn finish(&mut self, obs: &mut Observation, now: Instant) {
        obs.latency_us = self.since_start(now);
        if obs.failure.is_some() {
            return;
        }
        if self.streaming {
            if let Some(why) = self.decode_error {
                obs.failure = Some(FailureKind::Decode);
                self.cause = Cause::Said(why);
            } else if self.stream_error {
                obs.failure = Some(FailureKind::Stream);
                self.cause = Cause::Said("the server reported an error in the stream");
            } else if !obs.stream.done {
                obs.failure = Some(FailureKind::Stream);
                self.cause = Cause::Said("the stream ended without `data: [DONE]`");
            } else if obs.usage.is_none() {
                let events = u64::from(obs.stream.content_events);
                obs.usage = Some(Usage {
                    completion_tokens: events,
                    total_tokens: events,
                    estimated: true,
                    ..Usage::default()
                });
            }
        } else if self.keep_body {
            match openai::inspect_completion(&self.body) {
                Ok(usage) => obs.usage = usage,
                Err(openai::NotJson) => {
                    obs.failure = Some(FailureKind::Decode);
                    self.cause = Cause::Said("the body is not JSON");
                }
            }
        }
    }

    /// The attempt failed (no answer, a broken body, a body over a limit).
    pub(crate) fn fail(&mut self, obs: &mut Observation, failed: Failed, now: Instant) {
        obs.latency_us = self.since_start(now);
        obs.failure = Some(failed.kind);
        self.cause = failed.cause;
    }

    /// The whole-attempt timeout elapsed.
    pub(crate) fn time_out(&mut self, obs: &mut Observation, now: Instant) {
        let why = if obs.status.is_some() {
            "`target.timeout` elapsed while the body was read"
        } else {
            "`target.timeout` elapsed before the answer's headers"
        };
        self.fail(
            obs,
            Failed::new(FailureKind::Timeout, Cause::Said(why)),
            now,
        );
    }
}

/// `Retry-After`: delay seconds or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
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
}
