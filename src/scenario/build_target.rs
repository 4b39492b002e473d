//! `[target]`: the server under test — base URL (or the built-in mock), model name, headers,
//! timeouts and transport. Header tables are read here for routes too.
//!
//! Secrets: a header value from an override or a credential header (`authorization`,
//! `x-api-key`, ...) is shown as `***`; the `user:password@` of a base URL is shown as `***@`
//! and sent as basic auth. What makes a credential is in `credentials`.

use std::time::Duration;

use super::credentials::{
    basic_auth, has_literal_userinfo, is_credential_header, reads_env, redact_userinfo,
    without_userinfo,
};
use super::diagnostics::{Diagnostics, is_override, is_unsafe, unsafe_char};
use super::interpolate::interpolate;
use super::read::{self, Table, Value};
use super::{BaseUrl, SecretText, Target, TransportKind};

/// Environment lookup used for `${env:NAME}`.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The keys of `[target]`.
pub(crate) const TARGET_KEYS: &[&str] = &[
    "base_url",
    "model",
    "headers",
    "timeout",
    "connect_timeout",
    "transport",
    "max_response_bytes",
    "max_event_bytes",
];

/// The words `target.transport` takes, and what each means.
pub(crate) const TRANSPORTS: &[(&str, TransportKind)] = &[
    ("auto", TransportKind::Auto),
    ("reqwest", TransportKind::Reqwest),
    ("hyper", TransportKind::Hyper),
    ("lean", TransportKind::Lean),
];

/// Default `max_response_bytes`: far above any chat answer, small enough that a hostile
/// endless body is cut off in well under a second. Bodies are not kept (the JSON check reads
/// them as they arrive), so it bounds reading, not memory.
const MAX_RESPONSE_BYTES: u64 = 64 << 20;
/// Default `max_event_bytes`: an SSE event of a chat stream is a few hundred bytes.
const MAX_EVENT_BYTES: u64 = 1 << 20;

/// The `[target]` table.
pub(crate) fn target(
    d: &mut Diagnostics<'_>,
    t: &Table<'_, '_>,
    env: EnvLookup<'_>,
) -> Option<Target> {
    t.check_keys(d, TARGET_KEYS);
    let base_url = match t.get("base_url") {
        None => {
            t.missing(
                d,
                "base_url",
                "missing; write `base_url = \"mock\"` or e.g. `\"http://127.0.0.1:8000\"`",
            );
            None
        }
        Some(v) => base_url(d, v, env),
    };
    let model = t.string(d, "model").unwrap_or_else(|| "mock-gpt".into());
    if let (Some(c), Some(v)) = (unsafe_char(&model, false), t.get("model")) {
        d.error(
            v.span(),
            "target.model",
            format!(
                "`{model}` holds the control character `{}`, which a model name may not (it is \
                 sent in request bodies and shown in reports)",
                c.escape_debug()
            ),
        );
    }
    let headers =
        headers(d, t, "headers", env).map(|h| with_basic_auth(d, t, h, base_url.as_ref()));
    let timeout = t
        .duration(d, "timeout", false)
        .unwrap_or(Duration::from_secs(30));
    let connect_timeout = t
        .duration(d, "connect_timeout", false)
        .unwrap_or(Duration::from_secs(5));
    let max_response_bytes = limit(d, t, "max_response_bytes", MAX_RESPONSE_BYTES);
    let max_event_bytes = limit(d, t, "max_event_bytes", MAX_EVENT_BYTES);
    let transport = match t.get("transport") {
        None => Some(TransportKind::Auto),
        Some(v) => {
            let word = v.get_ref().as_str();
            let kind = TRANSPORTS.iter().find(|(w, _)| Some(*w) == word);
            if kind.is_none() {
                d.error(
                    v.span(),
                    "target.transport",
                    "expected `\"auto\"`, `\"reqwest\"`, `\"hyper\"` or `\"lean\"`",
                );
            }
            kind.map(|(_, k)| *k)
        }
    };
    Some(Target {
        base_url: base_url?,
        model,
        headers: headers?,
        timeout,
        connect_timeout,
        transport: transport?,
        max_response_bytes: max_response_bytes?,
        max_event_bytes: max_event_bytes?,
    })
}

/// A size limit at `key` (`default` when absent): at least one byte.
fn limit(d: &mut Diagnostics<'_>, t: &Table<'_, '_>, key: &str, default: u64) -> Option<u64> {
    let Some(value) = t.get(key) else {
        return Some(default);
    };
    match t.size(d, key, u64::MAX)? {
        0 => {
            d.error(
                value.span(),
                &t.key_path(key),
                "must be at least 1 byte; leave the key out for the default",
            );
            None
        }
        bytes => Some(bytes),
    }
}

