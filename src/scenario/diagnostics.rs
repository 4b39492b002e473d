//! Problems found in a scenario file, located by line, column and key path, and rendered as
//! `file:line:col: key.path: message`. Values that came from `--set` or an environment variable
//! carry a marker span instead of a file position, and say where they came from. Warnings
//! (things worth fixing that do not stop a run) are located the same way.
//!
//! Messages quote what the user wrote, which may hold control characters (a NUL, an escape
//! sequence): rendering escapes them, so no message drives the terminal.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{Problem, ScenarioError};

/// Spans at or above this mark point at an override, not at file text.
const OVERRIDE_MARK: usize = usize::MAX / 2;

/// The span given to the value of override number `index`.
pub(crate) fn override_span(index: usize) -> Range<usize> {
    OVERRIDE_MARK + index..OVERRIDE_MARK + index
}

/// Whether `span` marks an override rather than file text.
pub(crate) fn is_override(span: &Range<usize>) -> bool {
    span.start >= OVERRIDE_MARK
}

/// Where a value was written, resolved from its span while the file text is at hand, so that
/// problems found later (while expanding templates) can still point at it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spot {
    /// Byte offset in the file, for sorting problems in file order.
    offset: usize,
    /// 1-based line, or `None` for a value that came from an override.
    line: Option<usize>,
    /// 1-based column in characters.
    column: Option<usize>,
    /// ` (from `--set ...`)` for a value that came from an override.
    from: Option<String>,
}

impl Spot {
    /// A problem at this spot.
    pub(crate) fn problem(&self, file: &Path, key: &str, message: impl Into<String>) -> Problem {
        let mut message = message.into();
        if let Some(from) = &self.from {
            message = format!("{message} (from `{from}`)");
        }
        Problem {
            file: file.to_path_buf(),
            line: self.line,
            column: self.column,
            key: key.into(),
            message,
        }
    }
}

/// Collects every problem of one file.
pub(crate) struct Diagnostics<'a> {
    file: &'a Path,
    text: &'a str,
    /// How each override was written (`--set run.duration=5s`, `C=8`), secrets redacted.
    override_labels: &'a [String],
    problems: Vec<(usize, Problem)>,
    /// Warnings, with their offsets for file order.
    warnings: Vec<(usize, Problem)>,
    /// Key paths that a "did you mean" hint proposed: a "missing" problem for one of them
    /// would only repeat the hint, so it is not recorded.
    suggested: BTreeSet<String>,
}

impl<'a> Diagnostics<'a> {
    /// Problems of `file`, whose contents are `text`.
    pub(crate) fn new(file: &'a Path, text: &'a str, override_labels: &'a [String]) -> Self {
        Self {
            file,
            text,
            override_labels,
            problems: Vec::new(),
            warnings: Vec::new(),
            suggested: BTreeSet::new(),
        }
    }

    /// Where `span` is.
    pub(crate) fn spot(&self, span: &Range<usize>) -> Spot {
        if is_override(span) {
            Spot {
                offset: span.start,
                line: None,
                column: None,
                from: self
                    .override_labels
                    .get(span.start - OVERRIDE_MARK)
                    .cloned(),
            }
        } else {
            let (line, column) = line_column(self.text, span.start);
            Spot {
                offset: span.start,
                line: Some(line),
                column: Some(column),
                from: None,
            }
        }
    }

