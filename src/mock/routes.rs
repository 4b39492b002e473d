//! Request handling of the mock: routing, body checks (400, 413), latency, and the answer of
//! each route with its fault, if any. Who gets limited or faulted is `policy`'s call.
//!
//! Latency (`MockConfig::latency` plus jitter) is counted from the request's arrival.

use std::os::fd::RawFd;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::MockConfig;
use super::bodies::{self, ChatRequest};
use super::pacer::Pacer;
use super::policy::{Fault, Policy};
use super::stream::{self, MockBody, ResetFault, StreamEnd, StreamPlan};

/// Server-wide state.
pub(crate) struct Shared {
    /// The knobs.
    pub(crate) config: MockConfig,
    /// Rate-limit and fault counters.
    policy: Policy,
    /// Content of the non-streamed completion as a JSON string, rendered once.
    completion_json: String,
    /// Paces stream chunks and latency more precisely than tokio's 1 ms timer.
    pacer: Arc<Pacer>,
}

impl Shared {
    /// State for a server with `config`.
    pub(crate) fn new(config: MockConfig) -> std::io::Result<Self> {
        let completion_json =
            bodies::json_string(&bodies::completion_text(config.completion_tokens));
        Ok(Self {
            config,
            policy: Policy::new(),
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

/// Answer one request. `Err` drops the connection (the reset fault; `fd` gets `SO_LINGER 0`
/// first so that the peer sees a TCP reset, not a clean close).
pub(crate) async fn handle(
    req: http::Request<Incoming>,
    shared: &Shared,
    fd: RawFd,
) -> Result<Response<MockBody>, ResetFault> {
    let arrived = std::time::Instant::now();
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
    let fault = match route {
        Route::Chat | Route::Stream => shared.policy.fault(req.headers(), &shared.config),
        _ => Fault::None,
    };
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
    let delay = shared.policy.delay(&shared.config);
    if !delay.is_zero() {
        shared.pacer.sleep_until(arrived + delay).await;
    }
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
        Route::Rate if shared.policy.rate_limited(shared.config.rate_limit) => {
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