/// `"mock"` or an `http(s)://` URL with a host and no query or fragment: route paths are
/// appended to it as text, so a query or fragment would swallow them.
fn base_url(d: &mut Diagnostics<'_>, v: &Value<'_>, env: EnvLookup<'_>) -> Option<BaseUrl> {
    let key = "target.base_url";
    let text = read::string(d, v, key)?;
    if text == "mock" {
        return Some(BaseUrl::Mock);
    }
    let written = text;
    let text = interpolate(&written, env)
        .map_err(|e| d.error(v.span(), key, e.to_string()))
        .ok()?;
    let display = SecretText {
        resolved: text.resolved,
        display: redact_userinfo(&text.display),
    };
    let problem = match url::Url::parse(&display.resolved) {
        Err(e) => format!("`{display}` is not a URL: {e}"),
        Ok(url) if !matches!(url.scheme(), "http" | "https") || !url.has_host() => {
            format!("`{display}` is not an http:// or https:// URL")
        }
        Ok(url) if url.query().is_some() || url.fragment().is_some() => format!(
            "`{display}` has a `?query` or `#fragment`; route paths are appended to the base \
             URL, so put a query in each route's `path`"
        ),
        Ok(url) => {
            if has_literal_userinfo(&written) && !is_override(&v.span()) {
                d.warn(
                    v.span(),
                    key,
                    "the URL holds a literal `user:password@` (sent as basic auth, shown as \
                     `***@`); keep it out of the file: write `${env:NAME}` for each part",
                );
            }
            // The credentials travel in an `authorization` header (`with_basic_auth`), so
            // that every transport sends them alike; `display.resolved` keeps them.
            return Some(BaseUrl::Url {
                url: without_userinfo(&url),
                display,
            });
        }
    };
    d.error(v.span(), key, problem);
    None
}

/// `headers` plus basic auth for the `user:password@` of the base URL, unless `headers` set
/// `authorization` themselves (then the URL's credentials are not sent, with a warning).
fn with_basic_auth(
    d: &mut Diagnostics<'_>,
    t: &Table<'_, '_>,
    mut headers: Vec<(String, SecretText)>,
    base_url: Option<&BaseUrl>,
) -> Vec<(String, SecretText)> {
    let Some(BaseUrl::Url { display, .. }) = base_url else {
        return headers;
    };
    let Some(value) = url::Url::parse(&display.resolved)
        .ok()
        .as_ref()
        .and_then(basic_auth)
    else {
        return headers;
    };
    if headers.iter().any(|(name, _)| name == "authorization") {
        if let Some(v) = t.get("base_url") {
            d.warn(
                v.span(),
                "target.base_url",
                "the URL's `user:password@` is not sent: `target.headers` sets `authorization`",
            );
        }
    } else {
        headers.push(("authorization".into(), value));
    }
    headers
}

/// A `headers = { name = "value" }` table in file order, values interpolated; header names
/// are lowercased. A value set by an override, and a credential header's value written into
/// the file, are secrets: shown as `***` and never quoted in a message.
pub(crate) fn headers(
    d: &mut Diagnostics<'_>,
    t: &Table<'_, '_>,
    key: &str,
    env: EnvLookup<'_>,
) -> Option<Vec<(String, SecretText)>> {
    let Some(table) = t.table(d, key) else {
        return t.get(key).is_none().then(Vec::new);
    };
    let mut out: Vec<(String, SecretText)> = Vec::new();
    let mut ok = true;
    for (name, value) in table.in_file_order() {
        let written = name.get_ref();
        let path = table.key_path(written);
        let lower = written.to_lowercase();
        if http::HeaderName::from_bytes(written.as_bytes()).is_err() {
            d.error(
                name.span(),
                &path,
                format!(
                    "`{}` is not a valid header name; use letters, digits and `-`",
                    written.escape_debug()
                ),
            );
            ok = false;
        } else if out.iter().any(|(n, _)| *n == lower) {
            d.error(
                name.span(),
                &path,
                format!("header `{lower}` is set twice (header names ignore case)"),
            );
            ok = false;
        }
        let Some(text) = read::string(d, value, &path) else {
            ok = false;
            continue;
        };
        let from_override = is_override(&value.span());
        let credential = is_credential_header(&lower);
        let literal_credential = credential && !reads_env(&text);
        let secret = from_override || credential;
        match interpolate(&text, env) {
            // `http` lets bytes past ASCII through: C1 controls and bidirectional overrides
            // would reach reports and terminals as they are.
            Ok(v)
                if http::HeaderValue::from_str(&v.resolved).is_ok()
                    && !v.resolved.chars().any(|c| is_unsafe(c) && c != '\t') =>
            {
                if literal_credential && !from_override {
                    d.warn(
                        value.span(),
                        &path,
                        format!(
                            "`{lower}` holds a literal credential (shown as `***`); keep it out \
                             of the file: write `${{env:NAME}}` in the value and export `NAME`"
                        ),
                    );
                }
                let v = if from_override || literal_credential {
                    SecretText {
                        resolved: v.resolved,
                        display: "***".into(),
                    }
                } else {
                    v
                };
                out.push((lower, v));
            }
            Ok(v) => {
                let shown = if secret {
                    "the value".to_string()
                } else {
                    format!("`{}`", v.display)
                };
                d.error(
                    value.span(),
                    &path,
                    format!("{shown} is not a valid header value: it holds a control character"),
                );
                ok = false;
            }
            Err(e) => {
                let message = if secret { e.redacted() } else { e.to_string() };
                d.error(value.span(), &path, message);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}
