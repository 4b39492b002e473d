//! Scenario files: the TOML language, validation into the typed model (`model`),
//! `${env:NAME}` interpolation, overrides (`--set`, framework env vars), and expansion of the
//! matrix into points with stable ids.
//!
//! The file is parsed into a spanned document (`toml::de::DeTable`), overrides are assigned
//! into it, and `build*` read it section by section, recording every problem with its
//! position before giving up — so one run of `validate` shows everything wrong with a file.
//!
//! - `read` and `diagnostics`: typed getters over spanned values, and located problems.
//! - `build` (top level, `[run]`, `[output]`), `build_target`, `build_payloads`,
//!   `build_routes`, `build_matrix` (with `build_axes`), `build_mock`, `build_load`
//!   (`[run.arrival]`, `[[run.stages]]`), `build_slo` (`[slo]`, `[search]`), `build_clients`,
//!   `build_thresholds` (with `build_bounds` and `build_scopes`): one per section; `thresholds`
//!   is the model of `[thresholds]`.
//! - `names`: what may be named how; `templates`: template compile and variable checks.
//! - `files`: bounded reading of the files a scenario names (also used by `report` for
//!   `results.json` and templates); `credentials`: what is a secret and how it is hidden.
//! - `expand`: the matrix product into points, and the time estimate.
//! - `schema`: a JSON Schema of the language for editors, built from the readers' key lists.

mod build;
mod build_axes;
mod build_bounds;
mod build_clients;
mod build_load;
mod build_matrix;
mod build_mock;
mod build_payloads;
mod build_routes;
mod build_scopes;
mod build_slo;
mod build_target;
mod build_thresholds;
mod credentials;
mod diagnostics;
mod expand;
mod files;
mod interpolate;
pub mod load;
pub mod model;
mod names;
mod overrides;
mod read;
pub mod schema;
pub mod slo;
mod templates;
pub mod thresholds;
pub mod units;

use std::path::{Path, PathBuf};

pub(crate) use diagnostics::escape_controls;
pub use expand::{Estimate, estimate, expand, point_estimate};
pub(crate) use files::read_text;
pub use load::{
    Arrival, ArrivalProcess, ArrivalSettings, LoadAxis, LoadModel, MAX_RATE, OpenLoop, RateProfile,
    RateValue, Stage,
};
pub use model::{
    Axis, AxisValue, BUILTIN_CLIENT, BaseUrl, BodyCheck, BodySpec, ClientRef, Expect,
    MAX_CONCURRENCY, MAX_PAYLOAD_BYTES, MAX_POINTS, Matrix, OutputSettings, Payload, PayloadSource,
    PhaseLimit, Point, RequestSpec, RetryPolicy, Route, RunSettings, Scenario, SecretText, Target,
    Template, TransportKind, Written,
};
pub use overrides::{ENV_VARS, Overrides};
pub use slo::{Objective, RateSearch, Resolution, Slo};
pub use thresholds::{Bound, Op, Scope, Threshold, Thresholds};

use crate::mock::MockConfig;
use diagnostics::{Diagnostics, file_problem};
use read::Table;

/// The largest scenario file, in bytes.
pub const MAX_SCENARIO_BYTES: u64 = files::MAX_SCENARIO_BYTES;

/// Every problem found in a scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{}", diagnostics::render(.problems))]
pub struct ScenarioError {
    /// One entry per problem, in file order.
    pub problems: Vec<Problem>,
}

/// One problem (or warning), located in its file; `Display` renders it as
/// `file:line:col: key: message`, control characters escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted key path, e.g. `matrix.concurrency`.
    pub key: String,
    /// What is wrong and what to do, lowercase, values in backticks.
    pub message: String,
}

/// Read, validate and apply overrides to a scenario file; `${env:NAME}` reads the process
/// environment.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    load_with_env(path, overrides, &|name| std::env::var(name).ok())
}

/// `load` with an explicit environment for `${env:NAME}` (tests).
pub fn load_with_env(
    path: &Path,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, ScenarioError> {
    let text = read_file(path)?;
    let assignments = overrides.assignments();
    let labels: Vec<String> = assignments.iter().map(|a| a.label.clone()).collect();
    let mut d = Diagnostics::new(path, &text, &labels);
    let Some(mut root) = parse_document(&mut d, &text) else {
        return Err(d.into_result().expect_err("syntax errors were recorded"));
    };
    // The text as written, before overrides change the document it was parsed into.
    let written = Written {
        text: credentials::redact_text(&text, &root),
        overrides: labels.clone(),
    };
    overrides::apply(&mut root, &assignments, &mut d);
    let scenario = build::scenario(&mut d, &Table::root(&root), path, env, written);
    d.into_result()?;
    scenario.ok_or_else(|| file_problem(path, "invalid scenario"))
}

/// Read the mock's settings (`nitro-scenario mock --config FILE`): the `[mock]` table of a
/// scenario file, or of a file holding only `[mock]`. Other tables of a scenario are not read.
pub fn load_mock_config(path: &Path) -> Result<MockConfig, ScenarioError> {
    let text = read_file(path)?;
    let mut d = Diagnostics::new(path, &text, &[]);
    let Some(root) = parse_document(&mut d, &text) else {
        return Err(d.into_result().expect_err("syntax errors were recorded"));
    };
    let root = Table::root(&root);
    root.check_keys(&mut d, build::TOP_KEYS);
    let config = match root.table(&mut d, "mock") {
        Some(m) => build_mock::mock(&mut d, &m),
        None => Some(MockConfig::default()),
    };
    d.into_result()?;
    config.ok_or_else(|| file_problem(path, "invalid mock config"))
}

/// Parse `text` as TOML; `None`, with every syntax error recorded, when it does not parse.
/// What the parser recovers from broken syntax would only add confusing problems, so a
/// document with syntax errors is not read further.
fn parse_document<'i>(d: &mut Diagnostics<'_>, text: &'i str) -> Option<toml::de::DeTable<'i>> {
    let (root, errors) = toml::de::DeTable::parse_recoverable(text);
    for e in &errors {
        let span = e.span().unwrap_or(0..0);
        let mut message = first_line(e.message()).to_string();
        // toml says "duplicate key" without naming it; the span holds it.
        if message == "duplicate key" {
            if let Some(key) = d
                .text_at(&span)
                .filter(|k| !k.contains('\n') && k.len() <= 80)
            {
                message = format!("duplicate key `{}`", key.trim());
            }
        }
        d.error(span, "", format!("invalid TOML: {message}"));
    }
    errors.is_empty().then(|| root.into_inner())
}

/// The scenario file's text: a regular file of at most `MAX_SCENARIO_BYTES`.
fn read_file(path: &Path) -> Result<String, ScenarioError> {
    files::read_text(path, MAX_SCENARIO_BYTES, "the file", "a scenario file")
        .map_err(|e| file_problem(path, e))
}

fn first_line(message: &str) -> &str {
    message
        .lines()
        .next()
        .unwrap_or(message)
        .trim_end_matches('.')
}
