//! Scenario files: the TOML language (`raw`, a serde mirror), validation into the typed model
//! (`model`), `${env:NAME}` interpolation, overrides (`--set`, framework env vars), and
//! expansion of the matrix into points with stable ids.

pub mod model;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use model::{
    BaseUrl, BodyCheck, BodySpec, Expect, Matrix, OutputSettings, Payload, PayloadSource,
    PhaseLimit, Point, RequestSpec, RetryPolicy, Route, RunSettings, Scenario, SecretText, Target,
    TransportKind,
};

use crate::mock::MockConfig;

/// Overrides applied on top of a file: `--set key=value` pairs then the framework's env vars.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--set` pairs in command-line order.
    pub set: Vec<(String, String)>,
    /// `BASE`, `ROUTE`, `C`, `T`, `SIZE`, `WARMUP_SECONDS`, `BENCHMARK_SECONDS`, `RESULTS_FILE`
    /// as found in the environment.
    pub env: Vec<(String, String)>,
}

impl Overrides {
    /// Parse `--set` arguments (`key=value`) and read the framework's variables from the process
    /// environment.
    pub fn from_args_and_env(_set: &[String]) -> Result<Self, ScenarioError> {
        todo!("scenario helper")
    }
}

/// Every problem found in a scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_problems(.problems))]
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
    /// Dotted key path, e.g. `matrix.concurrency[2]`.
    pub key: String,
    /// What is wrong and what to do, lowercase, values in backticks.
    pub message: String,
}

fn render_problems(_problems: &[Problem]) -> String {
    todo!("scenario helper")
}

/// Read, validate and apply overrides to a scenario file.
pub fn load(_path: &Path, _overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    todo!("scenario helper")
}

/// Expand the matrix into points, in stable order, each with its request built.
pub fn expand(_scenario: &Scenario) -> Result<Vec<Point>, ScenarioError> {
    todo!("scenario helper")
}

/// Estimated wall time of running `points` (warmups, measures, runs, mock start-up).
pub fn estimate(_scenario: &Scenario, _points: &[Point]) -> Duration {
    todo!("scenario helper")
}

/// Read a mock config file (`nitro-scenario mock --config FILE`): a `[mock]` table in the same
/// language as a scenario's.
pub fn load_mock_config(_path: &Path) -> Result<MockConfig, ScenarioError> {
    todo!("scenario helper")
}
