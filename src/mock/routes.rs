//! Request handling of the mock: routing, body checks (400, 413), latency, rate limiting and
//! fault selection. One `Shared` per server holds the config and the counters every-Nth rules
//! use (atomics: connections are served on several threads).

use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::MockConfig;
use super::bodies::{self, ChatRequest};
use super::config::RateLimit;
use super::pacer::Pacer;
use super::stream::{self, MockBody, ResetFault, StreamEnd, StreamPlan};

/// Server-wide state.
pub(crate) struct Shared {
    /// The knobs.
    pub(crate) config: MockConfig,
    /// When the server started (rate-limit windows count from here).
    pub(crate) started: Instant,
    /// Requests to `:rate` so far.
    rate_requests: AtomicU64,
    /// Requests to the chat routes so far (faults strike every Nth).
    chat_requests: AtomicU64,
    /// Content of the non-streamed completion as a JSON string, rendered once.
    completion_json: String,
    /// Paces stream chunks more precisely than tokio's 1 ms timer.
    pacer: Arc<Pacer>,
}

impl Shared {
    /// State for a server with `config`.
    pub(crate) fn new(config: MockConfig) -> std::io::Result<Self> {
        let completion_json =
            bodies::json_string(&bodies::completion_text(config.completion_tokens));
        Ok(Self {
            config,
            started: Instant::now(),
            rate_requests: AtomicU64::new(0),
            chat_requests: AtomicU64::new(0),
            completion_json,
            pacer: Arc::new(Pacer::start()?),
        })
    }
}

/// The seed routes, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Chat,
    Stream,
    Rate,
    Error,
    Malformed,
}

/// A fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Stall(Duration),
    Reset(u32),
    Truncate(u32),
}

/// Answer one request. `Err` drops the connection (the reset fault; `fd` gets `SO_LINGER 0`
/// first so that the peer sees a TCP reset, not a clean close).
pub(crate) async fn handle(
    req: http::Request<Incoming>,
    shared: &Shared,
    fd: RawFd,
) -> Result<Response<MockBody>, ResetFault> {
    let route = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => {
            return Ok(json(
                StatusCode::OK,
                Bytes::from_static(br#"{"status":"ok"}"#),
            ));
        }
        (&Method::GET, "/v1/models") => return Ok(json(StatusCode::OK, bodies::models())),
        (_, "/v1/chat/completions") => Route::Chat,
        (_, "/v1/chat/completions:stream") => Route::Stream,
        (_, "/v1/chat/completions:rate") => Route::Rate,
        (_, "/v1/chat/completions:error") => Route::Error,
        (_, "/v1/chat/completions:malformed") => Route::Malformed,
        (_, path) => {
            let message = format!("unknown path `{path}`");
            return Ok(json(
                StatusCode::NOT_FOUND,
                bodies::error(&message, "invalid_request_error", "not_found"),
            ));
        }
    };
    if req.method() != Method::POST {
        let body = bodies::error("use POST", "invalid_request_error", "method_not_allowed");
        return Ok(json(StatusCode::METHOD_NOT_ALLOWED, body));
    }
    let fault = choose_fault(&req, route, shared);
    let body = match read_body(req, shared.config.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return Ok(response),
    };
    let request: ChatRequest<'_> = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("the request body is not valid JSON: {e}");
            return Ok(json(
                StatusCode::BAD_REQUEST,
                bodies::error(&message, "invalid_request_error", "invalid_json"),
            ));
        }
    };
    delay(shared).await;
    match fault {
        Fault::Stall(d) => tokio::time::sleep(d).await,
        Fault::Reset(0) if !(route == Route::Stream || request.stream) => {
            set_linger_zero(fd);
            return Err(ResetFault);
        }
        _ => {}
    }
    let model = request.model.as_deref().unwrap_or("mock-gpt");
    let prompt = bodies::prompt_tokens(body.len());
    Ok(match route {
        Route::Stream => stream_response(shared, model, prompt, fault, fd),
        Route::Chat if request.stream => stream_response(shared, model, prompt, fault, fd),
        Route::Chat => completion(shared, model, prompt),
        Route::Rate if rate_limited(shared) => {
            let retry_after = shared.config.retry_after.as_secs_f64().ceil() as u64;
            let body = bodies::error(
                "rate limit reached, retry later",
                "rate_limit_error",
                "rate_limit_exceeded",
            );
            let mut response = json(StatusCode::TOO_MANY_REQUESTS, body);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Route::Rate => completion(shared, model, prompt),
        Route::Error => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            bodies::error(
                "the mock failed on purpose",
                "server_error",
                "internal_error",
            ),
        ),
        Route::Malformed => json(StatusCode::OK, bodies::malformed()),
    })
}

