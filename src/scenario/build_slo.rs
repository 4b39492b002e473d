//! `[slo]` and `[search]`, and the checks that they fit the matrix: a `"search"` rate needs
//! both tables, and `[search]` needs the `"search"` rate. The `rate` axis itself is read in
//! `build_matrix`.

use std::time::Duration;

use toml::de::DeValue;

use super::build_load::{self, number};
use super::diagnostics::Diagnostics;
use super::load::format_rate;
use super::read::{self, Table, Value};
use super::slo::{Objective, RateSearch, Resolution, Slo, TIME_OBJECTIVES};
use super::{Matrix, RateValue};

/// The keys of `[slo]`.
pub(crate) const SLO_KEYS: &[&str] = &["latency", "ttft", "tpot", "itl", "success_rate"];
/// The keys of a time objective of `[slo]`.
pub(crate) const OBJECTIVE_KEYS: &[&str] = &["p", "max"];
/// The keys of `[search]`.
pub(crate) const SEARCH_KEYS: &[&str] = &["min", "max", "resolution", "probe"];

/// The resolution when `[search]` sets none: 5% of the answer.
const DEFAULT_RESOLUTION: Resolution = Resolution::Relative(5.0);

/// `[slo]`: `Some(None)` when absent, `None` when a problem was recorded.
pub(crate) fn slo(d: &mut Diagnostics<'_>, root: &Table<'_, '_>) -> Option<Option<Slo>> {
    let Some(t) = root.table(d, "slo") else {
        return root.get("slo").is_none().then_some(None);
    };
    for (key, _) in t.entries.iter() {
        let name: &str = key.get_ref();
        if SLO_KEYS.contains(&name) {
            continue;
        }
        // `ttft_p99 = "500ms"`, as other tools write it.
        let written_as = TIME_OBJECTIVES.iter().find(|o| {
            name.strip_prefix(**o)
                .is_some_and(|rest| rest.starts_with("_p"))
        });
        match written_as {
            Some(objective) => d.error(
                key.span(),
                &t.key_path(name),
                format!(
                    "`{name}` is not a key of [slo]; write the percentile inside the \
                     objective: `{objective} = {{ p = 99, max = \"500ms\" }}`"
                ),
            ),
            None => t.unknown_key(d, key, "a key", SLO_KEYS),
        }
    }
    if t.entries.is_empty() {
        d.error(
            t.span.clone(),
            &t.path,
            "no objective; add e.g. `latency = { p = 99, max = \"500ms\" }` or \
             `success_rate = 99.5`",
        );
        return None;
    }
    let mut clean = true;
    let mut time = |key: &str| match t.get(key) {
        None => None,
        Some(v) => {
            let o = objective(d, v, t.key_path(key));
            clean &= o.is_some();
            o
        }
    };
    let (latency, ttft, tpot, itl) = (time("latency"), time("ttft"), time("tpot"), time("itl"));
    let success_rate = match t.get("success_rate") {
        None => None,
        Some(v) => {
            let rate = percent(d, v, &t.key_path("success_rate"));
            clean &= rate.is_some();
            rate
        }
    };
    clean.then_some(Some(Slo {
        latency,
        ttft,
        tpot,
        itl,
        success_rate,
    }))
}

/// One time objective, `{ p = 99, max = "500ms" }`, at `path`.
fn objective(d: &mut Diagnostics<'_>, value: &Value<'_>, path: String) -> Option<Objective> {
    let Some(t) = Table::of(value, path.clone()) else {
        d.error(
            value.span(),
            &path,
            format!(
                "expected a percentile and a bound such as `{{ p = 99, max = \"500ms\" }}`, \
                 found {}",
                value.get_ref().type_str()
            ),
        );
        return None;
    };
    t.check_keys(d, OBJECTIVE_KEYS);
    for (key, example) in [("p", "p = 99"), ("max", "max = \"500ms\"")] {
        if t.get(key).is_none() {
            t.missing(d, key, &format!("missing; write e.g. `{example}`"));
        }
    }
    let p = t.get("p").and_then(|v| percent(d, v, &t.key_path("p")));
    let max = t.duration(d, "max", false);
    Some(Objective { p: p?, max: max? })
}

