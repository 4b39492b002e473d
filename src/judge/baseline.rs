//! `run --baseline PATH`: everything that can fail is tried before any traffic — the baseline
//! read, the tolerances parsed, the comparison template rendered on the baseline against
//! itself — then the finished run is judged as its `results.json` stores it.

use std::path::Path;

use super::JudgeError;
use super::compare::{Comparison, Loaded, compare, load};
use super::render::{markdown, templates_for};
use super::tolerance::{Tolerance, parse};
use crate::report::{self, ReportError, RunReport, Templates};

/// A baseline ready to judge a run against.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The baseline run.
    base: Loaded,
    /// The `--fail-on` tolerances.
    tolerances: Vec<Tolerance>,
    /// The run's templates, with the built-in `compare.md.j2` where they have none.
    templates: Templates,
}

/// A run judged against its baseline.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The comparison.
    pub comparison: Comparison,
    /// It, as Markdown for `report.md`.
    pub markdown: String,
}

impl Baseline {
    /// Read the baseline at `path` and parse `fail_on`; render a comparison of the baseline
    /// with itself through `templates` (their `compare.md.j2`, else the built-in one), so a
    /// broken template fails now.
    pub fn prepare(
        path: &Path,
        fail_on: &[String],
        templates: &Templates,
    ) -> Result<Self, JudgeError> {
        let baseline = Self {
            base: load(path)?,
            tolerances: parse(fail_on)?,
            templates: templates_for(templates),
        };
        let itself = compare(&baseline.base, &baseline.base, &baseline.tolerances);
        markdown(&itself, &baseline.templates)?;
        Ok(baseline)
    }

    /// Judge the finished run `report`, whose `results.json` is `results_path`, as that file
    /// stores it (floats rounded), so `compare` on the files later says the same.
    pub fn judge(&self, report: &RunReport, results_path: &Path) -> Result<Judged, JudgeError> {
        let stored: RunReport =
            serde_json::from_str(&report::results_json(report)?).map_err(ReportError::Json)?;
        let new = Loaded {
            path: results_path.to_path_buf(),
            report: stored,
        };
        let comparison = compare(&self.base, &new, &self.tolerances);
        let markdown = markdown(&comparison, &self.templates)?;
        Ok(Judged {
            comparison,
            markdown,
        })
    }
}
