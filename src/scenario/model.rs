//! The validated scenario model: what a scenario file means once every value is checked
//! and typed. Nothing downstream of `scenario` sees raw TOML, a `toml::Value` or a magic string.
//!
//! This file is the contract between `scenario` (which builds these values), `runner`,
//! `mock` and `report` (which read them). Field docs are the scenario key reference.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use url::Url;

use super::Problem;
use super::diagnostics::Spot;
use super::load::{ArrivalSettings, LoadModel, RateValue, Stage};
use super::slo::{RateSearch, Slo};
use crate::external::ClientSpec;
use crate::mock::MockConfig;

/// A checked scenario file with overrides applied.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Scenario name; also the default report folder `reports/<name>/`.
    pub name: String,
    /// Free text shown in the report header.
    pub description: Option<String>,
    /// The file this scenario was read from.
    pub source: PathBuf,
    /// What is being load-tested.
    pub target: Target,
    /// Phases, repetitions and retry policy shared by every point.
    pub run: RunSettings,
    /// Named request payloads, in file order.
    pub payloads: Vec<Payload>,
    /// Named routes, in file order.
    pub routes: Vec<Route>,
    /// The axes whose cartesian product gives the points.
    pub matrix: Matrix,
    /// `[clients.NAME]`: external client programs, in file order; `matrix.client` picks them.
    #[serde(skip)]
    pub clients: Vec<ClientSpec>,
    /// Settings of the built-in mock server, used when `target.base_url = "mock"`.
    pub mock: MockConfig,
    /// `[slo]`: the objectives every point is judged by (goodput, and whether it meets them).
    pub slo: Option<Slo>,
    /// `[search]`: the bracket of the `"search"` rate.
    pub search: Option<RateSearch>,
    /// Where and what to write.
    pub output: OutputSettings,
    /// `[thresholds]`: bounds on reported figures, judged per point (none when absent).
    pub thresholds: super::Thresholds,
    /// The scenario as written — the file's text and the overrides applied, secrets redacted —
    /// which the report echoes so that the run can be repeated.
    #[serde(skip)]
    pub written: Written,
    /// Things worth fixing that do not stop a run (a credential written into the file), in
    /// file order; `validate`, `plan` and `run` print them.
    #[serde(skip)]
    pub warnings: Vec<Problem>,
}

/// A scenario as the user wrote it: the file and the overrides on top. Running the text with
/// the same overrides (and environment) gives the same points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The file's text, with every literal credential shown as `***`: the value of a
    /// credential header written without `${env:NAME}`, and a `user:password@` in
    /// `target.base_url`. `${env:NAME}` references stay as written.
    pub text: String,
    /// The overrides applied, as written (`--set run.duration=5s`, `SIZE=M`), in the order
    /// they apply; header values and URL credentials shown as `***`.
    pub overrides: Vec<String>,
}

/// A string that may hold secrets interpolated from `${env:NAME}`.
///
/// `resolved` is sent on the wire; `display` (with every interpolated value replaced by
/// `***`) is what `plan`, logs and reports show. Serializing and `Debug` show `display` only.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText {
    /// The value with every `${env:NAME}` replaced by the variable's value.
    pub resolved: String,
    /// The value with every interpolation shown as `***`.
    pub display: String,
}

impl SecretText {
    /// A value with no interpolation: shown as it is.
    pub fn plain(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            resolved: text.clone(),
            display: text,
        }
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Derived `Debug` would print `resolved`: a `{:?}` in a log must not leak a key.
        f.debug_tuple("SecretText").field(&self.display).finish()
    }
}

impl std::fmt::Display for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.display)
    }
}

/// Where requests go.
#[derive(Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseUrl {
    /// `base_url = "mock"`: the built-in mock server, started on a free port for the run.
    Mock,
    /// A real server. `url` is resolved (secrets included); `display` is redacted.
    Url {
        /// The resolved URL requests are sent to, without `user:password@`: those go in an
        /// `authorization: Basic` header among the target's headers.
        #[serde(skip)]
        url: Url,
        /// The URL as shown in plans and reports (`display`, credentials as `***@`), and as
        /// resolved with its credentials (`resolved`).
        display: SecretText,
    },
}