/// A percentage above 0 and at most 100 at `path`.
fn percent(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<f64> {
    let x = number(d, value, path)?;
    if x <= 0.0 || x > 100.0 {
        d.error(
            value.span(),
            path,
            format!(
                "must be a percentage above 0 and at most 100, found `{}`",
                read::shown(value)
            ),
        );
        return None;
    }
    Some(x)
}

/// `[search]`: `Some(None)` when absent, `None` when a problem was recorded. A probe lasts
/// `measure` (`run.duration`, itself `None` when `[run]` had problems) unless `probe` says
/// otherwise.
pub(crate) fn search(
    d: &mut Diagnostics<'_>,
    root: &Table<'_, '_>,
    measure: Option<Option<Duration>>,
) -> Option<Option<RateSearch>> {
    let Some(t) = root.table(d, "search") else {
        return root.get("search").is_none().then_some(None);
    };
    t.check_keys(d, SEARCH_KEYS);
    for (key, example) in [("min", "min = 10"), ("max", "max = 1000")] {
        if t.get(key).is_none() {
            t.missing(d, key, &format!("missing; write e.g. `{example}` (req/s)"));
        }
    }
    let min = t
        .get("min")
        .and_then(|v| build_load::rate(d, v, &t.key_path("min")));
    let max = t
        .get("max")
        .and_then(|v| build_load::rate(d, v, &t.key_path("max")));
    let max = match (min, max, t.get("max")) {
        (Some(low), Some(high), Some(v)) if high <= low => {
            d.error(
                v.span(),
                &t.key_path("max"),
                format!(
                    "must be more than `min` ({}), found `{}`",
                    format_rate(low),
                    read::shown(v)
                ),
            );
            None
        }
        _ => max,
    };
    let resolution = match t.get("resolution") {
        None => Some(DEFAULT_RESOLUTION),
        Some(v) => resolution(d, v, &t.key_path("resolution")),
    };
    let probe = match (t.get("probe"), measure) {
        (Some(_), _) => t.duration(d, "probe", false),
        (None, Some(Some(measure))) => Some(measure),
        // `[run]`'s own problems are reported already.
        (None, None) => None,
        (None, Some(None)) => {
            t.missing(
                d,
                "probe",
                "missing; the measure phase ends by `run.requests` only, so say how long each \
                 probe measures, e.g. `probe = \"10s\"`",
            );
            None
        }
    };
    Some(Some(RateSearch {
        min: min?,
        max: max?,
        resolution: resolution?,
        probe: probe?,
    }))
}

/// `resolution`: requests per second (`10`) or a percent of the answer (`"5%"`).
fn resolution(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<Resolution> {
    let DeValue::String(text) = value.get_ref() else {
        return build_load::rate(d, value, path).map(Resolution::Absolute);
    };
    let parsed = text
        .trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok());
    match parsed {
        Some(p) if p > 0.0 && p < 100.0 => Some(Resolution::Relative(p)),
        _ => {
            d.error(
                value.span(),
                path,
                format!(
                    "`{text}` is not a resolution; write requests per second (`10`) or a \
                     percent of the answer above 0 and below 100 (`\"5%\"`)"
                ),
            );
            None
        }
    }
}

/// Check that `[search]` and the `"search"` rate come together, and that a search has SLOs to
/// meet.
pub(crate) fn check_fit(
    d: &mut Diagnostics<'_>,
    root: &Table<'_, '_>,
    matrix_table: Option<&Table<'_, '_>>,
    matrix: &Matrix,
) {
    let searches = matrix.rate.contains(&RateValue::Search);
    if let (Some(v), false) = (root.get("search"), searches) {
        d.error(
            v.span(),
            "search",
            "`[search]` bounds the `\"search\"` rate, which [matrix] does not list; add \
             `\"search\"` to `rate` in [matrix] or remove it",
        );
    }
    let Some(item) =
        matrix_table
            .and_then(|m| m.get("rate"))
            .and_then(|rate| match rate.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .find(|i| i.get_ref().as_str() == Some("search")),
                _ => None,
            })
    else {
        return;
    };
    if root.get("search").is_none() {
        d.error(
            item.span(),
            "matrix.rate",
            "`\"search\"` needs a `[search]` table with the rates to search between, e.g. \
             `min = 10` and `max = 1000`",
        );
    }
    if root.get("slo").is_none() {
        d.error(
            item.span(),
            "matrix.rate",
            "`\"search\"` looks for the highest rate that meets the SLOs, and there is no \
             `[slo]`; add one, e.g. `latency = { p = 99, max = \"500ms\" }`",
        );
    }
}
