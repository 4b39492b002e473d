//! `[routes]`: named endpoints — method, path, headers, the body they send and what a good
//! answer is.

use toml::de::DeValue;

use super::build_payloads::check_name;
use super::build_target::{EnvLookup, headers};
use super::diagnostics::{Diagnostics, suggestion, unsafe_char};
use super::read::{self, Table, Value};
use super::{BodyCheck, BodySpec, Expect, Route, templates};

/// The keys of `[routes.NAME]`.
pub(crate) const ROUTE_KEYS: &[&str] = &[
    "method",
    "path",
    "headers",
    "body",
    "max_tokens",
    "stream",
    "expect",
];
/// The keys of `routes.NAME.expect`.
pub(crate) const EXPECT_KEYS: &[&str] = &["status", "body"];
/// The keys of a `routes.NAME.body` table.
pub(crate) const BODY_TABLE_KEYS: &[&str] = &["template"];
/// The words `routes.NAME.body` takes.
pub(crate) const BODY_KINDS: &[&str] = &["openai-chat", "raw", "none"];
/// The values of `routes.NAME.expect.body`.
pub(crate) const BODY_CHECKS: &[&str] = &["json", "sse", "any"];

/// Every `[routes.NAME]` in file order; bad ones are reported and left out. Body templates
/// may read the user `axes`.
pub(crate) fn routes(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    env: EnvLookup<'_>,
    axes: &[String],
) -> Vec<Route> {
    let Some(t) = t else { return Vec::new() };
    let mut out = Vec::new();
    for (name, _) in t.in_file_order() {
        let named = check_name(d, t, name);
        let Some(r) = t.table(d, name.get_ref()) else {
            continue;
        };
        r.check_keys(d, ROUTE_KEYS);
        if let (true, Some(route)) = (named, route(d, &r, name.get_ref(), env, axes)) {
            out.push(route);
        }
    }
    out
}

fn route(
    d: &mut Diagnostics<'_>,
    r: &Table<'_, '_>,
    name: &str,
    env: EnvLookup<'_>,
    axes: &[String],
) -> Option<Route> {
    let method = method(d, r);
    let path = path(d, r);
    let headers = headers(d, r, "headers", env);
    let stream = r.boolean(d, "stream").unwrap_or(false);
    let max_tokens = r.count(d, "max_tokens").map(std::num::NonZeroU32::get);
    let is_chat = path
        .as_deref()
        .is_some_and(|p| p.contains("/chat/completions"));
    let body = match r.get("body") {
        None if is_chat => Some(BodySpec::OpenAiChat { max_tokens }),
        None if method.as_ref() == Some(&http::Method::GET) => Some(BodySpec::Empty),
        None => Some(BodySpec::Raw),
        Some(v) => body(d, r, v, max_tokens, axes),
    };
    if let (Some(v), Some(body)) = (r.get("max_tokens"), &body) {
        let kind = match body {
            BodySpec::OpenAiChat { .. } => None,
            BodySpec::Template(_) => Some("a template body; write `max_tokens` in the template"),
            BodySpec::Raw => Some("a `raw` body"),
            BodySpec::Empty => Some("a route without a body"),
        };
        if let Some(kind) = kind {
            d.error(
                v.span(),
                &r.key_path("max_tokens"),
                format!("`max_tokens` is sent only by the `openai-chat` body, not by {kind}"),
            );
        }
    }
    let default_check = if stream {
        BodyCheck::Sse
    } else if matches!(body, Some(BodySpec::OpenAiChat { .. })) {
        BodyCheck::Json
    } else {
        BodyCheck::Any
    };
    let expect = match r.table(d, "expect") {
        None if r.get("expect").is_some() => None,
        None => Some(Expect {
            status: Vec::new(),
            body: default_check,
        }),
        Some(e) => expect(d, &e, default_check),
    };
    Some(Route {
        name: name.to_string(),
        method: method?,
        path: path?,
        headers: headers?,
        body: body?,
        stream,
        expect: expect?,
    })
}

fn method(d: &mut Diagnostics<'_>, r: &Table<'_, '_>) -> Option<http::Method> {
    let Some(v) = r.get("method") else {
        return Some(http::Method::POST);
    };
    let m = read::string(d, v, &r.key_path("method"))?.to_ascii_uppercase();
    http::Method::from_bytes(m.as_bytes())
        .map_err(|_| {
            d.error(
                v.span(),
                &r.key_path("method"),
                format!("`{m}` is not an HTTP method"),
            )
        })
        .ok()
}

