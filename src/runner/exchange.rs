//! Reading one answer into an `Observation`, the same for every transport: status and
//! `Retry-After` from the headers, then the body chunk by chunk — SSE events through the
//! parser for stream routes (TTFT, gaps, tokens, `[DONE]`), the JSON check for others.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use http::HeaderMap;

use super::openai;
use super::sse::{SseEvent, SseParser};
use crate::metrics::{FailureKind, Observation, Usage};
use crate::scenario::{BodyCheck, Expect};

/// What the reader must know of the request.
#[derive(Debug, Clone)]
pub(crate) struct AnswerSpec {
    /// Whether the answer is measured as a stream.
    pub(crate) stream: bool,
    /// What a good answer is.
    pub(crate) expect: Expect,
}

/// Per-worker reusable state for reading answers.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    sse: SseParser,
    /// Body kept for the JSON check (non-stream routes expecting JSON only).
    body: Vec<u8>,
    start: Option<Instant>,
    last_content: Option<Instant>,
    decode_error: bool,
    /// The stream carried an in-band error event.
    stream_error: bool,
    streaming: bool,
    keep_body: bool,
}

impl Exchange {
    /// Start an attempt at `start`.
    pub(crate) fn begin(&mut self, obs: &mut Observation, start: Instant) {
        obs.reset();
        self.sse.reset();
        self.body.clear();
        self.start = Some(start);
        self.last_content = None;
        self.decode_error = false;
        self.stream_error = false;
        self.streaming = false;
        self.keep_body = false;
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
        headers: &HeaderMap,
        now: Instant,
    ) {
        obs.status = Some(status);
        obs.ttfb_us = Some(self.since_start(now));
        if !spec.expect.status_ok(status) {
            obs.failure = Some(FailureKind::Status(status));
            if status == 429 {
                obs.retry_after = headers
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| retry_after(v.to_str().ok()?));
            }
            return;
        }
        if spec.stream {
            let is_sse = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            if !is_sse {
                obs.failure = Some(FailureKind::Decode);
                return;
            }
            self.streaming = true;
            obs.stream.active = true;
        } else {
            self.keep_body = spec.expect.body == BodyCheck::Json;
        }
    }

    /// Body bytes arrived.
    pub(crate) fn chunk(&mut self, obs: &mut Observation, bytes: &[u8], now: Instant) {
        obs.body_bytes += bytes.len() as u64;
        if self.keep_body {
            self.body.extend_from_slice(bytes);
        }
        if !self.streaming {
            return;
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
                None => *decode_error = true,
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
        if parsed.is_err() {
            self.decode_error = true;
        }
    }

    /// The body ended normally.
    pub(crate) fn finish(&mut self, obs: &mut Observation, now: Instant) {
        obs.latency_us = self.since_start(now);
        if obs.failure.is_some() {
            return;
        }
        if self.streaming {
            if self.decode_error {
                obs.failure = Some(FailureKind::Decode);
            } else if self.stream_error || !obs.stream.done {
                obs.failure = Some(FailureKind::Stream);
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
                Err(openai::NotJson) => obs.failure = Some(FailureKind::Decode),
            }
        }
    }

    /// The attempt failed (no answer, a broken body, a timeout).
    pub(crate) fn fail(&mut self, obs: &mut Observation, kind: FailureKind, now: Instant) {
        obs.latency_us = self.since_start(now);
        obs.failure = Some(kind);
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
            ex.chunk(&mut obs, piece, t0 + Duration::from_millis(2 + i as u64));
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
                ex.chunk(obs, bytes, t0 + Duration::from_millis(*at_ms));
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
        ex.chunk(&mut obs, b"data: {\"choices\":[]}\n\n", t0);
        ex.finish(&mut obs, t0);
        assert_eq!(obs.failure, Some(FailureKind::Stream));

        ex.begin(&mut obs, t0);
        ex.headers(&mut obs, &spec(false), 200, &HeaderMap::new(), t0);
        ex.chunk(&mut obs, b"{\"choices\": [", t0);
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
        );
        ex.chunk(
            &mut obs,
            b"data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n",
            t0,
        );
        ex.finish(&mut obs, t0);
        assert_eq!(obs.failure, Some(FailureKind::Stream));
        assert_eq!(obs.stream.content_events, 1);
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
