//! Scenario files: the TOML language, validation into the typed model (`model`),
//! `${env:NAME}` interpolation, overrides (`--set`, framework env vars), and expansion of the
//! matrix into points with stable ids.
//!
//! The file is parsed into a spanned document (`toml::de::DeTable`), overrides are assigned
//! into it, and `build*` read it section by section, recording every problem with its
//! position before giving up — so one run of `validate` shows everything wrong with a file.

mod build;
mod build_mock;
mod build_routes;
mod diagnostics;
mod expand;
mod interpolate;
pub mod model;
mod overrides;
mod read;
pub mod units;

use std::path::{Path, PathBuf};

pub use expand::{Estimate, estimate, expand};
pub use model::{
    BaseUrl, BodyCheck, BodySpec, Expect, Matrix, OutputSettings, Payload, PayloadSource,
    PhaseLimit, Point, RequestSpec, RetryPolicy, Route, RunSettings, Scenario, SecretText, Target,
    TransportKind,
};
pub use overrides::{ENV_VARS, Overrides};

use crate::mock::MockConfig;
use diagnostics::{Diagnostics, file_problem};
use read::Table;

/// Every problem found in a scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{}", diagnostics::render(.problems))]
pub struct ScenarioError {
    /// One entry per problem, in file order.
    pub problems: Vec<Problem>,
}

/// One problem, located in its file.
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
    let (mut root, errors) = toml::de::DeTable::parse_recoverable(&text);
    if !errors.is_empty() {
        // What the parser recovered from broken syntax would only add confusing problems.
        for e in &errors {
            d.error(
                e.span().unwrap_or(0..0),
                "",
                format!("invalid TOML: {}", first_line(e.message())),
            );
        }
        return Err(d.into_result().expect_err("syntax errors were recorded"));
    }
    overrides::apply(root.get_mut(), &assignments, &mut d);
    let scenario = build::scenario(&mut d, &Table::root(root.get_ref()), path, env);
    d.into_result()?;
    scenario.ok_or_else(|| file_problem(path, "invalid scenario"))
}

/// Read a mock config file (`nitro-scenario mock --config FILE`): a `[mock]` table in the same
/// language as a scenario's.
pub fn load_mock_config(path: &Path) -> Result<MockConfig, ScenarioError> {
    let text = read_file(path)?;
    let mut d = Diagnostics::new(path, &text, &[]);
    let (root, errors) = toml::de::DeTable::parse_recoverable(&text);
    for e in &errors {
        d.error(
            e.span().unwrap_or(0..0),
            "",
            format!("invalid TOML: {}", first_line(e.message())),
        );
    }
    let root = Table::root(root.get_ref());
    root.check_keys(&mut d, &["mock"]);
    let config = match root.table(&mut d, "mock") {
        Some(m) => build_mock::mock(&mut d, &m),
        None => Some(MockConfig::default()),
    };
    d.into_result()?;
    config.ok_or_else(|| file_problem(path, "invalid mock config"))
}

fn read_file(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path)
        .map_err(|e| file_problem(path, format!("cannot read the file: {e}")))
}

fn first_line(message: &str) -> &str {
    message
        .lines()
        .next()
        .unwrap_or(message)
        .trim_end_matches('.')
}
