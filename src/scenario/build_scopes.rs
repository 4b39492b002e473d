//! Which points a threshold judges: `[thresholds.route.NAME]` names a route, a
//! `[[thresholds.when]]`'s `match` axis values. A route or payload named nowhere in the file is
//! an error, and so is an axis the matrix lacks or a value its axis does not list; one that
//! exists but that this run's matrix does not reach — the matrix leaves the route out, or an
//! override narrowed the axis — is a warning: those thresholds judge no point, but the run
//! may go on.

use std::ops::Range;

use toml::de::DeValue;

use super::build_matrix::Declared;
use super::diagnostics::{Diagnostics, is_override, suggestion};
use super::read::{Table, Value, as_toml, list, shown};
use super::{Matrix, Payload, RateValue, Route};

/// What the thresholds may name: the file's routes and payloads, and this run's matrix.
pub(crate) struct Reach<'a, 't, 'i> {
    /// Every name written under `[routes]` and `[payloads]`, valid or not.
    pub(crate) declared: &'a Declared,
    /// The routes built.
    pub(crate) routes: &'a [Route],
    /// The payloads built.
    pub(crate) payloads: &'a [Payload],
    /// The matrix, when it has no problem.
    pub(crate) matrix: Option<&'a Matrix>,
    /// `[matrix]` as written, overrides applied, to tell an axis an override narrowed.
    pub(crate) matrix_table: Option<&'a Table<'t, 'i>>,
}

/// Check that `[thresholds.route.NAME]` names a route of `[routes]` that the run reaches.
pub(super) fn check_route(
    d: &mut Diagnostics<'_>,
    span: Range<usize>,
    path: &str,
    name: &str,
    reach: &Reach<'_, '_, '_>,
) {
    let declared: Vec<&str> = reach.declared.routes.iter().map(String::as_str).collect();
    if !declared.contains(&name) {
        d.error(
            span,
            path,
            format!(
                "no route `{name}` in [routes]{}",
                suggestion(name, &declared)
            ),
        );
        return;
    }
    if let Some(run) = reach.axis_values("route") {
        if !run.iter().any(|r| r == name) {
            d.warn(
                span,
                path,
                format!(
                    "route `{name}` is not in this run's matrix (`route = [{}]`); these \
                     thresholds judge no point",
                    run.join(", ")
                ),
            );
        }
    }
}

