//! The open loop's settings — `[run.arrival]` and `[[run.stages]]` — and the checks that they
//! fit the matrix: arrival settings with no rate point, stages without the `"stages"` rate or
//! the other way round. The `rate` axis itself is read in `build_matrix`.

use std::num::NonZeroU32;

use toml::de::DeValue;

use super::diagnostics::{Diagnostics, suggestion};
use super::read::{self, Table, Value};
use super::{ArrivalProcess, ArrivalSettings, MAX_CONCURRENCY, MAX_RATE, Matrix, RateValue, Stage};

/// The keys of `[run.arrival]`.
pub(crate) const ARRIVAL_KEYS: &[&str] = &["process", "burstiness", "seed", "max_in_flight"];
/// The values of `run.arrival.process`.
pub(crate) const PROCESSES: &[&str] = &["constant", "poisson", "gamma"];
/// The keys of a `[[run.stages]]` table.
pub(crate) const STAGE_KEYS: &[&str] = &["duration", "rate"];

/// `[run.arrival]`; the defaults when absent. `None` when a problem was recorded.
pub(crate) fn arrival(
    d: &mut Diagnostics<'_>,
    run: Option<&Table<'_, '_>>,
) -> Option<ArrivalSettings> {
    let base = ArrivalSettings::default();
    let Some(t) = run.and_then(|r| r.table(d, "arrival")) else {
        let bad = run.is_some_and(|r| r.get("arrival").is_some());
        return (!bad).then_some(base);
    };
    t.check_keys(d, ARRIVAL_KEYS);
    let burstiness = t
        .get("burstiness")
        .and_then(|v| positive(d, v, &t.key_path("burstiness")));
    let process = match t.string(d, "process").as_deref() {
        None if t.get("process").is_some() => None,
        None => Some(base.process),
        Some("constant") => Some(ArrivalProcess::Constant),
        Some("poisson") => Some(ArrivalProcess::Poisson),
        Some("gamma") => Some(ArrivalProcess::Gamma {
            burstiness: burstiness.unwrap_or(1.0),
        }),
        Some(other) => {
            let at = t.get("process").map_or(t.span.clone(), |v| v.span());
            d.error(
                at,
                &t.key_path("process"),
                format!("unknown process `{other}`{}", suggestion(other, PROCESSES)),
            );
            None
        }
    };
    if let (Some(v), Some(p)) = (t.get("burstiness"), process) {
        if !matches!(p, ArrivalProcess::Gamma { .. }) {
            d.error(
                v.span(),
                &t.key_path("burstiness"),
                format!(
                    "`burstiness` shapes gamma arrivals only, and the process is `{}`; set \
                     `process = \"gamma\"` or remove it",
                    p.name()
                ),
            );
        }
    }
    let seed = match t.get("seed") {
        Some(_) => t.integer::<u64>(d, "seed"),
        None => Some(base.seed),
    };
    let max_in_flight = match t.get("max_in_flight") {
        Some(v) => t.count::<NonZeroU32>(d, "max_in_flight").filter(|n| {
            let fits = n.get() <= MAX_CONCURRENCY;
            if !fits {
                d.error(
                    v.span(),
                    &t.key_path("max_in_flight"),
                    format!("`{n}` is more than the limit of {MAX_CONCURRENCY} requests in flight"),
                );
            }
            fits
        }),
        None => Some(base.max_in_flight),
    };
    Some(ArrivalSettings {
        process: process?,
        seed: seed?,
        max_in_flight: max_in_flight?,
    })
}

/// `[[run.stages]]`: empty when absent. `None` when a problem was recorded.
pub(crate) fn stages(d: &mut Diagnostics<'_>, run: Option<&Table<'_, '_>>) -> Option<Vec<Stage>> {
    let Some((run, value)) = run.and_then(|r| Some((r, r.get("stages")?))) else {
        return Some(Vec::new());
    };
    let path = run.key_path("stages");
    let DeValue::Array(items) = value.get_ref() else {
        d.error(
            value.span(),
            &path,
            format!(
                "expected stages as `[[run.stages]]` tables with `duration` and `rate`, found {}",
                value.get_ref().type_str()
            ),
        );
        return None;
    };
    if items.is_empty() {
        d.error(value.span(), &path, "needs at least one stage");
        return None;
    }
    let mut out = Some(Vec::new());
    for (i, item) in items.iter().enumerate() {
        let stage = stage(d, item, format!("{path}[{i}]"));
        match (out.as_mut(), stage) {
            (Some(list), Some(stage)) => list.push(stage),
            _ => out = None,
        }
    }
    let list = out?;
    let timeless = list.iter().all(|s| s.duration.is_zero());
    if timeless {
        d.error(
            value.span(),
            &path,
            "the stages last no time; give one a `duration`",
        );
    }
    let idle = list.iter().all(|s| s.rate == 0.0);
    if idle {
        d.error(
            value.span(),
            &path,
            "every stage has rate 0, so no request would be sent",
        );
    }
    (!timeless && !idle).then_some(list)
}

