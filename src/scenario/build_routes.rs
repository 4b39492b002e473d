//! `[payloads]`, `[routes]` and `[matrix]`: named bodies, named endpoints, and the axes whose
//! product gives the points. Cross-references (a matrix naming a missing route) are checked here.

use std::collections::BTreeMap;
use std::path::Path;

use toml::de::DeValue;

use super::build::{EnvLookup, headers};
use super::diagnostics::{Diagnostics, suggestion};
use super::read::{self, Table};
use super::{BodyCheck, BodySpec, Expect, Matrix, Payload, PayloadSource, Route};

/// Every name declared under `[routes]` and `[payloads]`, valid or not.
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

const PAYLOAD_KEYS: &[&str] = &["fill", "bytes", "text", "file", "template"];

/// Every `[payloads.NAME]`; bad ones are reported and left out.
pub(crate) fn payloads(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    base_dir: &Path,
) -> BTreeMap<String, Payload> {
    let mut out = BTreeMap::new();
    let Some(t) = t else { return out };
    for (name, value) in t.entries.iter() {
        let path = t.key_path(name.get_ref());
        let source = match value.get_ref() {
            DeValue::String(text) => Some(PayloadSource::Text(text.to_string())),
            DeValue::Table(entries) => {
                let p = Table {
                    entries,
                    path: path.clone(),
                };
                p.check_keys(d, PAYLOAD_KEYS);
                let kinds: Vec<&str> = ["fill", "text", "file", "template"]
                    .into_iter()
                    .filter(|k| p.get(k).is_some())
                    .collect();
                match kinds.as_slice() {
                    ["fill"] => match (p.string(d, "fill"), p.size(d, "bytes")) {
                        (Some(fill), Some(bytes)) if !fill.is_empty() => {
                            Some(PayloadSource::Fill { fill, bytes })
                        }
                        (Some(_), Some(_)) => {
                            d.error(value.span(), &path, "`fill` must not be empty");
                            None
                        }
                        (Some(_), None) if p.get("bytes").is_none() => {
                            d.error(value.span(), &path, "`fill` needs `bytes`, the size to repeat it to (e.g. `bytes = \"32KiB\"`)");
                            None
                        }
                        _ => None,
                    },
                    ["text"] => p.string(d, "text").map(PayloadSource::Text),
                    ["template"] => p.string(d, "template").and_then(|src| {
                        check_template(d, value.span(), &path, &src)
                            .then_some(PayloadSource::Template(src))
                    }),
                    ["file"] => p.string(d, "file").and_then(|file| {
                        let full = base_dir.join(&file);
                        match std::fs::read_to_string(&full) {
                            Ok(contents) => Some(PayloadSource::File {
                                path: full,
                                contents,
                            }),
                            Err(e) => {
                                let at = p.get("file").map_or(value.span(), |v| v.span());
                                d.error(
                                    at,
                                    &format!("{path}.file"),
                                    format!("cannot read `{}`: {e}", full.display()),
                                );
                                None
                            }
                        }
                    }),
                    [] => {
                        d.error(value.span(), &path, "a payload needs one of `fill` (with `bytes`), `text`, `file` or `template`");
                        None
                    }
                    _ => {
                        d.error(
                            value.span(),
                            &path,
                            format!("a payload takes only one of {}", kinds.join(", ")),
                        );
                        None
                    }
                }
            }
            other => {
                d.error(
                    value.span(),
                    &path,
                    format!("expected a table or a string, found {}", other.type_str()),
                );
                None
            }
        };
        if let Some(source) = source {
            out.insert(name.get_ref().to_string(), Payload { source });
        }
    }
    out
}

const ROUTE_KEYS: &[&str] = &[
    "method",
    "path",
    "headers",
    "body",
    "max_tokens",
    "stream",
    "expect",
];
const EXPECT_KEYS: &[&str] = &["status", "body"];

/// Every `[routes.NAME]`; bad ones are reported and left out.
pub(crate) fn routes(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    env: EnvLookup<'_>,
) -> BTreeMap<String, Route> {
    let mut out = BTreeMap::new();
    let Some(t) = t else { return out };
    for (name, _) in t.entries.iter() {
        let Some(r) = t.table(d, name.get_ref()) else {
            continue;
        };
        r.check_keys(d, ROUTE_KEYS);
        if let Some(route) = route(d, &r, env) {
            out.insert(name.get_ref().to_string(), route);
        }
    }
    out
}

