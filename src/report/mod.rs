//! Reports: one serializable `RunReport` feeds pure renderers (`report.md` via minijinja,
//! `results.csv`, `results.json`); one function writes them, atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::journal::JournalStats;
use crate::metrics::PointResult;

/// Everything a run produced, as written to `results.json` and read back by `report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `nitro-scenario` version that produced the report.
    pub tool_version: String,
    /// Scenario name.
    pub scenario_name: String,
    /// The scenario as run (overrides applied, secrets redacted).
    pub scenario: serde_json::Value,
    /// The target as shown to people (`mock (built-in, http://127.0.0.1:PORT)` or redacted URL).
    pub target: String,
    /// The machine the client ran on.
    pub host: HostFacts,
    /// Run start, RFC 3339 UTC.
    pub started_at: String,
    /// Run end, RFC 3339 UTC.
    pub finished_at: String,
    /// Whether the run stopped before every point finished.
    pub partial: bool,
    /// Why it stopped early.
    pub interruption: Option<String>,
    /// Every point run, in plan order.
    pub points: Vec<PointResult>,
    /// The per-request log, when it was on.
    pub journal: Option<JournalStats>,
}

/// Facts about the client machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HostFacts {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: u32,
    /// Operating system and kernel.
    pub os: String,
    /// Total memory, bytes.
    pub memory_bytes: u64,
}

impl HostFacts {
    /// Read the facts of this machine.
    pub fn detect() -> Self {
        todo!("report helper")
    }
}

/// Reports could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A template failed to load or render.
    #[error("template `{name}`: {message}")]
    Template {
        /// Template name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `results.json` is not a report.
    #[error("{}: not a nitro-scenario results file: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
}

/// Where reports go.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    /// Folder for `report.md`, `results.csv`, charts (and `results.json` by default).
    pub dir: PathBuf,
    /// `results.json` path (default `dir/results.json`; `RESULTS_FILE` sets it).
    pub results_file: Option<PathBuf>,
    /// Folder of user templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
}

/// Render every report of `report` and write them atomically; returns the files written.
pub fn write_all(_report: &RunReport, _plan: &OutputPlan) -> Result<Vec<PathBuf>, ReportError> {
    todo!("report helper")
}

/// Read a `results.json` written by `write_all`.
pub fn load_results(_path: &Path) -> Result<RunReport, ReportError> {
    todo!("report helper")
}

impl RunReport {
    /// Assemble a report of a run.
    #[expect(clippy::too_many_arguments, reason = "temporary")]
    pub fn new(
        _scenario: &crate::scenario::Scenario,
        _target: String,
        _host: HostFacts,
        _started: std::time::SystemTime,
        _finished: std::time::SystemTime,
        _partial: bool,
        _interruption: Option<String>,
        _points: Vec<PointResult>,
        _journal: Option<JournalStats>,
    ) -> Result<Self, ReportError> {
        todo!("report")
    }
}

/// Terminal summary.
pub fn summary_table(_report: &RunReport) -> String {
    todo!("report")
}
