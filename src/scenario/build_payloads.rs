//! `[payloads]`: named texts that route bodies are built around — a fill string repeated to a
//! size, inline text, a file, or a template rendered per point.

use std::path::Path;

use toml::de::DeValue;

use super::diagnostics::Diagnostics;
use super::read::{Key, Table, Value};
use super::{MAX_PAYLOAD_BYTES, Payload, PayloadSource, files, names, templates};

/// The keys of a `[payloads.NAME]` table.
pub(crate) const PAYLOAD_KEYS: &[&str] = &["fill", "bytes", "text", "file", "template"];

/// The keys that say where a payload's text comes from; a payload has exactly one.
pub(crate) const SOURCE_KEYS: &[&str] = &["fill", "text", "file", "template"];

/// Every `[payloads.NAME]` in file order; bad ones are reported and left out. Templates may
/// read the user `axes`.
pub(crate) fn payloads(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    base_dir: &Path,
    axes: &[String],
) -> Vec<Payload> {
    let Some(t) = t else { return Vec::new() };
    let mut out = Vec::new();
    for (name, value) in t.in_file_order() {
        let named = check_name(d, t, name);
        let source = source(d, value, &t.key_path(name.get_ref()), base_dir, axes);
        if let (true, Some(source)) = (named, source) {
            out.push(Payload {
                name: name.get_ref().to_string(),
                source,
            });
        }
    }
    out
}

/// Check the name of a route or payload (`t` is `[routes]` or `[payloads]`).
pub(crate) fn check_name(d: &mut Diagnostics<'_>, t: &Table<'_, '_>, name: &Key<'_>) -> bool {
    let kind = if t.path == "routes" {
        "route"
    } else {
        "payload"
    };
    match names::check_name(kind, name.get_ref()) {
        Ok(()) => true,
        Err(e) => {
            d.error(name.span(), &t.path, e);
            false
        }
    }
}

fn source(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
    base_dir: &Path,
    axes: &[String],
) -> Option<PayloadSource> {
    let p = match value.get_ref() {
        DeValue::String(text) => return Some(PayloadSource::Text(text.to_string())),
        DeValue::Table(_) => Table::of(value, path.to_string())?,
        other => {
            d.error(
                value.span(),
                path,
                format!("expected a table or a string, found {}", other.type_str()),
            );
            return None;
        }
    };
    p.check_keys(d, PAYLOAD_KEYS);
    let kinds: Vec<&str> = SOURCE_KEYS
        .iter()
        .copied()
        .filter(|k| p.get(k).is_some())
        .collect();
    // `bytes` sizes a `fill`; read it in any case so that a bad size is reported too.
    let bytes = p.size(d, "bytes", MAX_PAYLOAD_BYTES);
    if let (Some(v), false) = (p.get("bytes"), kinds.contains(&"fill")) {
        d.error(
            v.span(),
            &p.key_path("bytes"),
            "`bytes` sizes a `fill`; it does nothing here",
        );
    }
    match kinds.as_slice() {
        ["fill"] => fill(d, &p, bytes),
        ["text"] => p.string(d, "text").map(PayloadSource::Text),
        ["template"] => {
            let v = p.get("template")?;
            let src = p.string(d, "template")?;
            let path = p.key_path("template");
            let template = templates::compile(d, v.span(), &path, &src)?;
            templates::check_variables(d, &template, &path, axes);
            Some(PayloadSource::Template(template))
        }
        ["file"] => file(d, &p, base_dir),
        [] => {
            d.error(
                p.span.clone(),
                path,
                "a payload needs one of `fill` (with `bytes`), `text`, `file` or `template`",
            );
            None
        }
        _ => {
            let listed: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
            d.error(
                p.span.clone(),
                path,
                format!("a payload takes only one of {}", listed.join(", ")),
            );
            None
        }
    }
}

fn fill(d: &mut Diagnostics<'_>, p: &Table<'_, '_>, bytes: Option<u64>) -> Option<PayloadSource> {
    let mut fill = p.string(d, "fill");
    if let (Some(""), Some(v)) = (fill.as_deref(), p.get("fill")) {
        d.error(v.span(), &p.key_path("fill"), "must not be empty");
        fill = None;
    }
    if p.get("bytes").is_none() {
        p.missing(
            d,
            "bytes",
            "`fill` needs `bytes`, the size to repeat it to (e.g. `bytes = \"32KiB\"`)",
        );
    }
    Some(PayloadSource::Fill {
        fill: fill?,
        bytes: bytes?,
    })
}

fn file(d: &mut Diagnostics<'_>, p: &Table<'_, '_>, base_dir: &Path) -> Option<PayloadSource> {
    let at = p.get("file")?.span();
    let file = p.string(d, "file")?;
    let full = base_dir.join(&file);
    let subject = format!("`{}`", full.display());
    let contents = files::read_text(&full, MAX_PAYLOAD_BYTES, &subject, "a payload")
        .map_err(|e| d.error(at, &p.key_path("file"), e))
        .ok()?;
    Some(PayloadSource::File {
        path: full,
        contents,
    })
}
