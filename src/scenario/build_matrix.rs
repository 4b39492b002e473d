//! `[matrix]`: the axes whose cartesian product gives the points. Route and payload names are
//! resolved to indices here, every axis is checked for repeated values (they would give two
//! points the same id), and the product is bounded.

use std::num::NonZeroU32;

use toml::de::DeValue;

use super::diagnostics::{Diagnostics, suggestion};
use super::read::{self, Table, Value};
use super::{Axis, AxisValue, MAX_CONCURRENCY, MAX_POINTS, Matrix, Payload, Route, names};

/// The built-in axes, in the order they expand.
const BUILTIN_AXES: &[&str] = &["route", "payload", "concurrency"];

/// Every name written under `[routes]` and `[payloads]`, valid or not: a matrix naming an
/// invalid one is not reported again.
pub(crate) struct Declared {
    /// Route names.
    pub(crate) routes: Vec<String>,
    /// Payload names.
    pub(crate) payloads: Vec<String>,
}

impl Declared {
    /// The names in the `[routes]` and `[payloads]` tables, if present.
    pub(crate) fn from(routes: Option<&Table<'_, '_>>, payloads: Option<&Table<'_, '_>>) -> Self {
        let names = |t: Option<&Table<'_, '_>>| {
            t.map(|t| {
                t.entries
                    .iter()
                    .map(|(k, _)| k.get_ref().to_string())
                    .collect()
            })
            .unwrap_or_default()
        };
        Self {
            routes: names(routes),
            payloads: names(payloads),
        }
    }
}

/// The names of the user axes written in `[matrix]` (valid or not), for checking templates
/// even when the matrix has problems.
pub(crate) fn axis_names(m: Option<&Table<'_, '_>>) -> Vec<String> {
    m.map(|m| {
        m.entries
            .iter()
            .map(|(k, _)| k.get_ref().to_string())
            .filter(|k| !BUILTIN_AXES.contains(&k.as_str()))
            .collect()
    })
    .unwrap_or_default()
}

/// `[matrix]`: `route`, `payload`, `concurrency`, then user axes in file order.
pub(crate) fn matrix(
    d: &mut Diagnostics<'_>,
    m: &Table<'_, '_>,
    routes: &[Route],
    payloads: &[Payload],
    declared: &Declared,
) -> Option<Matrix> {
    // Names first, so that a misspelt `concurency` silences "`concurrency` is missing".
    let user_axes = user_axis_keys(d, m);
    let route = route_axis(d, m, routes, declared);
    let payload = payload_axis(d, m, payloads, declared);
    let concurrency = concurrency_axis(d, m);
    let mut extra = Some(Vec::new());
    for (name, value) in user_axes {
        let axis = user_axis(d, &m.key_path(name), value);
        match (extra.as_mut(), axis) {
            (Some(list), Some(values)) => list.push(Axis {
                name: name.to_string(),
                values,
            }),
            _ => extra = None,
        }
    }
    let (route, payload, concurrency, extra) = (route?, payload?, concurrency?, extra?);
    let points = [route.len(), payload.len().max(1), concurrency.len()]
        .into_iter()
        .chain(extra.iter().map(|a| a.values.len()))
        .try_fold(1u64, |total, n| total.checked_mul(n as u64))
        .filter(|total| *total <= MAX_POINTS);
    if points.is_none() {
        d.error(
            m.span.clone(),
            &m.path,
            format!("the axes give more than {MAX_POINTS} points; split the scenario"),
        );
        return None;
    }
    Some(Matrix {
        route,
        payload,
        concurrency,
        extra,
        spot: d.spot(&m.span),
    })
}

/// The user axes with valid names, in file order; a name close to a built-in axis is taken
/// for a typo of it.
fn user_axis_keys<'t, 'i>(
    d: &mut Diagnostics<'_>,
    m: &Table<'t, 'i>,
) -> Vec<(&'t str, &'t Value<'i>)> {
    let mut axes = Vec::new();
    for (key, value) in m.in_file_order() {
        let name: &str = key.get_ref();
        if BUILTIN_AXES.contains(&name) {
            continue;
        }
        if BUILTIN_AXES
            .iter()
            .any(|k| strsim::jaro_winkler(name, k) > 0.85)
        {
            m.unknown_key(d, key, "an axis", BUILTIN_AXES);
            continue;
        }
        match names::check_axis_name(name) {
            Ok(()) => axes.push((name, value)),
            Err(e) => d.error(key.span(), &m.key_path(name), e),
        }
    }
    axes
}

