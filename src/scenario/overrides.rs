//! Overrides on top of a scenario file: `--set key=value` pairs and the environment variables
//! of the benchmark framework nitro-scenario replaces. Each becomes an assignment into the
//! parsed document before validation, so the usual checks (and messages) cover it.

use std::borrow::Cow;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::credentials::redact_userinfo;
use super::diagnostics::{Diagnostics, escape_controls, override_span};
use super::read::toml_string;
use super::{Problem, ScenarioError, units};

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
#[derive(Clone, Default)]
pub struct Overrides {
    /// `--set` pairs in command-line order.
    pub set: Vec<(String, String)>,
    /// The framework's variables found in the environment, in `ENV_VARS` order.
    pub env: Vec<(String, String)>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A `--set` header or a `BASE` with credentials holds a secret: show what `plan` shows.
        f.debug_list().entries(self.shown()).finish()
    }
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
                _ => {
                    // A header written without `=` may still hold its value: do not quote it.
                    let shown = if is_secret_key(arg) {
                        "a header setting".to_string()
                    } else {
                        format!("`{arg}`")
                    };
                    problems.push(Problem {
                        file: "--set".into(),
                        line: None,
                        column: None,
                        key: String::new(),
                        message: format!(
                            "{shown} is not `key=value`; write e.g. `--set run.duration=5s`"
                        ),
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { set: pairs, env })
        } else {
            Err(ScenarioError { problems })
        }
    }

    /// Every override as the user wrote it (`--set run.duration=5s`, `SIZE=M`), in the order
    /// they apply, with secrets redacted (header values and URL credentials) and control
    /// characters escaped.
    pub fn shown(&self) -> Vec<String> {
        self.assignments().into_iter().map(|a| a.label).collect()
    }

    /// Every override as an assignment to a key path, in the order they apply.
    pub(crate) fn assignments(&self) -> Vec<Assignment> {
        let mut out: Vec<Assignment> = self
            .set
            .iter()
            .map(|(key, value)| Assignment {
                path: key.split('.').map(str::to_string).collect(),
                value: Assigned::Written(value.clone()),
                label: escape_controls(&format!("--set {key}={}", redacted(key, value))).into(),
            })
            .collect();
        // `T` and `BENCHMARK_SECONDS` both set the measure phase: the first one set.
        let mut measure_var: Option<&(String, String)> = None;
        for var in &self.env {
            let (name, value) = var;
            let (key, text) = match name.as_str() {
                "BASE" => ("target.base_url", Ok(toml_string(value))),
                "ROUTE" => ("matrix.route", Ok(format!("[{}]", toml_string(value)))),
                "C" => ("matrix.concurrency", concurrency_list(value)),
                "T" | "BENCHMARK_SECONDS" => {
                    let first = *measure_var.get_or_insert(var);
                    (
                        "run.duration",
                        seconds(value).and_then(|text| {
                            agree(first, value)?;
                            Ok(text)
                        }),
                    )
                }
                "SIZE" => ("matrix.payload", Ok(format!("[{}]", toml_string(value)))),
                "WARMUP_SECONDS" => ("run.warmup", seconds(value)),
                "RESULTS_FILE" => ("output.results_file", Ok(toml_string(value))),
                _ => continue,
            };
            out.push(Assignment {
                path: key.split('.').map(str::to_string).collect(),
                value: match text {
                    Ok(toml) => Assigned::Toml(toml),
                    Err(problem) => Assigned::Invalid(problem),
                },
                label: escape_controls(&format!("{name}={}", redacted(key, value))).into(),
            });
        }
        out
    }
}

/// Whether an override of `key` sets a header, whose value is secret.
fn is_secret_key(key: &str) -> bool {
    key.split(['.', '=']).any(|part| part.trim() == "headers")
}

/// `value` as shown in plans and messages: `***` for a header, credentials cut from a URL.
fn redacted(key: &str, value: &str) -> String {
    if is_secret_key(key) {
        "***".into()
    } else if key == "target.base_url" {
        redact_userinfo(value)
    } else {
        value.to_string()
    }
}

/// A number of seconds (`60`, `0.5`) as a TOML duration string, or a problem quoting it.
fn seconds(value: &str) -> Result<String, String> {
    let v = value.trim();
    let number = !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && v.bytes().filter(|&b| b == b'.').count() <= 1
        && v != ".";
    if number {
        Ok(toml_string(&format!("{v}s")))
    } else {
        Err(format!(
            "`{value}` is not a number of seconds; write e.g. `60` or `0.5`"
        ))
    }
}

/// `T` and `BENCHMARK_SECONDS` both set the measure phase: a second one set must agree with
/// the `first` (rather than silently win).
fn agree((first, first_value): &(String, String), value: &str) -> Result<(), String> {
    let parsed = |v: &str| units::parse_duration(&format!("{}s", v.trim())).ok();
    if parsed(value) == parsed(first_value) {
        Ok(())
    } else {
        Err(format!(
            "disagrees with `{first}={first_value}`; unset one or give both the same value"
        ))
    }
}

