//! Problems found in a scenario file, located by line, column and key path, and rendered as
//! `file:line:col: key.path: message`. Values that came from `--set` or an environment variable
//! carry a marker span instead of a file position, and say where they came from.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{Problem, ScenarioError};

/// Spans at or above this mark point at an override, not at file text.
const OVERRIDE_MARK: usize = usize::MAX / 2;

/// The span given to the value of override number `index`.
pub(crate) fn override_span(index: usize) -> Range<usize> {
    OVERRIDE_MARK + index..OVERRIDE_MARK + index
}

/// Collects every problem of one file.
pub(crate) struct Diagnostics<'a> {
    file: &'a Path,
    text: &'a str,
    /// How each override was written (`--set run.duration=5s`, `env C=8`), by index.
    override_labels: &'a [String],
    problems: Vec<(usize, Problem)>,
}

impl<'a> Diagnostics<'a> {
    /// Problems of `file`, whose contents are `text`.
    pub(crate) fn new(file: &'a Path, text: &'a str, override_labels: &'a [String]) -> Self {
        Self {
            file,
            text,
            override_labels,
            problems: Vec::new(),
        }
    }

    /// Record a problem with the value or key at `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let mut message = message.into();
        let (line, column) = if span.start >= OVERRIDE_MARK {
            if let Some(label) = self.override_labels.get(span.start - OVERRIDE_MARK) {
                message = format!("{message} (from `{label}`)");
            }
            (None, None)
        } else {
            let (line, column) = line_column(self.text, span.start);
            (Some(line), Some(column))
        };
        let problem = Problem {
            file: self.file.to_path_buf(),
            line,
            column,
            key: key.into(),
            message,
        };
        self.problems.push((span.start, problem));
    }

    /// Record a problem with the file as a whole.
    pub(crate) fn error_in_file(&mut self, key: &str, message: impl Into<String>) {
        let problem = Problem {
            file: self.file.to_path_buf(),
            line: None,
            column: None,
            key: key.into(),
            message: message.into(),
        };
        self.problems.push((0, problem));
    }

    /// Whether nothing is wrong so far.
    pub(crate) fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems in file order, as an error; `Ok` when there are none.
    pub(crate) fn into_result(mut self) -> Result<(), ScenarioError> {
        if self.problems.is_empty() {
            return Ok(());
        }
        self.problems.sort_by_key(|(start, _)| *start);
        Err(ScenarioError {
            problems: self.problems.into_iter().map(|(_, p)| p).collect(),
        })
    }
}

/// A problem about a whole file (unreadable, say), with no position.
pub(crate) fn file_problem(file: &Path, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        problems: vec![Problem {
            file: PathBuf::from(file),
            line: None,
            column: None,
            key: String::new(),
            message: message.into(),
        }],
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// `did you mean `x`?` for the closest of `known` to `unknown`, if any is close.
pub(crate) fn suggestion(unknown: &str, known: &[&str]) -> String {
    let best = known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, k)) => format!("; did you mean `{k}`?"),
        None => format!(
            "; expected one of {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Render problems one per line, `file:line:col: key: message`.
pub(crate) fn render(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&p.file.display().to_string());
        if let (Some(line), Some(column)) = (p.line, p.column) {
            out.push_str(&format!(":{line}:{column}"));
        }
        out.push_str(": ");
        if !p.key.is_empty() {
            out.push_str(&p.key);
            out.push_str(": ");
        }
        out.push_str(&p.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
        assert_eq!(line_column(text, text.rfind('=').unwrap()), (2, 4));
    }

    #[test]
    fn suggestions_pick_the_closest_key_or_list_them_all() {
        assert_eq!(
            suggestion("concurency", &["route", "concurrency"]),
            "; did you mean `concurrency`?"
        );
        assert_eq!(suggestion("zzz", &["a", "b"]), "; expected one of `a`, `b`");
    }
}