impl std::fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Mock => f.write_str("Mock"),
            // `url` holds resolved secrets; show the redacted text only.
            Self::Url { display, .. } => f.debug_tuple("Url").field(&display.display).finish(),
        }
    }
}

/// Which HTTP client implementation the runner uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// The lean connection-per-worker path for plain `http://` (without a proxy), reqwest
    /// otherwise.
    #[default]
    Auto,
    /// One shared pooled `reqwest::Client` (TLS, HTTP/2, proxies).
    Reqwest,
    /// Each worker owns one `hyper` HTTP/1.1 connection (plain `http://` only).
    Hyper,
    /// Each worker owns one TCP connection and speaks HTTP/1.1 on it itself, with `httparse`
    /// (plain `http://` only).
    Lean,
}

/// `[target]`: the server under test.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// `"mock"` or an `http://` / `https://` base URL; route paths are appended to it.
    pub base_url: BaseUrl,
    /// Model name sent in OpenAI request bodies (`model` in templates).
    pub model: String,
    /// Headers sent with every request, in file order; values may use `${env:NAME}`.
    pub headers: Vec<(String, SecretText)>,
    /// Whole-request timeout (connect to last body byte); past it the attempt is a `timeout`.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub timeout: Duration,
    /// Connect timeout; past it the attempt is a `connect` failure.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub connect_timeout: Duration,
    /// HTTP client implementation.
    pub transport: TransportKind,
    /// Largest answer body read, bytes; past it the attempt is a `decode` failure (`stream`
    /// for SSE) and its connection is dropped.
    pub max_response_bytes: u64,
    /// Largest SSE line or event buffered, bytes; past it the attempt is a `stream` failure
    /// and its connection is dropped.
    pub max_event_bytes: u64,
}

/// When a phase ends: after `duration`, after `requests` completed requests, or at whichever
/// comes first when both are set. At least one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhaseLimit {
    /// Wall time of the phase.
    #[serde(with = "crate::scenario::units::option_duration_text")]
    pub duration: Option<Duration>,
    /// Completed requests (final outcomes, all workers together) that end the phase.
    pub requests: Option<NonZeroU64>,
}

/// `[run]`: phases, repetitions and retries, the same for every point.
#[derive(Debug, Clone, Serialize)]
pub struct RunSettings {
    /// Independent repetitions of every point; headline figures report median and MAD.
    pub runs: NonZeroU32,
    /// Warmup phase (sent, measured, discarded); `None` when the warmup is zero.
    pub warmup: Option<PhaseLimit>,
    /// Measure phase. With `[[run.stages]]` and no `duration` written, it lasts the stages'
    /// total.
    pub measure: PhaseLimit,
    /// `run.ramp_up`: closed-loop workers' first requests spread evenly over this long at the
    /// start of each run (worker `i` of `n` waits `i/n` of it), so that they do not start —
    /// and, their requests alike, stay — in step; `None` when zero.
    #[serde(
        with = "crate::scenario::units::option_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub ramp_up: Option<Duration>,
    /// What to do with 429 answers.
    pub retry: RetryPolicy,
    /// `[run.arrival]`: the arrival process, seed and in-flight cap of open-loop points.
    pub arrival: ArrivalSettings,
    /// `[[run.stages]]`: the ramps of the `"stages"` rate; empty when none are written.
    pub stages: Vec<Stage>,
}

/// `[run.retry]`: how 429 answers are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max: u32,
    /// Wait what `Retry-After` asks (seconds or HTTP date), capped at `max_wait`.
    pub honor_retry_after: bool,
    /// Longest wait before a retry.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub max_wait: Duration,
    /// Wait before a retry when the answer has no usable `Retry-After` (or it is not honoured).
    #[serde(with = "crate::scenario::units::duration_text")]
    pub backoff: Duration,
}

