//! Reading one answer into an `Observation`, the same for every transport: status and
//! `Retry-After` from the headers, then the body chunk by chunk — SSE events through the
//! parser for stream routes (TTFT, gaps, tokens, `[DONE]`), the JSON check for others
//! (`json_scan`, which keeps no body) — and why the attempt failed, when it did (`Cause`, put
//! into words only for a sample).
//!
//! Bounded whatever the server sends: past `max_response_bytes` of body, or an SSE line or
//! event past `max_event_bytes`, `chunk` ends the attempt and tells the transport to stop
//! reading and drop the connection.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use http::HeaderMap;

use super::cause::Cause;
use super::json_scan::JsonScan;
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

/// Per-worker reusable state for reading answers.
#[derive(Debug)]
pub(crate) struct Exchange {
    sse: SseParser,
    /// The JSON check (non-stream routes expecting JSON only), fed as the body arrives: no
    /// body is kept, whatever its size.
    json: JsonScan,
    start: Option<Instant>,
    last_content: Option<Instant>,
    /// Why the stream does not decode, once an event did not.
    decode_error: Option<&'static str>,
    /// The stream carried an in-band error event.
    stream_error: bool,
    streaming: bool,
    /// Whether the body goes through the JSON check.
    check_json: bool,
    /// The answer's body limit, bytes.
    max_response_bytes: u64,
    /// Why the last attempt failed.
    cause: Cause,
}

impl Default for Exchange {
    fn default() -> Self {
        Self {
            sse: SseParser::new(),
            json: JsonScan::default(),
            start: None,
            last_content: None,
            decode_error: None,
            stream_error: false,
            streaming: false,
            check_json: false,
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
        self.json.reset();
        self.start = Some(start);
        self.last_content = None;
        self.decode_error = None;
        self.stream_error = false;
        self.streaming = false;
        self.check_json = false;
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
            self.check_json = spec.expect.body == BodyCheck::Json;
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
        if self.check_json {
            self.json.feed(bytes);
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
        } else if self.check_json {
            match self.json.finish() {
                Ok(usage) => obs.usage = usage,
                Err(openai::NotJson(why)) => {
                    obs.failure = Some(FailureKind::Decode);
                    self.cause = Cause::Said(why);
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
mod tests;