fn route(d: &mut Diagnostics<'_>, r: &Table<'_, '_>, env: EnvLookup<'_>) -> Option<Route> {
    let method = match r.get("method") {
        None => Some(http::Method::POST),
        Some(v) => read::string(d, v, &r.key_path("method")).and_then(|m| {
            let m = m.to_ascii_uppercase();
            http::Method::from_bytes(m.as_bytes())
                .map_err(|_| {
                    d.error(
                        v.span(),
                        &r.key_path("method"),
                        format!("`{m}` is not an HTTP method"),
                    )
                })
                .ok()
        }),
    };
    let path = match r.get("path") {
        None => {
            d.error_in_file(
                &r.key_path("path"),
                "missing; every route needs a `path` such as `\"/v1/chat/completions\"`",
            );
            None
        }
        Some(v) => read::string(d, v, &r.key_path("path")).filter(|p| {
            let ok = p.starts_with('/');
            if !ok {
                d.error(
                    v.span(),
                    &r.key_path("path"),
                    format!("`{p}` must start with `/`"),
                );
            }
            ok
        }),
    };
    let headers = headers(d, r, "headers", env);
    let stream = r.boolean(d, "stream").unwrap_or(false);
    let max_tokens = r
        .get("max_tokens")
        .and_then(|v| read::count32(d, v, &r.key_path("max_tokens")))
        .map(|n| n.get());
    let is_chat = path
        .as_deref()
        .is_some_and(|p| p.contains("/chat/completions"));
    let body = match r.get("body") {
        None if is_chat => Some(BodySpec::OpenAiChat { max_tokens }),
        None if method.as_ref() == Some(&http::Method::GET) => Some(BodySpec::Empty),
        None => Some(BodySpec::Raw),
        Some(v) => match v.get_ref() {
            DeValue::String(s) if s == "openai-chat" => Some(BodySpec::OpenAiChat { max_tokens }),
            DeValue::String(s) if s == "raw" => Some(BodySpec::Raw),
            DeValue::String(s) if s == "none" => Some(BodySpec::Empty),
            DeValue::Table(entries) if entries.len() == 1 && entries.get("template").is_some() => {
                let t = Table {
                    entries,
                    path: r.key_path("body"),
                };
                t.string(d, "template").and_then(|src| {
                    check_template(d, v.span(), &t.path, &src).then_some(BodySpec::Template(src))
                })
            }
            _ => {
                d.error(
                    v.span(),
                    &r.key_path("body"),
                    "expected `\"openai-chat\"`, `\"raw\"`, `\"none\"` or `{ template = \"...\" }`",
                );
                None
            }
        },
    };
    let default_check = if stream {
        BodyCheck::Sse
    } else if matches!(body, Some(BodySpec::OpenAiChat { .. })) {
        BodyCheck::Json
    } else {
        BodyCheck::Any
    };
    let expect = match r.table(d, "expect") {
        None => Some(Expect {
            status: Vec::new(),
            body: default_check,
        }),
        Some(e) => {
            e.check_keys(d, EXPECT_KEYS);
            let status = e.get("status").map(|v| {
                read::list(v)
                    .into_iter()
                    .filter_map(|s| {
                        let code = read::unsigned(d, s, &e.key_path("status"))?;
                        if (100..600).contains(&code) {
                            Some(code as u16)
                        } else {
                            d.error(
                                s.span(),
                                &e.key_path("status"),
                                format!("`{code}` is not an HTTP status code"),
                            );
                            None
                        }
                    })
                    .collect()
            });
            let body = match e.get("body") {
                None => Some(default_check),
                Some(v) => match v.get_ref().as_str() {
                    Some("json") => Some(BodyCheck::Json),
                    Some("sse") => Some(BodyCheck::Sse),
                    Some("any") => Some(BodyCheck::Any),
                    _ => {
                        d.error(
                            v.span(),
                            &e.key_path("body"),
                            "expected `\"json\"`, `\"sse\"` or `\"any\"`",
                        );
                        None
                    }
                },
            };
            Some(Expect {
                status: status.unwrap_or_default(),
                body: body?,
            })
        }
    };
    Some(Route {
        method: method?,
        path: path?,
        headers: headers?,
        body: body?,
        stream,
        expect: expect?,
    })
}

/// Compile a template once so that syntax errors point at the scenario file.
fn check_template(
    d: &mut Diagnostics<'_>,
    span: std::ops::Range<usize>,
    path: &str,
    source: &str,
) -> bool {
    match minijinja::Environment::new().template_from_str(source) {
        Ok(_) => true,
        Err(e) => {
            d.error(span, path, format!("template does not compile: {e}"));
            false
        }
    }
}

