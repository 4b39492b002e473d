//! Typed reading of spanned TOML values: each getter checks one value, records a located
//! problem when it is wrong, and returns `None` so that reading goes on and every problem of
//! a file is found in one pass.

use std::num::NonZeroU64;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::diagnostics::{Diagnostics, closest, is_override, suggestion};
use super::units;

/// A spanned value of the parsed document.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// A spanned key of the parsed document.
pub(crate) type Key<'i> = Spanned<DeString<'i>>;

/// One table being read, with its key path and position for messages.
pub(crate) struct Table<'t, 'i> {
    /// The table's entries.
    pub(crate) entries: &'t DeTable<'i>,
    /// Dotted path, empty for the root.
    pub(crate) path: String,
    /// Where the table is written: its `[header]` or `{ inline table }`; `0..0` for the root.
    pub(crate) span: Range<usize>,
}

impl<'t, 'i> Table<'t, 'i> {
    /// The root table.
    pub(crate) fn root(entries: &'t DeTable<'i>) -> Self {
        Self {
            entries,
            path: String::new(),
            span: 0..0,
        }
    }

    /// `value` read as a table at `path`, if it is one.
    pub(crate) fn of(value: &'t Value<'i>, path: String) -> Option<Self> {
        match value.get_ref() {
            DeValue::Table(entries) => Some(Self {
                entries,
                path,
                span: value.span(),
            }),
            _ => None,
        }
    }