fn completion(shared: &Shared, model: &str, prompt: u64) -> Response<MockBody> {
    let body = bodies::completion(
        model,
        &shared.completion_json,
        prompt,
        shared.config.completion_tokens,
    );
    json(StatusCode::OK, body)
}

fn stream_response(
    shared: &Shared,
    model: &str,
    prompt: u64,
    fault: Fault,
    fd: RawFd,
) -> Response<MockBody> {
    let shape = shared.config.stream;
    let end = match fault {
        Fault::Reset(n) => StreamEnd::Reset(n),
        Fault::Truncate(n) => StreamEnd::Truncate(n),
        Fault::None | Fault::Stall(_) => StreamEnd::Complete,
    };
    let plan = StreamPlan {
        model: model.to_string(),
        prompt_tokens: prompt,
        chunks: shape.chunks,
        first_chunk: shape.first_chunk,
        interval: shape.interval,
        end,
    };
    let body = stream::spawn(plan, Arc::clone(&shared.pacer), move || set_linger_zero(fd));
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

/// The whole request body, or the error answer (413 over the limit).
async fn read_body(req: http::Request<Incoming>, limit: u64) -> Result<Bytes, Response<MockBody>> {
    let too_large = || {
        let message = format!("request body larger than {limit} bytes");
        json(
            StatusCode::PAYLOAD_TOO_LARGE,
            bodies::error(&message, "invalid_request_error", "body_too_large"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), limit as usize)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(e) => {
            let message = format!("cannot read the request body: {e}");
            Err(json(
                StatusCode::BAD_REQUEST,
                bodies::error(&message, "invalid_request_error", "bad_body"),
            ))
        }
    }
}

/// Fixed latency plus uniform jitter (a cheap hash of a counter: no RNG state to share).
async fn delay(shared: &Shared) {
    let config = &shared.config;
    let mut wait = config.latency;
    if !config.jitter.is_zero() {
        let seed = shared.started.elapsed().as_nanos() as u64;
        let jitter_us = config.jitter.as_micros() as u64;
        wait += Duration::from_micros(mix(seed) % (jitter_us + 1));
    }
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// splitmix64's finalizer: spreads nearby seeds over the whole range.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn rate_limited(shared: &Shared) -> bool {
    match shared.config.rate_limit {
        RateLimit::Always => true,
        RateLimit::EveryNth(n) => {
            let seen = shared.rate_requests.fetch_add(1, Ordering::Relaxed);
            seen % u64::from(n.get()) == 0
        }
        RateLimit::Window { period, limited } => {
            let elapsed = shared.started.elapsed().as_nanos();
            elapsed % period.as_nanos().max(1) < limited.as_nanos()
        }
    }
}

/// The fault for this request: the `x-mock-fault` header, else the every-Nth rules.
fn choose_fault(req: &http::Request<Incoming>, route: Route, shared: &Shared) -> Fault {
    if !matches!(route, Route::Chat | Route::Stream) {
        return Fault::None;
    }
    let faults = &shared.config.faults;
    if let Some(asked) = req
        .headers()
        .get("x-mock-fault")
        .and_then(|v| v.to_str().ok())
    {
        let after = |f: Option<super::ChunkFault>| {
            f.map_or(shared.config.stream.chunks / 2, |f| f.after_chunks)
        };
        return match asked {
            "stall" => Fault::Stall(faults.stall.map_or(Duration::from_secs(1), |s| s.duration)),
            "reset" => Fault::Reset(after(faults.reset)),
            "truncate" => Fault::Truncate(after(faults.truncate)),
            _ => Fault::None,
        };
    }
    if faults.stall.is_none() && faults.reset.is_none() && faults.truncate.is_none() {
        return Fault::None;
    }
    let n = shared.chat_requests.fetch_add(1, Ordering::Relaxed) + 1;
    let hits = |every: std::num::NonZeroU32| n % u64::from(every.get()) == 0;
    if let Some(f) = faults.reset.filter(|f| hits(f.every)) {
        return Fault::Reset(f.after_chunks);
    }
    if let Some(f) = faults.truncate.filter(|f| hits(f.every)) {
        return Fault::Truncate(f.after_chunks);
    }
    if let Some(f) = faults.stall.filter(|f| hits(f.every)) {
        return Fault::Stall(f.duration);
    }
    Fault::None
}

/// Make the next close of `fd` send a TCP reset.
fn set_linger_zero(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is the connection's socket, open while its request is being served;
    // setsockopt only reads `linger`, whose size is passed.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
