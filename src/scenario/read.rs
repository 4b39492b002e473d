//! Typed reading of spanned TOML values: each getter checks one value, records a located
//! problem when it is wrong, and returns `None` so that reading goes on and every problem of
//! a file is found in one pass.

use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostics::{Diagnostics, suggestion};
use super::units;

/// A spanned value of the parsed document.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// One table being read, with its key path for messages.
pub(crate) struct Table<'t, 'i> {
    /// The table's entries.
    pub(crate) entries: &'t DeTable<'i>,
    /// Dotted path, empty for the root.
    pub(crate) path: String,
}

impl<'t, 'i> Table<'t, 'i> {
    /// The root table.
    pub(crate) fn root(entries: &'t DeTable<'i>) -> Self {
        Self {
            entries,
            path: String::new(),
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

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.get(key)
    }

    /// Report every key not in `known`, with the closest known key as a hint.
    pub(crate) fn check_keys(&self, d: &mut Diagnostics<'_>, known: &[&str]) {
        for (key, _) in self.entries.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                let name = key.get_ref();
                let section = if self.path.is_empty() {
                    "the top level".to_string()
                } else {
                    format!("[{}]", self.path)
                };
                d.error(
                    key.span(),
                    &self.key_path(name),
                    format!(
                        "`{name}` is not a key of {section}{}",
                        suggestion(name, known)
                    ),
                );
            }
        }
    }

    /// The sub-table at `key`; a problem when present but not a table.
    pub(crate) fn table(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<Table<'t, 'i>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(entries) => Some(Table {
                entries,
                path: self.key_path(key),
            }),
            other => {
                d.error(
                    value.span(),
                    &self.key_path(key),
                    format!("expected a table, found {}", other.type_str()),
                );
                None
            }
        }
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

    /// A non-negative integer at `key`.
    pub(crate) fn unsigned(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<u64> {
        self.get(key)
            .and_then(|v| unsigned(d, v, &self.key_path(key)))
    }

    /// A positive count at `key` that fits 32 bits.
    pub(crate) fn count32(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<NonZeroU32> {
        self.get(key)
            .and_then(|v| count32(d, v, &self.key_path(key)))
    }

    /// A positive count at `key`.
    pub(crate) fn count64(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<NonZeroU64> {
        let value = self.get(key)?;
        let n = unsigned(d, value, &self.key_path(key))?;
        let count = NonZeroU64::new(n);
        if count.is_none() {
            d.error(value.span(), &self.key_path(key), "must be at least 1");
        }
        count
    }

    /// A size at `key`: bytes as an integer or text with a unit (`"32KiB"`).
    pub(crate) fn size(&self, d: &mut Diagnostics<'_>, key: &str) -> Option<u64> {
        let value = self.get(key)?;
        let path = self.key_path(key);
        match value.get_ref() {
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
        }
    }
}

/// A string value.
pub(crate) fn string(d: &mut Diagnostics<'_>, value: &Value<'_>, path: &str) -> Option<String> {
    match value.get_ref() {
        DeValue::String(s) => Some(s.to_string()),
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
        DeValue::Integer(i) => Err(format!(
            "`{}` has no unit; write e.g. `\"{}s\"`",
            i.as_str(),
            i.as_str()
        )),
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
        DeValue::Integer(i) => match i64::from_str_radix(
            i.as_str().replace('_', "").trim_start_matches('+'),
            i.radix(),
        ) {
            Ok(n) if n >= 0 => Some(n as u64),
            Ok(n) => {
                d.error(
                    value.span(),
                    path,
                    format!("must not be negative, found `{n}`"),
                );
                None
            }
            Err(_) => {
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

/// A positive integer value that fits 32 bits.
pub(crate) fn count32(
    d: &mut Diagnostics<'_>,
    value: &Value<'_>,
    path: &str,
) -> Option<NonZeroU32> {
    let n = unsigned(d, value, path)?;
    match u32::try_from(n).ok().and_then(NonZeroU32::new) {
        Some(c) => Some(c),
        None if n == 0 => {
            d.error(value.span(), path, "must be at least 1");
            None
        }
        None => {
            d.error(value.span(), path, format!("`{n}` is too large"));
            None
        }
    }
}

/// The elements of an array value; a single non-array value counts as a one-element list.
pub(crate) fn list<'t, 'i>(value: &'t Value<'i>) -> Vec<&'t Value<'i>> {
    match value.get_ref() {
        DeValue::Array(items) => items.iter().collect(),
        _ => vec![value],
    }
}
