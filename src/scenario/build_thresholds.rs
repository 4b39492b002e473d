//! `[thresholds]`: bounds on reported figures, read into `Thresholds`. The scenario-wide table
//! holds figures plus `every_run` and `abort_on_fail`; `[thresholds.route.NAME]` and
//! `[[thresholds.when]]` (with `match`) hold figures and `every_run` for the points they
//! select. Each bound is typed by its figure's unit (`"< 250ms"`, `"> 5000"`, `">= 99.5%"`,
//! `"== 0"`, `false`).
//!
//! Which points a route table or a `match` selects is checked in `build_scopes`.

use toml::de::DeValue;

use super::build_bounds;
use super::build_scopes::{Reach, check_route, selection};
use super::diagnostics::{Diagnostics, closest};
use super::read::{Table, Value};
use super::thresholds::{Scope, Threshold, Thresholds};
use crate::judge::Measure;

/// Keys of `[thresholds]` besides figures.
pub(crate) const TOP_KEYS: &[&str] = &["abort_on_fail", "every_run", "route", "when"];
/// Keys of `[thresholds.route.NAME]` besides figures.
pub(crate) const ROUTE_KEYS: &[&str] = &["every_run"];
/// Keys of `[[thresholds.when]]` besides figures.
pub(crate) const WHEN_KEYS: &[&str] = &["match", "every_run"];

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
