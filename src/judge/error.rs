//! `JudgeError`: what can stop a comparison before it is made — results that cannot be read,
//! tolerances that do not parse, a template that fails.

use std::path::PathBuf;

use crate::report::ReportError;

/// A comparison could not be made or rendered.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// A folder was named that holds no `results.json`.
    #[error(
        "{}: no `results.json` in this folder; name a results file or a report folder",
        path.display()
    )]
    NoResults {
        /// The folder.
        path: PathBuf,
    },
    /// Results could not be read, or the comparison rendered.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A `--fail-on` tolerance does not parse.
    #[error("`--fail-on {spec}`: {message}")]
    FailOn {
        /// The tolerance as given.
        spec: String,
        /// What is wrong and how to write it.
        message: String,
    },
    /// `--json` could not be serialized.
    #[error("cannot serialize the comparison: {0}")]
    Json(#[source] serde_json::Error),
}
