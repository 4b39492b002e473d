//! `ReportError`: everything that can go wrong turning a `RunReport` into files, one variant
//! per cause so a message says what failed and where.

use std::path::PathBuf;

/// Reports could not be rendered, written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A user's templates folder, or its `report.md.j2`, is missing or unreadable.
    #[error("{}: {message}", path.display())]
    TemplateFiles {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A template failed to compile or render.
    #[error("{file}: {message}")]
    Template {
        /// The template's file (with its line when known), or `built-in report.md.j2`.
        file: String,
        /// What minijinja said.
        message: String,
    },
    /// `results.json` could not be serialized (or read back for the other renderers).
    #[error("cannot serialize `results.json`: {0}")]
    Json(#[source] serde_json::Error),
    /// `results.csv` could not be written.
    #[error("cannot write `results.csv`: {0}")]
    Csv(#[source] csv::Error),
    /// A file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file to read (`results.json`, a template) is missing, not a regular file, larger
    /// than its cap or not UTF-8 text.
    #[error("{message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the file.
        message: String,
    },
    /// `results.json` is not a report.
    #[error("{}: not a nitro-scenario results file: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
    /// The data files were written but `report.md` could not be rendered.
    #[error("{cause}; `report.md` was not written, the data was ({})", list(.written))]
    MarkdownNotWritten {
        /// The files that were written (results, CSV, charts).
        written: Vec<PathBuf>,
        /// Why `report.md` failed.
        cause: Box<ReportError>,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}
