//! nitro-scenario: a declarative scenario runner for benchmarking HTTP APIs, first of all
//! OpenAI-compatible LLM endpoints.
//!
//! The pipeline, one module each, data flowing one way:
//! - [`scenario`]: TOML file -> validated [`scenario::Scenario`] -> expanded [`scenario::Point`]s.
//! - [`runner`]: drives closed-loop load per point through a transport, with progress bars.
//! - [`metrics`]: per-runtime-thread recorders, run summaries, median/MAD across runs, client self-watch.
//! - [`journal`]: the write-behind per-request log.
//! - [`report`]: `RunReport` and its Markdown, CSV and JSON renderers.
//! - [`judge`]: `compare` two stored runs with the noise in view; `--fail-on` tolerances.
//! - [`mock`]: the built-in OpenAI-compatible mock server.
//! - [`external`]: one run of a point by an external client program, measured from outside.
//! - [`stop`]: the stop signal the runner and the mock server share, and the process signals
//!   (SIGINT, SIGTERM, SIGHUP) that raise it during `run`.
//! - [`commands`]: one function per CLI command, gluing the above; [`cli`] parses arguments.

pub mod cli;
pub mod commands;
pub mod external;
pub mod journal;
pub mod judge;
pub mod metrics;
pub mod mock;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod stop;
