//! The one place that writes report files. Each file goes through a temporary file in the same
//! folder, then a rename, so a reader (or `git`) never sees half a file.
//!
//! The other files are rendered from the report as `results.json` stores it, so re-rendering
//! a stored run gives the same bytes. Order matters: `results.json` and `results.csv` are
//! written first, so a template that fails on this run's data still leaves the data behind;
//! then the charts, minus the charts of an earlier run that this one did not draw; `report.md`
//! last.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::templates::Templates;
use super::{ReportError, RunReport, charts, csv_out, json_out, markdown};

/// Where reports go and how `report.md` is rendered.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    /// Folder of `report.md`, `results.csv`, the charts (and `results.json` by default).
    pub dir: PathBuf,
    /// `results.json` path (default `dir/results.json`; `RESULTS_FILE` sets it).
    pub results_file: Option<PathBuf>,
    /// The templates `report.md` is rendered with, already loaded.
    pub templates: Templates,
}

impl OutputPlan {
    /// Where `results.json` goes: `results_file`, else `dir/results.json`.
    pub fn results_path(&self) -> PathBuf {
        self.results_file
            .clone()
            .unwrap_or_else(|| self.dir.join("results.json"))
    }
}

/// Render every report of `report` and write them atomically; returns the files written.
///
/// When `report.md` cannot be rendered, the data files and charts are still written and the
/// error (`ReportError::MarkdownNotWritten`) lists them.
pub fn write_all(report: &RunReport, plan: &OutputPlan) -> Result<Vec<PathBuf>, ReportError> {
    write_all_compared(report, plan, None)
}

/// `write_all`, with `comparison` (the Markdown of a comparison with a baseline) placed in
/// `report.md` by its template. The comparison is not part of `results.json`, so re-rendering
/// the stored run leaves it out.
pub fn write_all_compared(
    report: &RunReport,
    plan: &OutputPlan,
    comparison: Option<&str>,
) -> Result<Vec<PathBuf>, ReportError> {
    let results = plan.results_path();
    let json = json_out::render(report)?;
    // Everything else is rendered from the report exactly as results.json holds it (floats
    // rounded), so `report` re-renders a stored run to the same bytes as `run` wrote.
    let stored: RunReport = serde_json::from_str(&json).map_err(ReportError::Json)?;
    let report = &stored;
    let mut files = vec![
        (results, json),
        (plan.dir.join("results.csv"), csv_out::render(report)?),
    ];
    for (name, svg) in charts::render(report) {
        files.push((plan.dir.join(name), svg));
    }
    let mut written = Vec::with_capacity(files.len() + 1);
    for (path, text) in files {
        atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    remove_stale_charts(&plan.dir, &written)?;
    let markdown = match markdown::render(report, &plan.templates, comparison) {
        Ok(text) => text,
        Err(cause) => {
            return Err(ReportError::MarkdownNotWritten {
                written,
                cause: Box::new(cause),
            });
        }
    };
    let path = plan.dir.join("report.md");
    atomic(&path, markdown.as_bytes())?;
    written.insert(0, path);
    Ok(written)
}

/// Whether `name` is a chart file this tool writes.
fn is_chart(name: &str) -> bool {
    name.starts_with("chart-") && name.ends_with(".svg")
}

/// Remove `chart-*.svg` files in `dir` that this run did not write (charts of routes no
/// longer run). Nothing else in the folder is touched.
fn remove_stale_charts(dir: &Path, written: &[PathBuf]) -> Result<(), ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let stale = is_chart(&entry.file_name().to_string_lossy())
            && entry.file_type().map_err(io(&path))?.is_file()
            && !written.contains(&path);
        if stale {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Write `contents` to `path` atomically, creating its folder.
pub(crate) fn atomic(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unwritten_charts_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "chart-old-latency.svg",
            "chart-kept-latency.svg",
            "notes.svg",
            "chart-readme.md",
            "requests.csv",
        ] {
            std::fs::write(d.join(name), "x").unwrap();
        }
        remove_stale_charts(d, &[d.join("chart-kept-latency.svg")]).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "chart-kept-latency.svg",
                "chart-readme.md",
                "notes.svg",
                "requests.csv"
            ]
        );
    }
}