/// `[matrix]`: `route`, `payload`, `concurrency`, then user axes in file order.
/// Names declared under `[routes]` or `[payloads]` but invalid are already reported; the matrix
/// only checks names nobody declared.
pub(crate) fn matrix(
    d: &mut Diagnostics<'_>,
    m: &Table<'_, '_>,
    routes: &BTreeMap<String, Route>,
    payloads: &BTreeMap<String, Payload>,
    declared: &Declared,
) -> Option<Matrix> {
    let mut ok = true;
    let route_names: Vec<&str> = routes.keys().map(String::as_str).collect();
    let payload_names: Vec<&str> = payloads.keys().map(String::as_str).collect();
    let mut route = Vec::new();
    match m.get("route") {
        None => {
            d.error_in_file(
                "matrix.route",
                "missing; list the routes to run, e.g. `route = [\"chat\"]`",
            );
            ok = false;
        }
        Some(v) => {
            ok &= non_empty(d, v, "matrix.route");
            for item in read::list(v) {
                let Some(name) = read::string(d, item, "matrix.route") else {
                    ok = false;
                    continue;
                };
                // A route may be named by its path too, as the framework's `ROUTE` variable does.
                let by_path = routes
                    .iter()
                    .find(|(_, r)| r.path == name)
                    .map(|(n, _)| n.clone());
                match (routes.contains_key(&name), by_path) {
                    (true, _) => route.push(name),
                    (false, Some(found)) => route.push(found),
                    (false, None) if declared.routes.contains(&name) => ok = false,
                    (false, None) => {
                        d.error(
                            item.span(),
                            "matrix.route",
                            format!(
                                "no route `{name}` in [routes]{}",
                                suggestion(&name, &route_names)
                            ),
                        );
                        ok = false;
                    }
                }
            }
        }
    }
    let mut payload = Vec::new();
    if let Some(v) = m.get("payload") {
        ok &= non_empty(d, v, "matrix.payload");
        for item in read::list(v) {
            match read::string(d, item, "matrix.payload") {
                Some(name) if payloads.contains_key(&name) => payload.push(name),
                Some(name) if declared.payloads.contains(&name) => ok = false,
                Some(name) => {
                    let hint = if payload_names.is_empty() {
                        "; define it under [payloads]".to_string()
                    } else {
                        suggestion(&name, &payload_names)
                    };
                    d.error(
                        item.span(),
                        "matrix.payload",
                        format!("no payload `{name}` in [payloads]{hint}"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
    }
    let mut concurrency = Vec::new();
    match m.get("concurrency") {
        None => {
            d.error_in_file(
                "matrix.concurrency",
                "missing; list concurrency levels, e.g. `concurrency = [1, 8, 32]`",
            );
            ok = false;
        }
        Some(v) => {
            ok &= non_empty(d, v, "matrix.concurrency");
            for item in read::list(v) {
                match read::count32(d, item, "matrix.concurrency") {
                    Some(c) => concurrency.push(c),
                    None => ok = false,
                }
            }
        }
    }
    let mut extra = Vec::new();
    for (key, v) in m.entries.iter() {
        let name = key.get_ref().as_ref();
        if matches!(name, "route" | "payload" | "concurrency") {
            continue;
        }
        let path = m.key_path(name);
        let known = ["route", "payload", "concurrency"];
        if known.iter().any(|k| strsim::jaro_winkler(name, k) > 0.85) {
            d.error(
                key.span(),
                &path,
                format!(
                    "`{name}` is not an axis of [matrix]{}",
                    suggestion(name, &known)
                ),
            );
            ok = false;
            continue;
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            d.error(
                key.span(),
                &path,
                format!(
                    "axis name `{name}` must be letters, digits and `_` (it is a template variable)"
                ),
            );
            ok = false;
            continue;
        }
        ok &= non_empty(d, v, &path);
        let mut values = Vec::new();
        for item in read::list(v) {
            match item.get_ref() {
                DeValue::String(s) => values.push(s.to_string()),
                DeValue::Integer(i) => values.push(i.as_str().to_string()),
                DeValue::Float(f) => values.push(f.as_str().to_string()),
                DeValue::Boolean(b) => values.push(b.to_string()),
                other => {
                    d.error(
                        item.span(),
                        &path,
                        format!(
                            "axis values must be strings or numbers, found {}",
                            other.type_str()
                        ),
                    );
                    ok = false;
                }
            }
        }
        extra.push((name.to_string(), values));
    }
    ok.then_some(Matrix {
        route,
        payload,
        concurrency,
        extra,
    })
}

/// An axis must list at least one value.
fn non_empty(d: &mut Diagnostics<'_>, v: &read::Value<'_>, path: &str) -> bool {
    let empty = matches!(v.get_ref(), DeValue::Array(items) if items.is_empty());
    if empty {
        d.error(v.span(), path, "an axis needs at least one value");
    }
    !empty
}
