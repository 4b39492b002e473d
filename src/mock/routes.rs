//! Request handling of the mock: routing (404, 405 with `Allow`), body checks (400, 413),
//! latency, and the answer of each route with its fault, if any. Who gets limited or faulted
//! is `policy`'s call; how a faulted connection ends is `conn`'s job.
//!
//! Latency (`MockConfig::latency` plus jitter) applies to every answer of the five chat routes
//! once their body is read — including 400 — counted from the request's arrival. `/health`,
//! `/v1/models`, 404, 405 and 413 answer at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::MockConfig;
use super::bodies::{self, ChunkPrefix, Stamp};
use super::conn::{ConnControl, Ending};
use super::lateness::Due;
use super::pacer::Pacer;
use super::policy::{Fault, Policy};
use super::request;
use super::stream::{self, MockBody, ResetFault, StreamEnd, StreamPlan};

/// Server-wide state.
pub(crate) struct Shared {
    /// The knobs.
    pub(crate) config: MockConfig,
    /// Rate-limit and fault counters.
    policy: Policy,
    /// Answers so far: the number in each completion's `id`.
    answers: AtomicU64,
    /// Content of the non-streamed completion as a JSON string, rendered once.
    completion_json: String,
    /// Paces stream chunks and latency more precisely than tokio's 1 ms timer.
    pacer: Arc<Pacer>,
    /// Whether answers wait (a latency or jitter is set).
    delays: bool,
    /// The service slots of `MockConfig::capacity` (a fair semaphore: first come, first
    /// served).
    slots: Option<tokio::sync::Semaphore>,
}

impl Shared {
    /// State for a server with `config`.
    pub(crate) fn new(config: MockConfig) -> std::io::Result<Self> {
        let completion_json =
            bodies::json_string(&bodies::completion_text(config.completion_tokens));
        let delays = !(config.latency.is_zero() && config.jitter.is_zero());
        let slots = config
            .capacity
            .map(|n| tokio::sync::Semaphore::new(n.get() as usize));
        Ok(Self {
            config,
            policy: Policy::new(),
            answers: AtomicU64::new(0),
            completion_json,
            pacer: Arc::new(Pacer::start()?),
            delays,
            slots,
        })
    }

    fn stamp(&self) -> Stamp {
        Stamp::now(self.answers.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    Models,
    /// `GET /mock/stats`: how late the mock ran against its own schedule.
    Stats,
    Chat(Route),
}

/// The five chat routes of the seed framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Chat,
    Stream,
    Rate,
    Error,
    Malformed,
}

impl Endpoint {
    fn from_path(path: &str) -> Option<Self> {
        Some(match path {
            "/health" => Self::Health,
            "/v1/models" => Self::Models,
            "/mock/stats" => Self::Stats,
            "/v1/chat/completions" => Self::Chat(Route::Chat),
            "/v1/chat/completions:stream" => Self::Chat(Route::Stream),
            "/v1/chat/completions:rate" => Self::Chat(Route::Rate),
            "/v1/chat/completions:error" => Self::Chat(Route::Error),
            "/v1/chat/completions:malformed" => Self::Chat(Route::Malformed),
            _ => return None,
        })
    }

    /// The one method the endpoint answers.
    fn method(self) -> &'static str {
        match self {
            Self::Health | Self::Models | Self::Stats => "GET",
            Self::Chat(_) => "POST",
        }
    }
}