fn stage(d: &mut Diagnostics<'_>, item: &Value<'_>, path: String) -> Option<Stage> {
    let Some(t) = Table::of(item, path.clone()) else {
        d.error(
            item.span(),
            &path,
            format!(
                "expected a stage, a table with `duration` and `rate`, found {}",
                item.get_ref().type_str()
            ),
        );
        return None;
    };
    t.check_keys(d, STAGE_KEYS);
    for (key, example) in [("duration", "duration = \"30s\""), ("rate", "rate = 50")] {
        if t.get(key).is_none() {
            t.missing(d, key, &format!("missing; write e.g. `{example}`"));
        }
    }
    let duration = t.duration(d, "duration", true);
    let rate = t.get("rate").and_then(|v| {
        let path = t.key_path("rate");
        let rate = number(d, v, &path)?;
        if rate < 0.0 {
            d.error(
                v.span(),
                &path,
                format!("must not be negative, found `{}`", read::shown(v)),
            );
            return None;
        }
        within_limit(d, v, &path, rate)
    });
    Some(Stage {
        duration: duration?,
        rate: rate?,
    })
}

/// A number (integer or float) at `path`, finite.
pub(crate) fn number(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<f64> {
    match value.get_ref() {
        DeValue::Integer(i) => match read::integer_value(i) {
            Some(n) => Some(n as f64),
            None => {
                d.error(
                    value.span(),
                    path,
                    format!("`{}` is out of range", i.as_str()),
                );
                None
            }
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                d.error(value.span(), path, format!("`{f}` is not a finite number"));
                None
            }
        },
        other => {
            d.error(
                value.span(),
                path,
                format!("expected a number, found {}", other.type_str()),
            );
            None
        }
    }
}

/// A number above 0 at `path`.
fn positive(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<f64> {
    let x = number(d, value, path)?;
    if x <= 0.0 {
        d.error(
            value.span(),
            path,
            format!("must be more than 0, found `{}`", read::shown(value)),
        );
        return None;
    }
    Some(x)
}

/// A rate (requests per second) above 0 at `path`, at most `MAX_RATE`.
pub(crate) fn rate(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<f64> {
    let x = positive(d, value, path)?;
    within_limit(d, value, path, x)
}

fn within_limit(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str, rate: f64) -> Option<f64> {
    if rate > MAX_RATE {
        d.error(
            value.span(),
            path,
            format!(
                "`{}` requests per second is more than the limit of 1,000,000",
                read::shown(value)
            ),
        );
        return None;
    }
    Some(rate)
}

/// Check that the open loop's settings fit the matrix: `[run.arrival]` needs a rate point,
/// `[[run.stages]]` the `"stages"` rate, and that rate the stages.
pub(crate) fn check_fit(
    d: &mut Diagnostics<'_>,
    run: Option<&Table<'_, '_>>,
    matrix_table: Option<&Table<'_, '_>>,
    matrix: &Matrix,
) {
    let written = |key: &str| run.and_then(|r| Some((r.key_path(key), r.get(key)?.span())));
    if let (Some((path, span)), true) = (written("arrival"), matrix.rate.is_empty()) {
        d.error(
            span,
            &path,
            "`[run.arrival]` shapes open-loop points, but [matrix] lists no `rate`; add \
             `rate = [...]` to [matrix] or remove it",
        );
    }
    let uses_stages = matrix.rate.contains(&RateValue::Stages);
    if let (Some((path, span)), false) = (written("stages"), uses_stages) {
        d.error(
            span,
            &path,
            "the stages are the ramp of the `\"stages\"` rate, which [matrix] does not list; \
             write `rate = [\"stages\"]` in [matrix] or remove them",
        );
    }
    let stages_written = run.is_some_and(|r| r.get("stages").is_some());
    let Some(m) = matrix_table.filter(|_| uses_stages && !stages_written) else {
        return;
    };
    if let Some(DeValue::Array(items)) = m.get("rate").map(|v| v.get_ref()) {
        if let Some(item) = items
            .iter()
            .find(|i| i.get_ref().as_str() == Some("stages"))
        {
            d.error(
                item.span(),
                &m.key_path("rate"),
                "`\"stages\"` needs `[[run.stages]]` tables, each with `duration` and `rate`",
            );
        }
    }
}