/// One named payload: the text a route's body is built around.
#[derive(Debug, Clone, Serialize)]
pub struct Payload {
    /// Its name under `[payloads]`: letters, digits, `_` and `-`.
    pub name: String,
    /// Where the text comes from.
    pub source: PayloadSource,
}

/// How a payload's text is produced.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadSource {
    /// `fill` repeated (and cut) to exactly `bytes` bytes.
    Fill {
        /// The text to repeat.
        fill: String,
        /// Size of the produced text, in bytes (at most `MAX_PAYLOAD_BYTES`).
        bytes: u64,
    },
    /// The text as written in the file.
    Text(String),
    /// The contents of a file (read at validation; path relative to the scenario file; at
    /// most `MAX_PAYLOAD_BYTES`).
    File {
        /// The file read.
        path: PathBuf,
        /// Its contents.
        #[serde(skip)]
        contents: String,
    },
    /// A minijinja template rendered per point with the point's variables; `payload` in it is
    /// the payload's name.
    Template(Template),
}

/// The largest payload, in bytes (64 MiB): far above any LLM prompt, and every point holds
/// its request body in memory for the whole run.
pub const MAX_PAYLOAD_BYTES: u64 = 64 << 20;

/// A minijinja template from a scenario file, checked at validation (syntax and variables)
/// and rendered per point at expansion.
#[derive(Debug, Clone)]
pub struct Template {
    /// The template text.
    pub source: String,
    /// Where it is written, for problems found while rendering it.
    pub(crate) spot: Spot,
}

impl Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

/// The request body a route sends.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodySpec {
    /// No body.
    Empty,
    /// `"openai-chat"`: `{"model", "messages": [{"role": "user", "content": <payload>}],
    /// "stream", "max_tokens"}`.
    OpenAiChat {
        /// `max_tokens` sent, if any.
        max_tokens: Option<u32>,
    },
    /// `"raw"`: the payload text itself.
    Raw,
    /// A minijinja template rendered per point; sees `payload` (the payload's text),
    /// `payload_name`, `model`, `stream`, `concurrency`, `route`, `point_id` and every matrix
    /// axis. A rendering that is a JSON document is sent as `application/json`.
    Template(Template),
}

/// What kind of body a good answer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyCheck {
    /// Any bytes.
    Any,
    /// A JSON document.
    Json,
    /// A `text/event-stream` of `data:` events ending in `[DONE]`.
    Sse,
}

/// `[routes.NAME]`: one endpoint and how to call it.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// Its name under `[routes]`: letters, digits, `_` and `-`.
    pub name: String,
    /// HTTP method.
    #[serde(serialize_with = "serialize_method")]
    pub method: http::Method,
    /// Path (and query) appended to the base URL, e.g. `/v1/chat/completions:stream`.
    pub path: String,
    /// Headers added to (and overriding) the target's headers.
    pub headers: Vec<(String, SecretText)>,
    /// The request body.
    pub body: BodySpec,
    /// Whether the answer is an SSE stream whose timing (TTFT, ITL, tokens) is measured.
    pub stream: bool,
    /// What a good answer is.
    pub expect: Expect,
}

/// What counts as success for a route.
#[derive(Debug, Clone, Serialize)]
pub struct Expect {
    /// Status codes that count as success (default: any 2xx).
    pub status: Vec<u16>,
    /// The body shape a successful answer must have; otherwise the attempt is a `decode` failure.
    pub body: BodyCheck,
}

impl Expect {
    /// Whether `status` counts as success.
    pub fn status_ok(&self, status: u16) -> bool {
        if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        }
    }
}

