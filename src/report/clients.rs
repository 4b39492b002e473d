//! The client comparison of a report: points side by side per route, payload, load and user
//! axis values — one row per client (`builtin` and each external client) — and the notes on
//! external clients' runs that did not complete (failed, killed at their time limit) or
//! clients that were skipped (not installed), with the end of their stderr.

use serde::Serialize;

use super::view::{AxisCell, PointRow};
use crate::external::Outcome;
use crate::metrics::PointResult;

/// The label of the built-in engine in the `lang` column.
pub(crate) const ENGINE_LANG: &str = "nitro-scenario";

/// Lines of a failed run's stderr that `report.md` shows (`results.json` keeps more).
const STDERR_LINES: usize = 5;
/// Characters of one such line that are shown.
const STDERR_LINE_CHARS: usize = 200;

/// The points of one route, payload, load and user axis values, one per client.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClientGroup {
    /// Route name.
    pub(crate) route: String,
    /// Payload name or `-`.
    pub(crate) payload: String,
    /// The load in words: `32 workers`.
    pub(crate) load: String,
    /// User axis values.
    pub(crate) axes: Vec<AxisCell>,
    /// One row per client, plan order.
    pub(crate) rows: Vec<PointRow>,
}

/// A skipped client, or an external client's run that did not complete.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClientNote {
    /// The client's name.
    pub(crate) client: String,
    /// The points concerned: one for a failed run, every point of a skipped client.
    pub(crate) points: Vec<String>,
    /// Run number, 1-based; `None` for a skipped client.
    pub(crate) run: Option<u32>,
    /// `skipped`, `failed` or `timed out`.
    pub(crate) status: &'static str,
    /// Why, one line, control characters escaped.
    pub(crate) reason: String,
    /// The last lines of its stderr, control characters escaped; empty when it wrote none.
    pub(crate) stderr: Vec<String>,
    /// A code fence longer than any run of backticks in `stderr`.
    pub(crate) fence: String,
}

/// The rows of a client axis grouped for the side-by-side tables, in plan order.
pub(crate) fn client_groups(rows: &[PointRow]) -> Vec<ClientGroup> {
    let mut groups: Vec<ClientGroup> = Vec::new();
    for row in rows.iter().filter(|r| r.client.is_some()) {
        let same = |g: &&mut ClientGroup| {
            g.route == row.route
                && g.payload == row.payload
                && g.load == row.load
                && g.axes == row.axes
        };
        match groups.iter_mut().find(same) {
            Some(g) => g.rows.push(row.clone()),
            None => groups.push(ClientGroup {
                route: row.route.clone(),
                payload: row.payload.clone(),
                load: row.load.clone(),
                axes: row.axes.clone(),
                rows: vec![row.clone()],
            }),
        }
    }
    groups
}

/// Notes on the external clients' runs of `points`: a failed or killed run each, a skipped
/// client once (with every point it skipped).
pub(crate) fn client_notes(points: &[PointResult]) -> Vec<ClientNote> {
    let mut notes: Vec<ClientNote> = Vec::new();
    for p in points {
        let Some(record) = &p.client else { continue };
        for (i, run) in record.runs.iter().enumerate() {
            let (status, reason) = match &run.outcome {
                Outcome::Skipped { reason } => {
                    let earlier = notes
                        .iter_mut()
                        .find(|n| n.status == "skipped" && n.client == record.name);
                    if let Some(note) = earlier {
                        note.points.push(p.id.clone());
                        continue;
                    }
                    ("skipped", reason.clone())
                }
                Outcome::Failed { reason } => ("failed", reason.clone()),
                Outcome::TimedOut { limit_secs } => (
                    "timed out",
                    format!(
                        "still running at its time limit of {limit_secs:.1} s (warmup + measure \
                         + its `timeout`): killed"
                    ),
                ),
                Outcome::Completed { .. } | Outcome::Stopped => continue,
            };
            let stderr = last_lines(&run.stderr_tail);
            notes.push(ClientNote {
                client: record.name.clone(),
                points: vec![p.id.clone()],
                run: (status != "skipped").then_some(i as u32 + 1),
                status,
                reason: escaped(&reason),
                fence: fence(&stderr),
                stderr,
            });
        }
    }
    notes
}

/// The last [`STDERR_LINES`] lines of `text`, each cut to [`STDERR_LINE_CHARS`], escaped.
fn last_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let from = lines.len().saturating_sub(STDERR_LINES);
    lines[from..]
        .iter()
        .map(|line| escaped(&line.chars().take(STDERR_LINE_CHARS).collect::<String>()))
        .collect()
}

/// `text` with control characters (tabs aside) written as escapes: what a client wrote is
/// shown, never obeyed by a terminal that displays the report.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Backticks enough to fence `lines`: one more than their longest run, at least three.
fn fence(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|line| line.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_shows_its_last_lines_escaped_and_fenced() {
        let text = "1\n2\n3\n4\n5\n6 \u{1b}[31mred\u{1b}[0m\n````\n";
        let lines = last_lines(text);
        assert_eq!(lines.len(), STDERR_LINES);
        assert_eq!(lines[0], "3");
        assert_eq!(lines[3], "6 \\u{1b}[31mred\\u{1b}[0m");
        assert_eq!(fence(&lines), "`````");
        assert_eq!(fence(&["plain".to_string()]), "```");
        assert_eq!(last_lines("").len(), 0);
        let long = "x".repeat(500);
        assert_eq!(last_lines(&long)[0].len(), STDERR_LINE_CHARS);
    }
}
