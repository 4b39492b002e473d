//! `[matrix]`: the axes whose cartesian product gives the points. Route and payload names are
//! resolved to indices here, every axis is checked for repeated values (they would give two
//! points the same id), and the product is bounded. User axes live in `[matrix.axes]`
//! (`build_axes`), so a misspelt key of `[matrix]` is an error, never a new axis.

use std::num::NonZeroU32;

use toml::de::DeValue;

use super::build_axes::{self, Values, items};
use super::diagnostics::{Diagnostics, closest, is_override, suggestion};
use super::read::{self, Table};
use super::{MAX_CONCURRENCY, MAX_POINTS, Matrix, Payload, RateValue, Route};
use super::{build_clients, build_load};
use crate::external::ClientSpec;

/// The keys of `[matrix]`: the built-in axes, in the order they expand, then `axes`, the
/// table of user axes.
pub(crate) const MATRIX_KEYS: &[&str] =
    &["route", "payload", "concurrency", "rate", "client", "axes"];

/// Every name written under `[routes]` and `[payloads]`, valid or not, and every route path:
/// a matrix naming an invalid one is not reported again.
pub(crate) struct Declared {
    /// Route names.
    pub(crate) routes: Vec<String>,
    /// Route paths as written (`routes.NAME.path`).
    pub(crate) paths: Vec<String>,
    /// Payload names.
    pub(crate) payloads: Vec<String>,
    /// Client names (`[clients]`).
    pub(crate) clients: Vec<String>,
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
        let paths = routes
            .map(|t| {
                t.entries
                    .values()
                    .filter_map(|route| route.get_ref().as_table()?.get("path"))
                    .filter_map(|path| path.get_ref().as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            routes: names(routes),
            paths,
            payloads: names(payloads),
            clients: Vec::new(),
        }
    }

    /// These names and those in the `[clients]` table, if present.
    pub(crate) fn with_clients(self, clients: Option<&Table<'_, '_>>) -> Self {
        Self {
            clients: build_clients::declared(clients),
            ..self
        }
    }
}

/// `[matrix]`: `route`, `payload`, `concurrency`, `rate`, the user axes of `[matrix.axes]`,
/// then `client` (of `clients`).
pub(crate) fn matrix(
    d: &mut Diagnostics<'_>,
    m: &Table<'_, '_>,
    routes: &[Route],
    payloads: &[Payload],
    clients: &[ClientSpec],
    declared: &Declared,
) -> Option<Matrix> {
    // Keys first, so that a misspelt `concurency` silences "`concurrency` is missing".
    check_keys(d, m);
    let route = route_axis(d, m, routes, declared);
    let payload = payload_axis(d, m, payloads, declared);
    let concurrency = concurrency_axis(d, m);
    let rate = rate_axis(d, m);
    if m.get("concurrency").is_none() && m.get("rate").is_none() {
        m.missing(
            d,
            "concurrency",
            "missing; list concurrency levels (`concurrency = [1, 8, 32]`) or request rates \
             (`rate = [10, 50]`), or both",
        );
    }
    let extra = build_axes::user_axes(d, m);
    let client = build_clients::client_axis(d, m, clients, &declared.clients);
    let (route, payload, concurrency, rate, extra, client) =
        (route?, payload?, concurrency?, rate?, extra?, client?);
    let loads = concurrency.len() + rate.len();
    let points = [
        route.len(),
        payload.len().max(1),
        loads,
        client.len().max(1),
    ]
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
        rate,
        extra,
        client,
        spot: d.spot(&m.span),
    })
}

/// Report every key of `[matrix]` that is not one: a list under a name close to none of them
/// is taken for a user axis written where they used to go.
fn check_keys(d: &mut Diagnostics<'_>, m: &Table<'_, '_>) {
    for (key, value) in m.entries.iter() {
        let name: &str = key.get_ref();
        if MATRIX_KEYS.contains(&name) {
            continue;
        }
        let is_list = matches!(value.get_ref(), DeValue::Array(_));
        if !is_list || closest(name, MATRIX_KEYS).is_some() {
            m.unknown_key(d, key, "a key", MATRIX_KEYS);
            continue;
        }
        let fix = if is_override(&key.span()) {
            format!("set `matrix.axes.{name}`")
        } else {
            "move it below a `[matrix.axes]` header".to_string()
        };
        d.error(
            key.span(),
            &m.key_path(name),
            format!("`{name}` is not a key of [matrix]; user axes go under [matrix.axes]: {fix}"),
        );
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
                // A route declared but invalid is reported already, by name or by path.
                if !declared.routes.contains(&name) && !declared.paths.contains(&name) {
                    let hint = if route_names.is_empty() {
                        "; define it under [routes]".to_string()
                    } else {
                        suggestion(&name, &route_names)
                    };
                    d.error(
                        item.span(),
                        &path,
                        format!("no route `{name}` in [routes]{hint}"),
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
        return Some(Vec::new());
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

/// The rates of the `rate` axis that are words.
pub(crate) const NAMED_RATES: &[&str] = &["stages", "search"];

/// `rate`: requests per second of open-loop points (numbers above 0, fractions allowed),
/// `"search"` (the highest rate that meets `[slo]`, among them or alone), or `"stages"` alone,
/// for the ramps of `[[run.stages]]`.
fn rate_axis(d: &mut Diagnostics<'_>, m: &Table<'_, '_>) -> Option<Vec<RateValue>> {
    let path = m.key_path("rate");
    let Some(items) = items(d, m, "rate") else {
        return Some(Vec::new());
    };
    let count = items.len();
    let mut out = Values::new(count);
    for item in items {
        let value = match item.get_ref() {
            DeValue::String(s) if s == "stages" => {
                if count > 1 {
                    d.error(
                        item.span(),
                        &path,
                        "`\"stages\"` runs the ramps of `[[run.stages]]` and cannot be listed \
                         beside other rates; list it alone, or write the fixed rates as stages",
                    );
                    out.fail();
                    continue;
                }
                RateValue::Stages
            }
            DeValue::String(s) if s == "search" => RateValue::Search,
            DeValue::String(s) => {
                let hint = match closest(s, NAMED_RATES) {
                    Some(_) => suggestion(s, NAMED_RATES),
                    None => "; write requests per second, e.g. `10` or `0.5`, or `\"stages\"` \
                             or `\"search\"`"
                        .into(),
                };
                d.error(item.span(), &path, format!("`{s}` is not a rate{hint}"));
                out.fail();
                continue;
            }
            _ => match build_load::rate(d, item, &path) {
                Some(rate) => RateValue::Fixed(rate),
                None => {
                    out.fail();
                    continue;
                }
            },
        };
        out.push(d, (item, &path), value, PartialEq::eq, |_| {
            format!("`{}` is listed twice", read::shown(item))
        });
    }
    out.finish()
}
