//! Where a client's figures are read: the file named by `RESULTS_FILE` when the client wrote
//! it, otherwise the last JSON object it printed on stdout (the framework's programs print
//! a line or two of text, then their JSON summary).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use serde_json::Value;

use super::figures::{ClientFigures, FiguresError, parse_figures};
use super::outcome::FiguresSource;

/// A results file larger than this is not read.
const MAX_RESULTS_BYTES: u64 = 4 * 1024 * 1024;
/// Characters of stdout quoted when it holds no JSON object.
const QUOTED_CHARS: usize = 200;

/// The figures of a client that exited: from `results` if it exists, else from `stdout`.
/// Blocking (reads a file).
pub(crate) fn read_figures(
    results: &Path,
    stdout: &str,
) -> Result<(ClientFigures, FiguresSource), FiguresError> {
    match read_results(results)? {
        Some(value) => {
            let origin = results.display().to_string();
            parse_figures(&value, &origin).map(|f| (f, FiguresSource::ResultsFile))
        }
        None => match last_json_object(stdout) {
            Some(value) => parse_figures(&value, "stdout").map(|f| (f, FiguresSource::Stdout)),
            None => Err(FiguresError::Missing {
                ending: ending(stdout),
            }),
        },
    }
}

/// The results file as JSON; `None` when the client did not write it.
fn read_results(path: &Path) -> Result<Option<Value>, FiguresError> {
    let origin = || path.display().to_string();
    let unreadable = |e: io::Error| FiguresError::Unreadable {
        origin: origin(),
        message: e.to_string(),
    };
    // Looked up before opening: a client that left a FIFO there would block the open.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(unreadable(io::Error::other("it is not a regular file")));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    }
    let file = File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_RESULTS_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_RESULTS_BYTES {
        let e = io::Error::other(format!("larger than {} MiB", MAX_RESULTS_BYTES >> 20));
        return Err(unreadable(e));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| FiguresError::Syntax {
            origin: origin(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or("")
                .to_string(),
        })
}

/// The last top-level JSON object in `text`, which may hold other lines before, between and
/// after objects, and objects spread over several lines.
pub(crate) fn last_json_object(text: &str) -> Option<Value> {
    let mut last = None;
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let mut values = serde_json::Deserializer::from_str(&text[open..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) => {
                // Continue after the object, so that objects nested in it are not taken.
                from = open + values.byte_offset();
                last = Some(value);
            }
            _ => from = open + 1,
        }
    }
    last
}

/// `` (it ended: `...`)`` with the end of `stdout`, or nothing when it is empty.
fn ending(stdout: &str) -> String {
    let trimmed = stdout.trim_end();
    if trimmed.is_empty() {
        return String::new();
    }
    let start = trimmed
        .char_indices()
        .rev()
        .nth(QUOTED_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let quoted = trimmed[start..].replace('\n', " | ");
    format!(" (it ended: `{quoted}`)")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_last_top_level_object_wins_over_text_and_nested_objects() {
        let text = "Starting benchmark: route=/x\n{\"a\": 1}\nprogress {\n{\n  \"b\": {\"c\": 2},\n  \"d\": [{}]\n}\nbye {\"broken\": \n";
        assert_eq!(
            last_json_object(text),
            Some(json!({"b": {"c": 2}, "d": [{}]}))
        );
        assert_eq!(last_json_object("no json here { nor here"), None);
        assert_eq!(last_json_object(""), None);
        assert_eq!(last_json_object("[1, 2] 3"), None);
    }

    #[test]
    fn a_results_file_is_preferred_and_its_syntax_errors_carry_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let stdout = r#"{"lang": 1}"#;
        let e = read_figures(&path, stdout).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stdout: `lang`: expected a string, found `1`"
        );
        std::fs::write(&path, "{\n  \"lang\": \"x\",\n  oops\n}").unwrap();
        let e = read_figures(&path, stdout).unwrap_err().to_string();
        let origin = path.display();
        assert_eq!(e, format!("{origin}:3:3: not JSON: key must be a string"));
    }

    #[test]
    fn without_results_the_error_quotes_the_end_of_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.json");
        let e = read_figures(&path, "line one\nline two\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no results: `RESULTS_FILE` was not written and stdout holds no JSON object (it ended: `line one | line two`)"
        );
        let e = read_figures(&path, "").unwrap_err();
        assert!(e.to_string().ends_with("holds no JSON object"), "{e}");
    }

    #[test]
    fn a_results_path_that_is_no_regular_file_is_refused_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("r.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        // Opening a FIFO with no writer would block this test forever.
        let e = read_figures(&fifo, "{}").unwrap_err().to_string();
        assert!(e.ends_with("it is not a regular file"), "{e}");
        let e = read_figures(dir.path(), "{}").unwrap_err().to_string();
        assert!(e.ends_with("it is not a regular file"), "{e}");
    }
}
