//! `[thresholds]`: bounds on reported figures, read into `Thresholds`. The scenario-wide table
//! holds figures plus `every_run` and `abort_on_fail`; `[thresholds.route.NAME]` and
//! `[[thresholds.when]]` (with `match`) hold figures and `every_run` for the points they
//! select. Each bound is typed by its figure's unit (`"< 250ms"`, `"> 5000"`, `">= 99.5%"`,
//! `"== 0"`, `false`).
//!
//! A route or payload named nowhere in the file is an error, and so is an axis value its axis
//! does not list; one that exists but that this run's matrix does not reach — an override
//! narrowed the axis, or the matrix leaves the route out — is a warning: the thresholds judge
//! nothing then, but the run may go on.

use std::ops::Range;

use toml::de::DeValue;

use super::build_bounds;
use super::build_matrix::Declared;
use super::diagnostics::{Diagnostics, closest, is_override, suggestion};
use super::read::{Table, Value, as_toml, list, shown};
use super::thresholds::{Scope, Threshold, Thresholds};
use super::{Matrix, Payload, RateValue, Route};
use crate::judge::Measure;

/// Keys of `[thresholds]` besides figures.
const TOP_KEYS: &[&str] = &["abort_on_fail", "every_run", "route", "when"];
/// Keys of `[thresholds.route.NAME]` besides figures.
const ROUTE_KEYS: &[&str] = &["every_run"];
/// Keys of `[[thresholds.when]]` besides figures.
const WHEN_KEYS: &[&str] = &["match", "every_run"];

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

/// `[thresholds]`; none when the table is absent. Problems are recorded in `d`.
pub(crate) fn thresholds(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    reach: &Reach<'_, '_, '_>,
) -> Thresholds {
    let Some(t) = t else {
        return Thresholds::default();
    };
    let every_run = t.boolean(d, "every_run").unwrap_or(false);
    let mut rules = Vec::new();
    figures(d, t, TOP_KEYS, &Scope::All, every_run, &mut rules);
    if let Some(routes) = t.table(d, "route") {
        for (key, value) in routes.in_file_order() {
            let name: &str = key.get_ref();
            let path = routes.key_path(name);
            let Some(block) = Table::of(value, path.clone()) else {
                d.error(
                    value.span(),
                    &path,
                    format!(
                        "expected a table of thresholds for route `{name}`, found {}",
                        value.get_ref().type_str()
                    ),
                );
                continue;
            };
            check_route(d, key.span(), &path, name, reach);
            let every_run = block.boolean(d, "every_run").unwrap_or(every_run);
            let scope = Scope::Route(name.to_string());
            figures(d, &block, ROUTE_KEYS, &scope, every_run, &mut rules);
        }
    }
    if let Some(value) = t.get("when") {
        when(d, value, &t.key_path("when"), reach, every_run, &mut rules);
    }
    Thresholds {
        rules,
        abort_on_fail: t.boolean(d, "abort_on_fail").unwrap_or(false),
    }
}

/// `[[thresholds.when]]`: each table's `match` and figures.
fn when(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
    reach: &Reach<'_, '_, '_>,
    every_run: bool,
    rules: &mut Vec<Threshold>,
) {
    let DeValue::Array(items) = value.get_ref() else {
        d.error(
            value.span(),
            path,
            format!(
                "expected `[[thresholds.when]]` tables, each with `match` and thresholds, \
                 found {}",
                value.get_ref().type_str()
            ),
        );
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Some(block) = Table::of(item, path.clone()) else {
            d.error(
                item.span(),
                &path,
                format!("expected a table, found {}", item.get_ref().type_str()),
            );
            continue;
        };
        let every_run = block.boolean(d, "every_run").unwrap_or(every_run);
        let Some(selected) = selection(d, &block, reach) else {
            // Its figures are still checked, so that every problem shows at once.
            figures(
                d,
                &block,
                WHEN_KEYS,
                &Scope::All,
                every_run,
                &mut Vec::new(),
            );
            continue;
        };
        figures(
            d,
            &block,
            WHEN_KEYS,
            &Scope::When(selected),
            every_run,
            rules,
        );
    }
}

/// Every figure of `block` (the other keys are `known`), as thresholds of `scope`.
fn figures(
    d: &mut Diagnostics<'_>,
    block: &Table<'_, '_>,
    known: &[&str],
    scope: &Scope,
    every_run: bool,
    rules: &mut Vec<Threshold>,
) {
    for (key, value) in block.in_file_order() {
        let name: &str = key.get_ref();
        if known.contains(&name) {
            continue;
        }
        let path = block.key_path(name);
        let Some(figure) = Measure::parse(name) else {
            let elsewhere = [
                (TOP_KEYS, "[thresholds]"),
                (WHEN_KEYS, "[[thresholds.when]]"),
            ]
            .into_iter()
            .find(|(keys, _)| keys.contains(&name));
            let message = if Measure::is_bad_status(name) {
                format!("`{name}`: a status code is between 100 and 599")
            } else if let Some((_, table)) = elsewhere {
                format!(
                    "`{name}` is not a key of {}: it goes in {table}",
                    block.section()
                )
            } else {
                unknown(name, known, &block.section())
            };
            if let Some(hint) = closest(name, known) {
                d.suggested(block.key_path(hint));
            }
            d.error(key.span(), &path, message);
            continue;
        };
        match build_bounds::bound(value, &figure) {
            Ok(bound) => rules.push(Threshold {
                figure,
                bound,
                scope: scope.clone(),
                every_run,
            }),
            Err(e) => d.error(value.span(), &path, e),
        }
    }
}

/// The message for `name`, neither a figure nor one of `known` in `section`: the closest
/// names as a hint — all of them when several are as close (`latency_p98`: p95, p99 or p90?)
/// — or, with none close, every name.
fn unknown(name: &str, known: &[&str], section: &str) -> String {
    let mut all = known.to_vec();
    let figures = Measure::keys();
    all.extend(&figures);
    let score = |k: &str| strsim::jaro_winkler(name, k);
    let best = all.iter().map(|k| score(k)).fold(0.0, f64::max);
    let closest: Vec<String> = all
        .iter()
        .filter(|k| best > 0.8 && score(k) == best)
        .map(|k| format!("`{k}`"))
        .collect();
    match closest.as_slice() {
        [] => format!(
            "`{name}` is not a figure or a key of {section} (keys: {}; figures: {}, and \
             `errors_` with a status code, e.g. `errors_503`)",
            known.join(", "),
            figures.join(", ")
        ),
        [one] => format!("`{name}` is not a figure or a key of {section}; did you mean {one}?"),
        [first @ .., last] => format!(
            "`{name}` is not a figure or a key of {section}; did you mean {} or {last}?",
            first.join(", ")
        ),
    }
}

/// Check that `[thresholds.route.NAME]` names a route of `[routes]` that the run reaches.
fn check_route(
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
fn selection(
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
