//! The one place that writes report files. Each file goes through a temporary file in the same
//! folder, then a rename, so a reader (or `git`) never sees half a file.
//!
//! The other files are rendered from the report as `results.json` stores it, so re-rendering
//! a stored run gives the same bytes. Order matters: `results.json` and `results.csv` are
//! written first, so a template that fails on this run's data still leaves the data behind;
//! then the charts, minus the charts of an earlier run that this one did not draw; `report.md`
//! last. Before a run, `check_writable` probes every place a file will go, so an unwritable
//! folder fails before the traffic rather than after it.

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
    /// Where `results.json` goes.
    pub fn results_path(&self) -> PathBuf {
        self.results_file
            .clone()
            .unwrap_or_else(|| self.dir.join("results.json"))
    }
}

/// Render every report of `report` and write them atomically; returns the files written, in
/// write order (`report.md` last).
///
/// When `report.md` cannot be rendered, the data files and charts are still written and the
/// error (`ReportError::MarkdownNotWritten`) lists them.
pub fn write_all(report: &RunReport, plan: &OutputPlan) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    write_reporting(report, plan, None, |path| written.push(path.to_path_buf()))?;
    Ok(written)
}

/// As [`write_all`], with `comparison` (the Markdown of a comparison with a baseline) placed in
/// `report.md` by its template, calling `wrote` with each file as soon as it is in place, so
/// that what was written can be told also when a later file fails. The comparison is not part
/// of `results.json`, so re-rendering the stored run leaves it out.
pub fn write_reporting(
    report: &RunReport,
    plan: &OutputPlan,
    comparison: Option<&str>,
    mut wrote: impl FnMut(&Path),
) -> Result<(), ReportError> {
    let json = json_out::render(report)?;
    // Everything else is rendered from the report exactly as results.json holds it (floats
    // rounded), so `report` re-renders a stored run to the same bytes as `run` wrote.
    let stored: RunReport = serde_json::from_str(&json).map_err(ReportError::Json)?;
    let report = &stored;
    let mut files = vec![
        (plan.results_path(), json),
        (plan.dir.join("results.csv"), csv_out::render(report)?),
    ];
    for (name, svg) in charts::render(report) {
        files.push((plan.dir.join(name), svg));
    }
    let mut written = Vec::with_capacity(files.len());
    for (path, text) in files {
        atomic(&path, text.as_bytes())?;
        wrote(&path);
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
    wrote(&path);
    Ok(())
}

/// Write `report`'s `results.json` alone to `path` (atomically, creating its folder): where
/// the results go when their planned place fails.
pub fn write_results_json(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    atomic(path, json_out::render(report)?.as_bytes())
}

/// Check, before any traffic, that the files of `plan` and `more` (other files the run writes,
/// such as the request log) can be written: each folder is created, and a probe file is
/// written there under the temporary name its file will be written under, then removed; no
/// file's name may be taken by a folder. Finds a read-only or full file system, a path under a
/// file, or one under `/proc`, before the run instead of after it.
pub fn check_writable(plan: &OutputPlan, more: &[PathBuf]) -> Result<(), ReportError> {
    let mut files = vec![plan.results_path(), plan.dir.join("report.md")];
    files.extend_from_slice(more);
    for path in &files {
        if path.is_dir() {
            return Err(ReportError::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "a folder has the name of a report file",
                ),
            });
        }
        let tmp = temp_path(path);
        let folder = folder_of(path);
        let probe = (|| {
            if folder.exists() && !folder.is_dir() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    "a file, not a folder",
                ));
            }
            std::fs::create_dir_all(folder)?;
            std::fs::File::create(&tmp)?.write_all(b"probe")?;
            std::fs::remove_file(&tmp)
        })();
        probe.map_err(|source| ReportError::Io {
            path: folder.to_path_buf(),
            source,
        })?;
    }
    Ok(())
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

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The temporary name `path` is written under before the rename.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    folder_of(path).join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Write `contents` to `path` atomically, creating its folder.
pub(crate) fn atomic(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(folder_of(path)).map_err(io)?;
    let tmp = temp_path(path);
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
