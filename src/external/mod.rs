//! External clients: one run of one point executed by a separate program — a client library
//! in another language — speaking the benchmark framework's protocol (environment variables
//! in, its per-point JSON object out), with the program's CPU and memory measured from
//! outside. Owns starting, watching, stopping and reading such a program; leaves the scenario
//! keys, the matrix axis, aggregation and rendering to `scenario`, `runner` and `report`.
//!
//! # Wiring it in
//!
//! ```text
//! [clients.py]                            ClientSpec {
//! command = ["python3", "client.py"]        name: "py", command, env, cwd, lang,
//! env = { X = "1" }                         timeout (default DEFAULT_CLIENT_TIMEOUT),
//! cwd = "."  lang = "python"                base_dir: the scenario file's folder }
//! timeout = "30s"
//! ```
//!
//! - Validation: [`ClientSpec::check`] reports an empty `command`, an unknown `{VAR}`
//!   placeholder and an `env` key that shadows a protocol variable ([`SpecError`]).
//! - Per run of a point: build a [`ClientPoint`] (base URL, route path, concurrency, warmup
//!   and measure durations, payload name and its exact body bytes, model, stream flag,
//!   headers — secrets included), then `run_client(&spec, &point, &stop).await`. It never
//!   fails: every problem is an [`Outcome`] in the returned [`ExternalRun`].
//! - Outcomes: `Completed { figures, source }` (aggregate these), `Failed { reason }` (count
//!   as a failed run; show `reason` and the end of `stderr_tail`), `TimedOut`, `Stopped`, and
//!   `Skipped { reason }` — the program or its interpreter is not installed: show a note,
//!   not a failure.
//! - Time limit: [`ClientSpec::time_limit`] = warmup + measure + the spec's `timeout`.
//!
//! # The protocol (clients/README.md has the full tables)
//!
//! Environment: `BASE` (no trailing `/`) and `MOCKOON_BASE`, `ROUTE`, `C`, `T` and
//! `BENCHMARK_SECONDS` (measure seconds: `60`, `0.5`), `WARMUP_SECONDS`, `SIZE`,
//! `PAYLOAD_FILE` (the exact body), `HEADERS_FILE` (a JSON object of headers, mode 0600 in a
//! private folder), `MODEL` (unset when there is none), `STREAM` (`1` or `0`), `RESULTS_FILE`
//! (a fresh path where the client may write its JSON). The same names work as `{VAR}`
//! placeholders in arguments and `env` values, plus `{SCENARIO_DIR}`. The run's files are
//! removed when it ends. The child inherits this process's environment otherwise, runs in a
//! process group of its own with stdin closed, and is sent SIGTERM if this process dies.
//!
//! Figures: `RESULTS_FILE` if written, else the last JSON object on stdout; checked into
//! [`ClientFigures`] (see [`parse_figures`] for the rules).
//!
//! # Measurement
//!
//! - Wall time: spawn to exit, seen at once through a pidfd.
//! - CPU: `wait4`'s user and system time of the client and every descendant it waited for.
//! - Memory: the client's tree sampled every 20 ms from `/proc` (resident sets summed,
//!   each process's high-water mark kept), and the kernel's `ru_maxrss` when it exceeds this
//!   process's own high-water mark (below that it may be inherited from us at `exec`).
//!   `peak_rss_bytes` is the largest of them. Processes that left the tree (double fork)
//!   are not counted.
//! - `parent_cpu_secs`: this process's CPU while the client ran.
//!
//! Stdout and stderr are read continuously; the last 64 KiB of each is kept.

mod figures;
mod files;
mod memory;
mod outcome;
mod output;
mod process;
mod reading;
mod run;
mod spec;

pub use figures::{
    ClientFigures, ErrorCounts, FiguresError, Percentiles, TestConfig, parse_figures,
};
pub use outcome::{ExitInfo, ExternalRun, FiguresSource, Outcome, ResourceUse};
pub use output::TAIL_BYTES;
pub use run::{KILL_GRACE, run_client};
pub use spec::{ClientPoint, ClientSpec, DEFAULT_CLIENT_TIMEOUT, PROTOCOL_VARS, SpecError};