fn path(d: &mut Diagnostics<'_>, r: &Table<'_, '_>) -> Option<String> {
    let key = r.key_path("path");
    let Some(v) = r.get("path") else {
        r.missing(
            d,
            "path",
            "missing; every route needs a `path` such as `\"/v1/chat/completions\"`",
        );
        return None;
    };
    let p = read::string(d, v, &key)?;
    let problem = if !p.starts_with('/') {
        Some(format!("`{p}` must start with `/`"))
    } else if p.contains('#') {
        Some(format!(
            "`{p}` has a `#fragment`, which is never sent to a server"
        ))
    } else if let Some(c) = unsafe_char(&p, false) {
        // `http` takes bytes past ASCII as they are: a C1 control would reach the request line.
        Some(format!(
            "`{p}` holds the control character `{}`; percent-encode it",
            c.escape_debug()
        ))
    } else if http::uri::PathAndQuery::try_from(p.as_str()).is_err() {
        Some(format!(
            "`{p}` is not a valid URL path; percent-encode spaces and other special characters"
        ))
    } else {
        None
    };
    match problem {
        Some(message) => {
            d.error(v.span(), &key, message);
            None
        }
        None => Some(p),
    }
}

fn body(
    d: &mut Diagnostics<'_>,
    r: &Table<'_, '_>,
    v: &Value<'_>,
    max_tokens: Option<u32>,
    axes: &[String],
) -> Option<BodySpec> {
    let key = r.key_path("body");
    let expected = "expected `\"openai-chat\"`, `\"raw\"`, `\"none\"` or `{ template = \"...\" }`";
    match v.get_ref() {
        DeValue::String(s) => match s.as_ref() {
            "openai-chat" => Some(BodySpec::OpenAiChat { max_tokens }),
            "raw" => Some(BodySpec::Raw),
            "none" => Some(BodySpec::Empty),
            other => {
                d.error(
                    v.span(),
                    &key,
                    format!("unknown body `{other}`{}", suggestion(other, BODY_KINDS)),
                );
                None
            }
        },
        DeValue::Table(_) => {
            let t = Table::of(v, key)?;
            t.check_keys(d, BODY_TABLE_KEYS);
            let Some(src_value) = t.get("template") else {
                t.missing(
                    d,
                    "template",
                    "missing; write `body = { template = \"...\" }`",
                );
                return None;
            };
            let src = t.string(d, "template")?;
            let path = t.key_path("template");
            let template = templates::compile(d, src_value.span(), &path, &src)?;
            templates::check_variables(d, &template, &path, axes);
            Some(BodySpec::Template(template))
        }
        other => {
            d.error(
                v.span(),
                &key,
                format!("{expected}, found {}", other.type_str()),
            );
            None
        }
    }
}

fn expect(d: &mut Diagnostics<'_>, e: &Table<'_, '_>, default_check: BodyCheck) -> Option<Expect> {
    e.check_keys(d, EXPECT_KEYS);
    let key = e.key_path("status");
    let mut status = Some(Vec::new());
    if let Some(v) = e.get("status") {
        let items = read::list(v);
        if items.is_empty() {
            d.error(
                v.span(),
                &key,
                "list at least one status code, or leave `status` out to accept any 2xx",
            );
            status = None;
        }
        for item in items {
            let code = read::unsigned(d, item, &key);
            match code.and_then(|c| u16::try_from(c).ok()) {
                Some(c) if (100..600).contains(&c) => {
                    if let Some(list) = status.as_mut().filter(|l| !l.contains(&c)) {
                        list.push(c);
                    }
                }
                _ => {
                    if let Some(c) = code {
                        d.error(
                            item.span(),
                            &key,
                            format!("`{c}` is not an HTTP status code (100 to 599)"),
                        );
                    }
                    status = None;
                }
            }
        }
    }
    let body = match e.get("body") {
        None => Some(default_check),
        Some(v) => match v.get_ref().as_str() {
            Some("json") => Some(BodyCheck::Json),
            Some("sse") => Some(BodyCheck::Sse),
            Some("any") => Some(BodyCheck::Any),
            Some(other) => {
                d.error(
                    v.span(),
                    &e.key_path("body"),
                    format!(
                        "unknown body check `{other}`{}",
                        suggestion(other, BODY_CHECKS)
                    ),
                );
                None
            }
            None => {
                d.error(
                    v.span(),
                    &e.key_path("body"),
                    format!(
                        "expected `\"json\"`, `\"sse\"` or `\"any\"`, found {}",
                        v.get_ref().type_str()
                    ),
                );
                None
            }
        },
    };
    Some(Expect {
        status: status?,
        body: body?,
    })
}