    /// The file text at `span`, if it is file text.
    pub(crate) fn text_at(&self, span: &Range<usize>) -> Option<&'a str> {
        self.text.get(span.clone())
    }

    /// Record a problem with the value or key at `span`.
    pub(crate) fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let spot = self.spot(&span);
        self.error_at(&spot, key, message);
    }

    /// Record a problem at `spot`.
    pub(crate) fn error_at(&mut self, spot: &Spot, key: &str, message: impl Into<String>) {
        let problem = spot.problem(self.file, key, message);
        self.problems.push((spot.offset, problem));
    }

    /// Record a problem with the file as a whole.
    pub(crate) fn error_in_file(&mut self, key: &str, message: impl Into<String>) {
        let problem = Spot::default().problem(self.file, key, message);
        self.problems.push((0, problem));
    }

    /// Record a warning about the value or key at `span`: worth fixing, but no reason to stop.
    pub(crate) fn warn(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let spot = self.spot(&span);
        let warning = spot.problem(self.file, key, message);
        self.warnings.push((spot.offset, warning));
    }

    /// The warnings so far, in file order.
    pub(crate) fn warnings(&self) -> Vec<Problem> {
        let mut warnings = self.warnings.clone();
        warnings.sort_by_key(|(start, _)| *start);
        warnings.into_iter().map(|(_, w)| w).collect()
    }

    /// Remember that a hint proposed the key at `path`.
    pub(crate) fn suggested(&mut self, path: String) {
        self.suggested.insert(path);
    }

    /// Record that the required key `path` is missing from the table at `span`, unless a
    /// misspelt key in that table already pointed at it.
    pub(crate) fn missing(&mut self, span: Range<usize>, path: &str, message: impl Into<String>) {
        if !self.suggested.contains(path) {
            self.error(span, path, message);
        }
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
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The closest of `known` to `unknown`, if any is close enough to be a likely typo.
pub(crate) fn closest<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `did you mean `x`?` for the closest of `known` to `unknown`, if any is close, else the list
/// of `known`; nothing when `known` is empty (the caller says what to do instead).
pub(crate) fn suggestion(unknown: &str, known: &[&str]) -> String {
    match closest(unknown, known) {
        Some(k) => format!("; did you mean `{k}`?"),
        None if known.is_empty() => String::new(),
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
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

impl std::fmt::Display for Problem {
    /// `file:line:col: key: message`, control characters escaped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&escape_controls(&self.file.display().to_string()))?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", escape_controls(&self.key))?;
        }
        f.write_str(&escape_controls(&self.message))
    }
}

/// `text` with control characters, and the invisible characters that reorder text on a
/// terminal (bidirectional overrides), written as escapes (`\0`, `\u{1b}`): text a user wrote
/// is shown, never obeyed.
pub(crate) fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` must not reach a terminal as it is.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `text` that must not reach a terminal or a report (see
/// [`is_unsafe`]); with `lines`, tabs and line breaks (`\n`, `\r\n`) are let through, as in
/// free text of several lines. Free text a scenario holds is refused with it, since reports
/// show it as written.
pub(crate) fn unsafe_char(text: &str, lines: bool) -> Option<char> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let line_break = c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
        if is_unsafe(c) && !(lines && (c == '\t' || line_break)) {
            return Some(c);
        }
    }
    None
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
        assert_eq!(suggestion("zzz", &[]), "");
    }

    #[test]
    fn rendering_escapes_control_characters() {
        let problem = Problem {
            file: "a\u{1b}[2J.toml".into(),
            line: Some(1),
            column: Some(2),
            key: "routes.a\0b".into(),
            message: "`x\u{7}\u{202e}y` is wrong\n".into(),
        };
        assert_eq!(
            render(&[problem]),
            "a\\u{1b}[2J.toml:1:2: routes.a\\0b: `x\\u{7}\\u{202e}y` is wrong\\n"
        );
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn free_text_may_hold_line_breaks_only_when_asked() {
        assert_eq!(unsafe_char("plain é", false), None);
        assert_eq!(unsafe_char("bad\u{1b}[31m", true), Some('\u{1b}'));
        assert_eq!(unsafe_char("a\tb\nc\r\nd", true), None);
        assert_eq!(unsafe_char("a\tb", false), Some('\t'));
        assert_eq!(unsafe_char("a\rb", true), Some('\r'));
        assert_eq!(unsafe_char("x\u{85}", true), Some('\u{85}'));
        assert_eq!(unsafe_char("x\u{202e}y", false), Some('\u{202e}'));
    }
}