/// `C=8` or `C=8,32` as a TOML list of counts, or a problem quoting what was written.
fn concurrency_list(value: &str) -> Result<String, String> {
    let levels: Vec<&str> = value
        .split([',', ' '])
        .filter(|part| !part.is_empty())
        .collect();
    if levels.is_empty() || !levels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!(
            "`{value}` is not a concurrency level; write e.g. `C=32` or `C=8,32`"
        ));
    }
    Ok(format!("[{}]", levels.join(", ")))
}

/// One override: set the value at `path`.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    /// Key path, e.g. `["run", "duration"]`.
    pub(crate) path: Vec<String>,
    /// The value to set.
    pub(crate) value: Assigned,
    /// How the user wrote it, secrets redacted, for messages and plans.
    pub(crate) label: String,
}

/// The value of an override.
#[derive(Debug, Clone)]
pub(crate) enum Assigned {
    /// `--set` text: TOML when it parses, a bare string otherwise (`--set run.duration=5s`).
    Written(String),
    /// TOML made from an environment variable.
    Toml(String),
    /// An environment variable whose value is wrong: the problem, quoting it.
    Invalid(String),
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
        let key = assignment.path.join(".");
        let value = match &assignment.value {
            Assigned::Invalid(problem) => Err(problem.clone()),
            Assigned::Toml(text) => DeValue::parse(text)
                .map(|v| respan(v.into_inner(), &span))
                .map_err(|e| format!("cannot be read as TOML: {}", e.message().trim_end())),
            Assigned::Written(text) => match DeValue::parse(text) {
                Ok(v) => Ok(respan(v.into_inner(), &span)),
                // A list or table that does not parse is a mistake, not a string.
                Err(_) if text.trim_start().starts_with(['[', '{']) => {
                    // A header's value is secret: say what is wrong without quoting it.
                    let shown = if is_secret_key(&key) {
                        "the value".to_string()
                    } else {
                        format!("`{text}`")
                    };
                    Err(format!(
                        "{shown} is not a valid TOML list or table; quote strings, e.g. \
                         `[\"a\", \"b\"]`"
                    ))
                }
                Err(_) => Ok(DeValue::String(Cow::Borrowed(text.as_str()))),
            },
        };
        let value = match value {
            Ok(value) => value,
            Err(problem) => {
                d.error(span, &key, problem);
                continue;
            }
        };
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
            .map(|a| match a.value {
                Assigned::Toml(text) => (a.path.join("."), text),
                other => panic!("{other:?}"),
            })
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

    fn problem(o: &Overrides, key: &str) -> String {
        o.assignments()
            .into_iter()
            .find_map(|a| match a.value {
                Assigned::Invalid(p) if a.path.join(".") == key => Some(p),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn seconds_quote_what_was_typed() {
        let o = Overrides::from_args(&[], env(&[("WARMUP_SECONDS", "x")])).unwrap();
        assert_eq!(
            problem(&o, "run.warmup"),
            "`x` is not a number of seconds; write e.g. `60` or `0.5`"
        );
        let o = Overrides::from_args(&[], env(&[("C", "many")])).unwrap();
        assert_eq!(
            problem(&o, "matrix.concurrency"),
            "`many` is not a concurrency level; write e.g. `C=32` or `C=8,32`"
        );
    }

    #[test]
    fn both_measure_variables_must_agree() {
        let o = Overrides::from_args(&[], env(&[("T", "5"), ("BENCHMARK_SECONDS", "7")])).unwrap();
        assert_eq!(
            problem(&o, "run.duration"),
            "disagrees with `T=5`; unset one or give both the same value"
        );
        let o =
            Overrides::from_args(&[], env(&[("T", "5"), ("BENCHMARK_SECONDS", "5.0")])).unwrap();
        assert_eq!(problem(&o, "run.duration"), "");
    }

    #[test]
    fn shown_overrides_hide_secrets() {
        let o = Overrides::from_args(
            &[
                "target.headers.authorization=Bearer sk-1".into(),
                "run.duration=5s".into(),
            ],
            env(&[("BASE", "http://u:p@h:1"), ("SIZE", "M")]),
        )
        .unwrap();
        assert_eq!(
            o.shown(),
            [
                "--set target.headers.authorization=***",
                "--set run.duration=5s",
                "BASE=http://***@h:1",
                "SIZE=M"
            ]
        );
    }

    #[test]
    fn shown_overrides_escape_control_characters() {
        let o = Overrides::from_args(&["target.model=m\u{1b}[2J".into()], vec![]).unwrap();
        assert_eq!(o.shown(), ["--set target.model=m\\u{1b}[2J"]);
    }

    #[test]
    fn debug_shows_overrides_redacted() {
        let o = Overrides::from_args(
            &["target.headers.x-key=k-secret".into()],
            env(&[("BASE", "http://u:p-secret@h")]),
        )
        .unwrap();
        let debug = format!("{o:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }
}