fn serialize_method<S: serde::Serializer>(m: &http::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// `[matrix]`: axes in a fixed order; points are their cartesian product, first axis slowest.
/// Every axis lists distinct values.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// Routes, as indices into `Scenario::routes`.
    pub route: Vec<usize>,
    /// Payloads, as indices into `Scenario::payloads`; empty means the routes send no payload.
    pub payload: Vec<usize>,
    /// Concurrency levels: closed-loop workers, each with one request in flight (at most
    /// `MAX_CONCURRENCY`); may be empty when `rate` is not.
    pub concurrency: Vec<NonZeroU32>,
    /// Request rates of open-loop points; may be empty when `concurrency` is not. The load
    /// points are the concurrency levels, then the rates (their union, not their product).
    pub rate: Vec<RateValue>,
    /// User axes, from `[matrix.axes]` (e.g. `model = ["a", "b"]`), in file order, usable in
    /// templates.
    pub extra: Vec<Axis>,
    /// Who sends each point's requests (`matrix.client`), the innermost axis; empty when the
    /// matrix has no client axis: every point is then the built-in engine's.
    pub client: Vec<ClientRef>,
    /// Where `[matrix]` is written, for problems found at expansion.
    #[serde(skip)]
    pub(crate) spot: Spot,
}

/// A value of the `client` axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientRef {
    /// `"builtin"`: this tool's own engine.
    Builtin,
    /// An external client program: an index into `Scenario::clients`.
    External(usize),
}

/// The name of the built-in engine in `matrix.client`, point ids and reports.
pub const BUILTIN_CLIENT: &str = "builtin";

/// The most closed-loop workers a point may have.
pub const MAX_CONCURRENCY: u32 = 100_000;

/// The most points a matrix may expand to.
pub const MAX_POINTS: u64 = 100_000;

/// A user axis of `[matrix.axes]`.
#[derive(Debug, Clone, Serialize)]
pub struct Axis {
    /// Its name, a template variable: letters, digits and `_`, not starting with a digit.
    pub name: String,
    /// Its values, distinct, in file order.
    pub values: Vec<AxisValue>,
}

/// One value of a user axis, typed as written: templates see a number as a number.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AxisValue {
    /// A string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl std::fmt::Display for AxisValue {
    /// The value as text: what `Point::vars` holds and what joins the point id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// `[output]`: where reports go.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OutputSettings {
    /// Report folder; default `reports/<name>/` relative to the working directory.
    pub dir: Option<PathBuf>,
    /// Folder of user templates that replace the built-in ones; it exists and holds
    /// `report.md.j2` (checked at validation).
    pub templates: Option<PathBuf>,
    /// Path of `results.json` (also set by `RESULTS_FILE`).
    pub results_file: Option<PathBuf>,
    /// Write `requests.csv`, one line per attempt.
    pub requests_log: bool,
}

/// One cell of the matrix, ready to run: the request is fully built.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Position in the expanded list (0-based, stable).
    pub index: usize,
    /// Readable stable id, unique in the plan, e.g. `chat-S-c32`: route, payload, the load
    /// model's part (`c` and the concurrency), then each user axis value (characters other than letters, digits, `_`,
    /// `-` and `.` become `_`), then the client when the matrix has a client axis
    /// (`chat-S-c32-node`, `chat-S-c32-builtin`).
    pub id: String,
    /// Route name.
    pub route: String,
    /// Payload name, if the matrix has a payload axis.
    pub payload: Option<String>,
    /// How the point drives load.
    pub load: LoadModel,
    /// Who sends its requests.
    pub client: ClientRef,
    /// Every axis value of this point by axis name (`route`, `payload`, `concurrency`, user
    /// axes, and `client` when the matrix has that axis).
    pub vars: BTreeMap<String, String>,
    /// The request each worker sends.
    pub request: RequestSpec,
}

/// A fully built request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestSpec {
    /// HTTP method.
    #[serde(serialize_with = "serialize_method")]
    pub method: http::Method,
    /// Path and query appended to the base URL.
    pub path: String,
    /// Headers in order: target headers, then route headers, then `content-type:
    /// application/json` for a JSON body unless a header already sets the content type.
    pub headers: Vec<(String, SecretText)>,
    /// The body bytes, identical for every request of the point.
    #[serde(serialize_with = "serialize_body_len", rename = "body_bytes")]
    pub body: Bytes,
    /// Whether the answer is measured as an SSE stream.
    pub stream: bool,
    /// What a good answer is.
    pub expect: Expect,
}

fn serialize_body_len<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(b.len() as u64)
}