/// Answer one request. `Err` drops the connection without an answer (a reset armed on
/// `conn` before the headers).
pub(crate) async fn handle(
    req: http::Request<Incoming>,
    shared: &Shared,
    conn: &Arc<ConnControl>,
) -> Result<Response<MockBody>, ResetFault> {
    // Latency counts from here; without latency the clock need not be read.
    let arrived = shared.delays.then(std::time::Instant::now);
    let path = req.uri().path();
    let Some(endpoint) = Endpoint::from_path(path) else {
        let message = format!("unknown path `{path}`");
        return Ok(error(StatusCode::NOT_FOUND, &message, None, "not_found"));
    };
    if req.method().as_str() != endpoint.method() {
        let allowed = endpoint.method();
        let message = format!(
            "`{}` is not allowed on `{path}`; use {allowed}",
            req.method()
        );
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            &message,
            None,
            "method_not_allowed",
        );
        let allow = HeaderValue::from_static(allowed);
        response.headers_mut().insert(header::ALLOW, allow);
        return Ok(response);
    }
    let route = match endpoint {
        Endpoint::Health => return Ok(json(StatusCode::OK, bodies::health())),
        Endpoint::Models => return Ok(json(StatusCode::OK, bodies::models())),
        Endpoint::Stats => return Ok(json(StatusCode::OK, shared.pacer.lateness().json())),
        Endpoint::Chat(route) => route,
    };
    let config = &shared.config;
    let fault = match route {
        Route::Chat | Route::Stream => shared.policy.fault(req.headers(), config),
        _ => Fault::None,
    };
    let body = match read_body(req, config.max_body_bytes).await {
        Ok(body) => body,
        Err(BodyProblem::TooLarge) => {
            // The client may still be sending: read on after the answer so it sees the 413.
            conn.arm(Ending::Linger);
            return Ok(too_large(config.max_body_bytes));
        }
        Err(BodyProblem::Unreadable(e)) => {
            let message = format!("cannot read the request body: {e}");
            return Ok(error(StatusCode::BAD_REQUEST, &message, None, "bad_body"));
        }
    };
    let parsed = request::parse(&body);
    // With service slots, a request's latency runs once it holds one.
    let slot = match &shared.slots {
        Some(slots) => slots.acquire().await.ok(),
        None => None,
    };
    // When the answer is due: a stream's chunks count from here.
    let mut due = match arrived {
        Some(arrived) => {
            let start = if slot.is_some() {
                std::time::Instant::now()
            } else {
                arrived
            };
            let due = start + shared.policy.delay(config);
            shared.pacer.sleep_until(due).await;
            let late = std::time::Instant::now().saturating_duration_since(due);
            shared.pacer.lateness().record(Due::Answer, late);
            due
        }
        None => std::time::Instant::now(),
    };
    drop(slot);
    let request = match parsed {
        Ok(request) => request,
        Err(problem) => {
            let message = problem.message();
            return Ok(error(
                StatusCode::BAD_REQUEST,
                &message,
                problem.param(),
                problem.code(),
            ));
        }
    };
    match fault {
        Fault::Stall(d) => {
            // The stall is the answer's, on purpose: its stream is paced from the stall's end.
            tokio::time::sleep(d).await;
            due = std::time::Instant::now();
        }
        Fault::Reset(0) => {
            conn.arm(Ending::Reset);
            return Err(ResetFault);
        }
        _ => {}
    }
    let model = request.model.as_deref().unwrap_or("mock-gpt");
    let prompt = bodies::prompt_tokens(body.len());
    Ok(match route {
        Route::Stream => stream_response(shared, model, prompt, fault, conn, due),
        Route::Chat if request.stream => stream_response(shared, model, prompt, fault, conn, due),
        Route::Chat => {
            let body = completion(shared, model, prompt);
            let half = body.len() / 2;
            match fault {
                Fault::Reset(_) => partial(body, half, Ending::Reset, conn),
                Fault::Truncate(0) => partial(body, 0, Ending::Close, conn),
                Fault::Truncate(_) => partial(body, half, Ending::Close, conn),
                Fault::None | Fault::Stall(_) => json(StatusCode::OK, body),
            }
        }
        Route::Rate if shared.policy.rate_limited(config.rate_limit) => {
            let retry_after = config.retry_after.as_secs_f64().ceil() as u64;
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate limit reached, retry later",
                None,
                "rate_limit_exceeded",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Route::Rate => json(StatusCode::OK, completion(shared, model, prompt)),
        Route::Error => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the mock failed on purpose",
            None,
            "internal_error",
        ),
        Route::Malformed => json(StatusCode::OK, bodies::malformed(shared.stamp(), model)),
    })
}

fn completion(shared: &Shared, model: &str, prompt: u64) -> Bytes {
    bodies::completion(
        shared.stamp(),
        model,
        &shared.completion_json,
        prompt,
        shared.config.completion_tokens,
    )
}

/// A JSON answer whose headers promise all of `body` but of which only the first `sent` bytes
/// go out, after which the connection ends as `then` says — what a server dying mid-answer
/// looks like on the wire.
fn partial(body: Bytes, sent: usize, then: Ending, conn: &Arc<ConnControl>) -> Response<MockBody> {
    let mut response = Response::new(MockBody::Partial {
        bytes: Some(body.slice(..sent)),
        then,
        conn: Arc::clone(conn),
    });
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    response
}

fn stream_response(
    shared: &Shared,
    model: &str,
    prompt: u64,
    fault: Fault,
    conn: &Arc<ConnControl>,
    due: std::time::Instant,
) -> Response<MockBody> {
    let shape = shared.config.stream;
    let end = match fault {
        Fault::Reset(n) => StreamEnd::Reset(n),
        Fault::Truncate(n) => StreamEnd::Truncate(n),
        Fault::None | Fault::Stall(_) => StreamEnd::Complete,
    };
    let plan = StreamPlan {
        prefix: ChunkPrefix::new(shared.stamp(), model),
        prompt_tokens: prompt,
        chunks: shape.chunks,
        due,
        first_chunk: shape.first_chunk,
        interval: shape.interval,
        end,
    };
    let body = stream::body(plan, Arc::clone(&shared.pacer), Arc::clone(conn));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn json(status: StatusCode, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An OpenAI-style error answer (`type` from the status).
fn error(status: StatusCode, message: &str, param: Option<&str>, code: &str) -> Response<MockBody> {
    let kind = match status {
        StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
        s if s.is_server_error() => "server_error",
        _ => "invalid_request_error",
    };
    json(status, bodies::error(message, kind, param, code))
}

fn too_large(limit: u64) -> Response<MockBody> {
    let message = format!("request body larger than {limit} bytes");
    let mut response = error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &message,
        None,
        "body_too_large",
    );
    // The unread rest of the body cannot be skipped to reach a next request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Why a request body was not read.
enum BodyProblem {
    TooLarge,
    Unreadable(hyper::Error),
}

/// The whole request body, or why not.
async fn read_body(req: http::Request<Incoming>, limit: u64) -> Result<Bytes, BodyProblem> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyProblem::TooLarge);
    }
    // Frames are gathered by hand: a small body arrives in one frame, kept as it is, with no
    // copy (`Collected` would copy it through a buffer list).
    let mut body = req.into_body();
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut len: u64 = 0;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(BodyProblem::Unreadable)?.into_data() else {
            continue; // trailers
        };
        len += data.len() as u64;
        if len > limit {
            return Err(BodyProblem::TooLarge);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            head => {
                if let Some(head) = head {
                    joined.extend_from_slice(&head);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}
