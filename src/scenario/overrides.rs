//! Overrides on top of a scenario file: `--set key=value` pairs and the environment variables
//! of the benchmark framework nitro-scenario replaces. Each becomes an assignment into the
//! parsed document before validation, so the usual checks (and messages) cover it.

use std::borrow::Cow;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostics::{Diagnostics, override_span};
use super::{Problem, ScenarioError};

/// The framework's variables, in the order they apply.
pub const ENV_VARS: [&str; 8] = [
    "BASE",
    "ROUTE",
    "C",
    "T",
    "SIZE",
    "WARMUP_SECONDS",
    "BENCHMARK_SECONDS",
    "RESULTS_FILE",
];

/// Overrides applied on top of a file: `--set key=value` pairs, then the framework's env vars.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--set` pairs in command-line order.
    pub set: Vec<(String, String)>,
    /// The framework's variables found in the environment, in `ENV_VARS` order.
    pub env: Vec<(String, String)>,
}

impl Overrides {
    /// Parse `--set` arguments (`key=value`) and read the framework's variables from the
    /// process environment.
    pub fn from_args_and_env(set: &[String]) -> Result<Self, ScenarioError> {
        let env = ENV_VARS
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
            .collect();
        Self::from_args(set, env)
    }

    /// Parse `--set` arguments with an explicit list of framework variables (for tests).
    pub fn from_args(set: &[String], env: Vec<(String, String)>) -> Result<Self, ScenarioError> {
        let mut pairs = Vec::new();
        let mut problems = Vec::new();
        for arg in set {
            match arg.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    pairs.push((key.trim().to_string(), value.to_string()));
                }
                _ => problems.push(Problem {
                    file: "--set".into(),
                    line: None,
                    column: None,
                    key: String::new(),
                    message: format!(
                        "`{arg}` is not `key=value`; write e.g. `--set run.duration=5s`"
                    ),
                }),
            }
        }
        if problems.is_empty() {
            Ok(Self { set: pairs, env })
        } else {
            Err(ScenarioError { problems })
        }
    }

    /// Every override as an assignment to a key path, in the order they apply.
    pub(crate) fn assignments(&self) -> Vec<Assignment> {
        let mut out: Vec<Assignment> = self
            .set
            .iter()
            .map(|(key, value)| Assignment {
                path: key.split('.').map(str::to_string).collect(),
                text: value.clone(),
                label: format!("--set {key}={value}"),
            })
            .collect();
        for (name, value) in &self.env {
            let (key, text) = match name.as_str() {
                "BASE" => ("target.base_url", toml_string(value)),
                "ROUTE" => ("matrix.route", format!("[{}]", toml_string(value))),
                "C" => ("matrix.concurrency", format!("[{}]", value.trim())),
                "T" | "BENCHMARK_SECONDS" => {
                    ("run.duration", toml_string(&format!("{}s", value.trim())))
                }
                "SIZE" => ("matrix.payload", format!("[{}]", toml_string(value))),
                "WARMUP_SECONDS" => ("run.warmup", toml_string(&format!("{}s", value.trim()))),
                "RESULTS_FILE" => ("output.results_file", toml_string(value)),
                _ => continue,
            };
            out.push(Assignment {
                path: key.split('.').map(str::to_string).collect(),
                text,
                label: format!("{name}={value}"),
            });
        }
        out
    }
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// One override: set the value at `path` to `text` (TOML, or a bare string when not TOML).
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    /// Key path, e.g. `["run", "duration"]`.
    pub(crate) path: Vec<String>,
    /// The value as written.
    pub(crate) text: String,
    /// How the user wrote it, for messages.
    pub(crate) label: String,
}

/// Apply `assignments` to `root`. Every value gets the marker span of its assignment so that
/// problems with it name the override instead of a file position.
pub(crate) fn apply<'i>(
    root: &mut DeTable<'i>,
    assignments: &'i [Assignment],
    d: &mut Diagnostics<'_>,
) {
    for (index, assignment) in assignments.iter().enumerate() {
        let span = override_span(index);
        let value = match DeValue::parse(&assignment.text) {
            Ok(value) => respan(value.into_inner(), &span),
            Err(_) => DeValue::String(Cow::Borrowed(assignment.text.as_str())),
        };
        let key = assignment.path.join(".");
        let Some((last, parents)) = assignment.path.split_last() else {
            continue;
        };
        match table_at(root, parents, &span) {
            Some(table) => {
                table.insert(
                    Spanned::new(span.clone(), Cow::Owned(last.clone())),
                    Spanned::new(span, value),
                );
            }
            None => d.error(
                span,
                &key,
                format!(
                    "`{}` is not a table, so `{key}` cannot be set",
                    parents.join(".")
                ),
            ),
        }
    }
}

/// The table at `path` under `table`, created as needed; `None` when a part is not a table.
fn table_at<'t, 'i>(
    table: &'t mut DeTable<'i>,
    path: &[String],
    span: &std::ops::Range<usize>,
) -> Option<&'t mut DeTable<'i>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table);
    };
    let entry = table
        .entry(Spanned::new(span.clone(), Cow::Owned(first.clone())))
        .or_insert_with(|| Spanned::new(span.clone(), DeValue::Table(DeTable::new())));
    match entry.get_mut() {
        DeValue::Table(inner) => table_at(inner, rest, span),
        _ => None,
    }
}

/// `value` with every nested span replaced by `span`.
fn respan<'i>(value: DeValue<'i>, span: &std::ops::Range<usize>) -> DeValue<'i> {
    match value {
        DeValue::Array(items) => {
            let mut array = toml::de::DeArray::new();
            for item in items.iter() {
                array.push(Spanned::new(
                    span.clone(),
                    respan(item.get_ref().clone(), span),
                ));
            }
            DeValue::Array(array)
        }
        DeValue::Table(entries) => {
            let mut table = DeTable::new();
            for (k, v) in entries {
                table.insert(
                    Spanned::new(span.clone(), k.into_inner()),
                    Spanned::new(span.clone(), respan(v.into_inner(), span)),
                );
            }
            DeValue::Table(table)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn set_arguments_must_be_key_value() {
        let err = Overrides::from_args(&["run.duration".into()], vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--set: `run.duration` is not `key=value`; write e.g. `--set run.duration=5s`"
        );
    }

    #[test]
    fn framework_variables_map_to_keys() {
        let o = Overrides::from_args(
            &[],
            env(&[
                ("BASE", "http://x"),
                ("C", "8"),
                ("T", "5"),
                ("SIZE", "M"),
                ("ROUTE", "/v1/chat/completions"),
            ]),
        )
        .unwrap();
        let got: Vec<(String, String)> = o
            .assignments()
            .into_iter()
            .map(|a| (a.path.join("."), a.text))
            .collect();
        assert_eq!(
            got,
            [
                ("target.base_url".to_string(), "\"http://x\"".to_string()),
                ("matrix.concurrency".into(), "[8]".into()),
                ("run.duration".into(), "\"5s\"".into()),
                ("matrix.payload".into(), "[\"M\"]".into()),
                ("matrix.route".into(), "[\"/v1/chat/completions\"]".into()),
            ]
        );
    }
}