/// The values of the axis at `key`; a problem when it is empty. `None` when absent.
fn items<'t, 'i>(
    d: &mut Diagnostics<'_>,
    m: &Table<'t, 'i>,
    key: &str,
) -> Option<Vec<&'t Value<'i>>> {
    let v = m.get(key)?;
    let items = read::list(v);
    if items.is_empty() {
        d.error(
            v.span(),
            &m.key_path(key),
            "an axis needs at least one value",
        );
    }
    Some(items)
}

/// The values of one axis as they are read: a bad or repeated value is recorded as a
/// problem and marks the axis invalid, but reading goes on so that every problem is found.
struct Values<T> {
    list: Vec<T>,
    ok: bool,
}

impl<T> Values<T> {
    /// Values for an axis with `count` items (none is already a problem).
    fn new(count: usize) -> Self {
        Self {
            list: Vec::new(),
            ok: count > 0,
        }
    }

    /// A value of the axis had a problem.
    fn fail(&mut self) {
        self.ok = false;
    }

    /// Add `value`, read from `item`, unless an earlier value is the `same`: then `repeated`
    /// (given the earlier value) says what is wrong.
    fn push(
        &mut self,
        d: &mut Diagnostics<'_>,
        (item, path): (&Value<'_>, &str),
        value: T,
        same: impl Fn(&T, &T) -> bool,
        repeated: impl FnOnce(&T) -> String,
    ) {
        match self.list.iter().find(|earlier| same(earlier, &value)) {
            Some(earlier) => {
                d.error(item.span(), path, repeated(earlier));
                self.ok = false;
            }
            None => self.list.push(value),
        }
    }

    /// The values, if every one was good.
    fn finish(self) -> Option<Vec<T>> {
        self.ok.then_some(self.list)
    }
}

fn route_axis(
    d: &mut Diagnostics<'_>,
    m: &Table<'_, '_>,
    routes: &[Route],
    declared: &Declared,
) -> Option<Vec<usize>> {
    let path = m.key_path("route");
    let Some(items) = items(d, m, "route") else {
        m.missing(
            d,
            "route",
            "missing; list the routes to run, e.g. `route = [\"chat\"]`",
        );
        return None;
    };
    let route_names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
    let mut out = Values::new(items.len());
    for item in items {
        let Some(name) = read::string(d, item, &path) else {
            out.fail();
            continue;
        };
        // A route may be named by its path too, as the framework's `ROUTE` variable does.
        let by_path: Vec<usize> = (0..routes.len())
            .filter(|&i| routes[i].path == name)
            .collect();
        let index = match (
            route_names.iter().position(|n| *n == name),
            by_path.as_slice(),
        ) {
            (Some(i), _) | (None, &[i]) => i,
            (None, []) => {
                // A route declared but invalid is reported already.
                if !declared.routes.contains(&name) {
                    d.error(
                        item.span(),
                        &path,
                        format!(
                            "no route `{name}` in [routes]{}",
                            suggestion(&name, &route_names)
                        ),
                    );
                }
                out.fail();
                continue;
            }
            (None, several) => {
                let listed: Vec<String> = several
                    .iter()
                    .map(|&i| format!("`{}`", routes[i].name))
                    .collect();
                d.error(
                    item.span(),
                    &path,
                    format!(
                        "`{name}` is the path of routes {}; name the route instead",
                        listed.join(" and ")
                    ),
                );
                out.fail();
                continue;
            }
        };
        let route = &routes[index].name;
        out.push(d, (item, &path), index, PartialEq::eq, |_| {
            if *route == name {
                format!("`{name}` is listed twice")
            } else {
                format!("`{name}` is the path of route `{route}`, which is already listed")
            }
        });
    }
    out.finish()
}

fn payload_axis(
    d: &mut Diagnostics<'_>,
    m: &Table<'_, '_>,
    payloads: &[Payload],
    declared: &Declared,
) -> Option<Vec<usize>> {
    let path = m.key_path("payload");
    let Some(items) = items(d, m, "payload") else {
        return Some(Vec::new());
    };
    let payload_names: Vec<&str> = payloads.iter().map(|p| p.name.as_str()).collect();
    let mut out = Values::new(items.len());
    for item in items {
        let Some(name) = read::string(d, item, &path) else {
            out.fail();
            continue;
        };
        match payload_names.iter().position(|n| *n == name) {
            Some(index) => out.push(d, (item, &path), index, PartialEq::eq, |_| {
                format!("`{name}` is listed twice")
            }),
            None => {
                // A payload declared but invalid is reported already.
                if !declared.payloads.contains(&name) {
                    let hint = if payload_names.is_empty() {
                        "; define it under [payloads]".to_string()
                    } else {
                        suggestion(&name, &payload_names)
                    };
                    d.error(
                        item.span(),
                        &path,
                        format!("no payload `{name}` in [payloads]{hint}"),
                    );
                }
                out.fail();
            }
        }
    }
    out.finish()
}

fn concurrency_axis(d: &mut Diagnostics<'_>, m: &Table<'_, '_>) -> Option<Vec<NonZeroU32>> {
    let path = m.key_path("concurrency");
    let Some(items) = items(d, m, "concurrency") else {
        m.missing(
            d,
            "concurrency",
            "missing; list concurrency levels, e.g. `concurrency = [1, 8, 32]`",
        );
        return None;
    };
    let mut out = Values::new(items.len());
    for item in items {
        match read::count::<NonZeroU32>(d, item, &path) {
            Some(c) if c.get() > MAX_CONCURRENCY => {
                d.error(
                    item.span(),
                    &path,
                    format!("`{c}` workers is more than the limit of {MAX_CONCURRENCY}"),
                );
                out.fail();
            }
            Some(c) => out.push(d, (item, &path), c, PartialEq::eq, |_| {
                format!("`{c}` is listed twice")
            }),
            None => out.fail(),
        }
    }
    out.finish()
}

/// The typed values of one user axis, distinct by their text (which joins the point id).
fn user_axis(d: &mut Diagnostics<'_>, path: &str, value: &Value<'_>) -> Option<Vec<AxisValue>> {
    let items = read::list(value);
    if items.is_empty() {
        d.error(value.span(), path, "an axis needs at least one value");
    }
    let mut out = Values::new(items.len());
    for item in items {
        let Some(v) = axis_value(d, path, item) else {
            out.fail();
            continue;
        };
        let text = v.to_string();
        let same_text = |a: &AxisValue, b: &AxisValue| a.to_string() == b.to_string();
        out.push(d, (item, path), v.clone(), same_text, |earlier| {
            if *earlier == v {
                format!("`{text}` is listed twice")
            } else {
                format!(
                    "`{}` and `{}` are the same value `{text}` in point ids and reports",
                    written(earlier),
                    written(&v)
                )
            }
        });
    }
    out.finish()
}

fn axis_value(d: &mut Diagnostics<'_>, path: &str, item: &Value<'_>) -> Option<AxisValue> {
    let value = match item.get_ref() {
        DeValue::String(s) => AxisValue::Text(s.to_string()),
        DeValue::Integer(i) => match read::integer_value(i) {
            Some(n) => AxisValue::Integer(n),
            None => {
                d.error(item.span(), path, format!("`{i}` is out of range"));
                return None;
            }
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) if x.is_finite() => AxisValue::Float(x),
            _ => {
                d.error(item.span(), path, format!("`{f}` is not a finite number"));
                return None;
            }
        },
        DeValue::Boolean(b) => AxisValue::Bool(*b),
        other => {
            d.error(
                item.span(),
                path,
                format!(
                    "axis values must be strings, numbers or booleans, found {}",
                    other.type_str()
                ),
            );
            return None;
        }
    };
    Some(value)
}

/// An axis value as TOML would write it, for messages.
fn written(v: &AxisValue) -> String {
    match v {
        AxisValue::Text(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}