impl Reach<'_, '_, '_> {
    /// The axes a `match` may name: the built-in ones, then the user axes.
    fn axes(&self) -> Vec<String> {
        let mut axes: Vec<String> = ["route", "payload", "concurrency", "rate"]
            .map(String::from)
            .to_vec();
        axes.extend(super::build_axes::axis_names(self.matrix_table));
        axes
    }

    /// The values `axis` takes in this run, as text (as in a point's `vars`); `None` when the
    /// matrix has problems (reported already).
    fn axis_values(&self, axis: &str) -> Option<Vec<String>> {
        let m = self.matrix?;
        Some(match axis {
            "route" => m
                .route
                .iter()
                .map(|&i| self.routes[i].name.clone())
                .collect(),
            "payload" => m
                .payload
                .iter()
                .map(|&i| self.payloads[i].name.clone())
                .collect(),
            "concurrency" => m.concurrency.iter().map(|c| c.to_string()).collect(),
            "rate" => m
                .rate
                .iter()
                .map(|r| match r {
                    RateValue::Fixed(rps) => super::load::format_rate(*rps),
                    RateValue::Stages => "stages".to_string(),
                    RateValue::Search => "search".to_string(),
                })
                .collect(),
            user => m
                .extra
                .iter()
                .find(|a| a.name == user)?
                .values
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
    }

    /// Whether an override set `axis` (`--set matrix.concurrency=[8]`, `C=8`): then a value
    /// it leaves out may well be one the file's matrix has.
    fn narrowed(&self, axis: &str) -> bool {
        let Some(m) = self.matrix_table else {
            return false;
        };
        let value = match axis {
            "route" | "payload" | "concurrency" | "rate" => m.get(axis),
            user => m
                .get("axes")
                .and_then(|a| a.get_ref().as_table()?.get(user)),
        };
        value.is_some_and(|v| is_override(&v.span()))
    }
}

/// A `[[thresholds.when]]`'s `match`: each axis with the values it accepts, as text; `None`
/// when it has a problem (recorded).
pub(super) fn selection(
    d: &mut Diagnostics<'_>,
    block: &Table<'_, '_>,
    reach: &Reach<'_, '_, '_>,
) -> Option<Vec<(String, Vec<String>)>> {
    let Some(m) = block.table(d, "match") else {
        if block.get("match").is_none() {
            block.missing(
                d,
                "match",
                "missing; say which points these thresholds judge, e.g. \
                 `match = { route = \"chat\", concurrency = 32 }`",
            );
        }
        return None;
    };
    if m.entries.is_empty() {
        d.error(
            m.span.clone(),
            &m.path,
            "names no axis; thresholds for every point go in [thresholds] itself",
        );
        return None;
    }
    if m.get("concurrency").is_some() && m.get("rate").is_some() {
        d.error(
            m.span.clone(),
            &m.path,
            "a point has a `concurrency` or a `rate`, never both: write two \
             `[[thresholds.when]]` tables",
        );
        return None;
    }
    let axes = reach.axes();
    let known: Vec<&str> = axes.iter().map(String::as_str).collect();
    let mut out = Some(Vec::new());
    for (key, value) in m.in_file_order() {
        let axis: &str = key.get_ref();
        if !known.contains(&axis) {
            m.unknown_key(d, key, "an axis", &known);
            out = None;
            continue;
        }
        let path = m.key_path(axis);
        let values = accepted(d, value, &path, axis, reach);
        match (out.as_mut(), values) {
            (Some(list), Some(values)) => list.push((axis.to_string(), values)),
            _ => out = None,
        }
    }
    out
}

/// The values `match` accepts for `axis` (one, or a list), each checked against the file's
/// names and this run's matrix.
fn accepted(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
    axis: &str,
    reach: &Reach<'_, '_, '_>,
) -> Option<Vec<String>> {
    let items = list(value);
    if items.is_empty() {
        d.error(value.span(), path, "lists no value");
        return None;
    }
    let run = reach.axis_values(axis);
    let mut out = Some(Vec::new());
    for item in items {
        let text = match item.get_ref() {
            DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                shown(item)
            }
            other => {
                d.error(
                    item.span(),
                    path,
                    format!("expected an axis value, found {}", other.type_str()),
                );
                out = None;
                continue;
            }
        };
        check_value(d, item, path, axis, &text, run.as_deref(), reach);
        if let Some(list) = out.as_mut() {
            list.push(text);
        }
    }
    out
}

/// Whether `text` names something: an error when it is nowhere in the file, a warning when
/// this run's matrix (`run`) does not reach it.
fn check_value(
    d: &mut Diagnostics<'_>,
    item: &Value<'_>,
    path: &str,
    axis: &str,
    text: &str,
    run: Option<&[String]>,
    reach: &Reach<'_, '_, '_>,
) {
    let declared = match axis {
        "route" => Some((&reach.declared.routes, "[routes]")),
        "payload" => Some((&reach.declared.payloads, "[payloads]")),
        _ => None,
    };
    let in_run = run.is_none_or(|values| values.iter().any(|v| v == text));
    if let Some((names, table)) = declared {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        if !names.contains(&text) {
            d.error(
                item.span(),
                path,
                format!("no {axis} `{text}` in {table}{}", suggestion(text, &names)),
            );
        } else if !in_run {
            d.warn(item.span(), path, no_point(axis, item, run));
        }
        return;
    }
    if in_run {
        return;
    }
    if reach.narrowed(axis) {
        d.warn(item.span(), path, no_point(axis, item, run));
    } else {
        let values = run.unwrap_or_default();
        let hint = suggestion(text, &values.iter().map(String::as_str).collect::<Vec<_>>());
        d.error(
            item.span(),
            path,
            format!("`{text}` is not a value of the `{axis}` axis{hint}"),
        );
    }
}

/// The warning for a value the run's matrix does not reach.
fn no_point(axis: &str, item: &Value<'_>, run: Option<&[String]>) -> String {
    format!(
        "`{axis} = {}` selects no point of this run (`{axis} = [{}]`); these thresholds judge \
         no point there",
        as_toml(item),
        run.unwrap_or_default().join(", ")
    )
}
