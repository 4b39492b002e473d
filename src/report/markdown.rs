//! `report.md`: the template view of a report rendered by already-loaded templates (the
//! built-in one or a user's folder). A pure function: no file is read here.

use minijinja::Value;

use super::templates::{MAIN, Templates};
use super::view::view;
use super::{ReportError, RunReport};

/// Render `report.md`; `comparison` is the Markdown of a comparison with a baseline
/// (`run --baseline`), rendered apart by `judge` and placed by the template.
pub(crate) fn render(
    report: &RunReport,
    templates: &Templates,
    comparison: Option<&str>,
) -> Result<String, ReportError> {
    let view = view(report, comparison);
    templates.render(MAIN, Value::from(minijinja::value::Serde(view)))
}