    /// Dotted path of `key` inside this table.
    pub(crate) fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// How messages name this table: `[target]`, or `the top level`.
    pub(crate) fn section(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{}]", self.path)
        }
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.get(key)
    }

    /// The entries in the order they are written in the file. The parsed table is sorted by
    /// key; keys added by overrides carry marker spans past the end of any file, so they come
    /// last.
    pub(crate) fn in_file_order(&self) -> Vec<(&'t Key<'i>, &'t Value<'i>)> {
        let mut entries: Vec<_> = self.entries.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        entries
    }

    /// Report every key not in `known`, with the closest known key as a hint.
    pub(crate) fn check_keys(&self, d: &mut Diagnostics<'_>, known: &[&str]) {
        for (key, _) in self.entries.iter() {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            self.unknown_key(d, key, "a key", known);
        }
    }

    /// Report `key` as unknown (`what` is "a key" or "an axis"), hinting at the closest of
    /// `known`; a hinted key is not reported missing afterwards.
    pub(crate) fn unknown_key(
        &self,
        d: &mut Diagnostics<'_>,
        key: &Key<'_>,
        what: &str,
        known: &[&str],
    ) {
        let name = key.get_ref().as_ref();
        if let Some(hint) = closest(name, known) {
            d.suggested(self.key_path(hint));
        }
        d.error(
            key.span(),
            &self.key_path(name),
            format!(
                "`{name}` is not {what} of {}{}",
                self.section(),
                suggestion(name, known)
            ),
        );
    }

    /// Record that the required `key` is missing, at this table's header.
    pub(crate) fn missing(&self, d: &mut Diagnostics<'_>, key: &str, message: &str) {
        d.missing(self.span.clone(), &self.key_path(key), message);
    }

    /// The sub-table at `key`; a problem when present but not a table.
    pub(crate) fn table(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<Table<'t, 'i>> {
        let value = self.get(key)?;
        let table = Table::of(value, self.key_path(key));
        if table.is_none() {
            d.error(
                value.span(),
                &self.key_path(key),
                format!("expected a table, found {}", value.get_ref().type_str()),
            );
        }
        table
    }

    /// A string at `key`.
    pub(crate) fn string(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<String> {
        self.get(key)
            .and_then(|v| string(d, v, &self.key_path(key)))
    }

    /// A boolean at `key`.
    pub(crate) fn boolean(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<bool> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                d.error(
                    value.span(),
                    &self.key_path(key),
                    format!("expected `true` or `false`, found {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A duration at `key` (`"30s"`); `allow_zero` permits `"0s"`.
    pub(crate) fn duration(
        &self,
        d: &mut Diagnostics<'_>,
        key: &str,
        allow_zero: bool,
    ) -> Option<Duration> {
        self.get(key)
            .and_then(|v| duration(d, v, &self.key_path(key), allow_zero))
    }

    /// A non-negative integer at `key` that fits `T`.
    pub(crate) fn integer<T: TryFrom<u64>>(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<T> {
        let value = self.get(key)?;
        let path = self.key_path(key);
        let n = unsigned(d, value, &path)?;
        fits(d, value, &path, n)
    }

    /// A positive count at `key` that fits `T` (`NonZeroU32`, `NonZeroU64`).
    pub(crate) fn count<T: TryFrom<NonZeroU64>>(
        &self,
        d: &mut Diagnostics<'_>,
        key: &str,
    ) -> Option<T> {
        self.get(key).and_then(|v| count(d, v, &self.key_path(key)))
    }

    /// A size in bytes at `key`, at most `limit`: an integer or text with a unit (`"32KiB"`).
    pub(crate) fn size(&self, d: &mut Diagnostics<'_>, key: &str, limit: u64) -> Option<u64> {
        let value = self.get(key)?;
        let path = self.key_path(key);
        let bytes = match value.get_ref() {
            DeValue::String(text) => units::parse_size(text)
                .map_err(|e| d.error(value.span(), &path, e))
                .ok(),
            DeValue::Integer(_) => unsigned(d, value, &path),
            other => {
                d.error(
                    value.span(),
                    &path,
                    format!(
                        "expected a size such as `1024` or `\"32KiB\"`, found {}",
                        other.type_str()
                    ),
                );
                None
            }
        }?;
        if bytes > limit {
            d.error(
                value.span(),
                &path,
                format!(
                    "`{}` is larger than the limit of {}",
                    shown(value),
                    units::format_size(limit)
                ),
            );
            return None;
        }
        Some(bytes)
    }
}

/// A scalar as the user wrote it, for messages.
pub(crate) fn shown(value: &Value<'_>) -> String {
    match value.get_ref() {
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(t) => t.to_string(),
        other => other.type_str().to_string(),
    }
}

/// A scalar as TOML writes it (`"chat"`, `8`), for fixes that show it.
pub(crate) fn as_toml(value: &Value<'_>) -> String {
    match value.get_ref() {
        DeValue::String(s) => toml_string(s),
        _ => shown(value),
    }
}

/// `value` as a TOML basic string.
pub(crate) fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string value. A number, boolean or date given by an override (`--set target.model=2024`)
/// is taken as the text it was written as: on a command line, quoting it would be a chore.
pub(crate) fn string(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<String> {
    match value.get_ref() {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_)
            if is_override(&value.span()) =>
        {
            Some(shown(value))
        }
        other => {
            d.error(
                value.span(),
                path,
                format!("expected a string, found {}", other.type_str()),
            );
            None
        }
    }
}

/// A duration value written as text.
pub(crate) fn duration(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
    allow_zero: bool,
) -> Option<Duration> {
    let parsed = match value.get_ref() {
        DeValue::String(text) => units::parse_duration(text),
        DeValue::Integer(i) if i.as_str() == "0" => Ok(Duration::ZERO),
        DeValue::Integer(i) if i.as_str().starts_with('-') => Err(format!(
            "`{}` is negative; negative durations are not allowed",
            i.as_str()
        )),
        DeValue::Integer(_) | DeValue::Float(_) => {
            let number = shown(value);
            Err(format!(
                "`{number}` has no unit; write e.g. `\"{number}s\"`"
            ))
        }
        other => Err(format!(
            "expected a duration such as `\"30s\"`, found {}",
            other.type_str()
        )),
    };
    match parsed {
        Ok(v) if v.is_zero() && !allow_zero => {
            d.error(value.span(), path, "must be longer than zero");
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            d.error(value.span(), path, e);
            None
        }
    }
}

/// A non-negative integer value.
pub(crate) fn unsigned(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<u64> {
    match value.get_ref() {
        DeValue::Integer(i) => match integer_value(i) {
            Some(n) if n >= 0 => Some(n.unsigned_abs()),
            Some(n) => {
                d.error(
                    value.span(),
                    path,
                    format!("must not be negative, found `{n}`"),
                );
                None
            }
            None => {
                d.error(
                    value.span(),
                    path,
                    format!("`{}` is out of range", i.as_str()),
                );
                None
            }
        },
        other => {
            d.error(
                value.span(),
                path,
                format!("expected an integer, found {}", other.type_str()),
            );
            None
        }
    }
}

/// The value of a TOML integer, if it fits `i64`.
pub(crate) fn integer_value(i: &toml::de::DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(
        i.as_str().replace('_', "").trim_start_matches('+'),
        i.radix(),
    )
    .ok()
}

/// A positive integer value that fits `T` (`NonZeroU32`, `NonZeroU64`).
pub(crate) fn count<T: TryFrom<NonZeroU64>>(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
) -> Option<T> {
    let n = unsigned(d, value, path)?;
    let Some(n) = NonZeroU64::new(n) else {
        d.error(value.span(), path, "must be at least 1");
        return None;
    };
    fits(d, value, path, n)
}

/// `n` as a `T`, or a "too large" problem.
fn fits<N: Copy + std::fmt::Display, T: TryFrom<N>>(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
    n: N,
) -> Option<T> {
    T::try_from(n)
        .map_err(|_| d.error(value.span(), path, format!("`{n}` is too large")))
        .ok()
}

/// The elements of an array value; a single non-array value counts as a one-element list
/// (`expect.status = 200`). Matrix axes are stricter: see `build_axes::items`.
pub(crate) fn list<'t, 'i>(value: &'t Value<'i>) -> Vec<&'t Value<'i>> {
    match value.get_ref() {
        DeValue::Array(items) => items.iter().collect(),
        _ => vec![value],
    }
}

#[cfg(test)]
mod tests {
    use super::toml_string;

    #[test]
    fn toml_strings_escape_quotes_and_control_characters() {
        assert_eq!(toml_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
    }
}
