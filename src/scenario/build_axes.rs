//! Reading one axis of `[matrix]` — a list, never a lone value, with distinct values — and the
//! user axes of `[matrix.axes]` (template variables whose typed values join point ids).
//! `build_matrix` reads the built-in axes with these pieces.

use toml::de::DeValue;

use super::diagnostics::{Diagnostics, is_override, is_unsafe};
use super::read::{self, Table, Value};
use super::{Axis, AxisValue, names};

/// The values of the axis at `key` of `m`; `None` when absent. An empty list, or a value that
/// is not a list, is a problem (and gives no values).
pub(super) fn items<'t, 'i>(
    d: &mut Diagnostics<'_>,
    m: &Table<'t, 'i>,
    key: &str,
) -> Option<Vec<&'t Value<'i>>> {
    let v = m.get(key)?;
    Some(list(d, v, key, &m.key_path(key)))
}

/// The values of the axis `name`, written at `path`: a single value is not taken for a list
/// (`route = "chat"` is a mistake; the fix is `route = ["chat"]`).
fn list<'t, 'i>(
    d: &mut Diagnostics<'_>,
    v: &'t Value<'i>,
    name: &str,
    path: &str,
) -> Vec<&'t Value<'i>> {
    let found = v.get_ref().type_str();
    match v.get_ref() {
        DeValue::Array(items) => {
            if items.is_empty() {
                d.error(v.span(), path, "an axis needs at least one value");
            }
            return items.iter().collect();
        }
        DeValue::Table(_) => d.error(
            v.span(),
            path,
            format!("an axis is a list of values, found {found}"),
        ),
        _ => {
            let value = read::as_toml(v);
            let fix = if is_override(&v.span()) {
                format!("--set '{path}=[{value}]'")
            } else {
                format!("{name} = [{value}]")
            };
            d.error(
                v.span(),
                path,
                format!("an axis is a list of values, found {found}; write `{fix}`"),
            );
        }
    }
    Vec::new()
}

/// The values of one axis as they are read: a bad or repeated value is recorded as a
/// problem and marks the axis invalid, but reading goes on so that every problem is found.
pub(super) struct Values<T> {
    list: Vec<T>,
    ok: bool,
}

impl<T> Values<T> {
    /// Values for an axis with `count` items (none is already a problem).
    pub(super) fn new(count: usize) -> Self {
        Self {
            list: Vec::new(),
            ok: count > 0,
        }
    }

    /// A value of the axis had a problem.
    pub(super) fn fail(&mut self) {
        self.ok = false;
    }

    /// Add `value`, read from `item`, unless an earlier value is the `same`: then `repeated`
    /// (given the earlier value) says what is wrong.
    pub(super) fn push(
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
    pub(super) fn finish(self) -> Option<Vec<T>> {
        self.ok.then_some(self.list)
    }
}

/// The names written under `[matrix.axes]` (valid or not), for checking templates even when
/// the matrix has problems.
pub(crate) fn axis_names(m: Option<&Table<'_, '_>>) -> Vec<String> {
    m.and_then(|m| m.get("axes"))
        .and_then(|axes| Table::of(axes, String::new()))
        .map(|axes| {
            axes.entries
                .iter()
                .map(|(k, _)| k.get_ref().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `[matrix.axes]`: every user axis in file order; `None` when any has a problem.
pub(super) fn user_axes(d: &mut Diagnostics<'_>, m: &Table<'_, '_>) -> Option<Vec<Axis>> {
    let Some(axes) = m.table(d, "axes") else {
        // Absent is no axes; present but not a table is reported.
        return m.get("axes").is_none().then(Vec::new);
    };
    let mut out = Some(Vec::new());
    for (key, value) in axes.in_file_order() {
        let name: &str = key.get_ref();
        let path = axes.key_path(name);
        let named = names::check_axis_name(name)
            .map_err(|e| d.error(key.span(), &path, e))
            .is_ok();
        if let Some((builtin, meaning)) = names::near_builtin(name).filter(|_| named) {
            d.warn(
                key.span(),
                &path,
                format!(
                    "axis `{name}` is not the built-in `{builtin}`; did you mean `{builtin}`? \
                     ({meaning})"
                ),
            );
        }
        let values = user_axis(d, name, &path, value);
        match (out.as_mut(), named, values) {
            (Some(list), true, Some(values)) => list.push(Axis {
                name: name.to_string(),
                values,
            }),
            _ => out = None,
        }
    }
    out
}

/// The typed values of one user axis, distinct by their text (which joins the point id).
fn user_axis(
    d: &mut Diagnostics<'_>,
    name: &str,
    path: &str,
    value: &Value<'_>,
) -> Option<Vec<AxisValue>> {
    let items = list(d, value, name, path);
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
        DeValue::String(s) if s.chars().any(is_unsafe) => {
            d.error(
                item.span(),
                path,
                format!(
                    "`{s}` holds a control character, which an axis value may not (it names \
                     points in plans and reports)"
                ),
            );
            return None;
        }
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
