//! Reports: one serializable `RunReport` feeds pure renderers (`report.md` via minijinja,
//! `results.csv`, `results.json`, SVG charts); one function writes them, atomically.

mod charts;
mod csv_out;
mod host;
mod json_out;
mod markdown;
mod summary;
mod view;
mod write;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::journal::JournalStats;
use crate::metrics::PointResult;
use crate::scenario::Scenario;

pub use summary::summary_table;

/// Everything a run produced, as written to `results.json` and read back by `report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `nitro-scenario` version that produced the report.
    pub tool_version: String,
    /// Scenario name.
    pub scenario_name: String,
    /// The scenario as run (overrides applied, secrets redacted).
    pub scenario: serde_json::Value,
    /// The target as shown to people (`mock (built-in, http://127.0.0.1:PORT/)` or redacted URL).
    pub target: String,
    /// The base URL requests went to, redacted.
    pub base_url: String,
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
pub fn write_all(report: &RunReport, plan: &OutputPlan) -> Result<Vec<PathBuf>, ReportError> {
    let mut files: Vec<(PathBuf, String)> = vec![
        (
            plan.dir.join("report.md"),
            markdown::render(report, plan.templates.as_deref())?,
        ),
        (plan.dir.join("results.csv"), csv_out::render(report)?),
        (
            plan.results_file
                .clone()
                .unwrap_or_else(|| plan.dir.join("results.json")),
            json_out::render(report)?,
        ),
    ];
    for (name, svg) in charts::render(report) {
        files.push((plan.dir.join(name), svg));
    }
    for (path, text) in &files {
        write::atomic(path, text.as_bytes())?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// Read a `results.json` written by `write_all`.
pub fn load_results(path: &Path) -> Result<RunReport, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl RunReport {
    /// Assemble the report of a run; the scenario is echoed with its secrets redacted.
    #[expect(
        clippy::too_many_arguments,
        reason = "one plain constructor beats a builder for a struct of facts"
    )]
    pub fn new(
        scenario: &Scenario,
        target: String,
        base_url: String,
        host: HostFacts,
        started: SystemTime,
        finished: SystemTime,
        interruption: Option<String>,
        points: Vec<PointResult>,
        journal: Option<JournalStats>,
    ) -> Result<Self, ReportError> {
        let echo = serde_json::to_value(scenario).map_err(|e| ReportError::Template {
            name: "scenario echo".into(),
            message: e.to_string(),
        })?;
        Ok(Self {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_name: scenario.name.clone(),
            scenario: echo,
            target,
            base_url,
            host,
            started_at: rfc3339(started),
            finished_at: rfc3339(finished),
            partial: interruption.is_some(),
            interruption,
            points,
            journal,
        })
    }
}

/// `2026-11-22T14:21:50Z`, to the second: reports diff cleanly and carry no false precision.
fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
