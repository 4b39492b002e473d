//! `report.md`: rendered by minijinja from the built-in template or a user's templates folder
//! (same file name), with strict undefined and small number-formatting filters.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::view::view;
use super::{ReportError, RunReport};

/// Name of the Markdown template, built in and looked up in a user's folder.
pub(crate) const TEMPLATE: &str = "report.md.j2";
const BUILT_IN: &str = include_str!("templates/report.md.j2");

/// Render `report.md`, with `templates` (a folder) overriding the built-in template.
pub(crate) fn render(report: &RunReport, templates: Option<&Path>) -> Result<String, ReportError> {
    let source = match templates.map(|dir| dir.join(TEMPLATE)) {
        Some(path) if path.is_file() => {
            std::fs::read_to_string(&path).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?
        }
        _ => BUILT_IN.to_string(),
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .build()
        .map_err(|e| ReportError::Template {
            name: TEMPLATE.into(),
            message: e.to_string(),
        })?;
    env.set_syntax(syntax);
    env.add_filter("fixed", fixed);
    env.add_filter("spread", spread);
    env.add_filter("thousands", thousands);
    env.add_filter("bytes", bytes);
    let fail = |e: minijinja::Error| ReportError::Template {
        name: TEMPLATE.into(),
        message: format!("{e:#}"),
    };
    env.add_template_owned(TEMPLATE, source).map_err(fail)?;
    let template = env.get_template(TEMPLATE).map_err(fail)?;
    let mut text = template
        .render(Value::from(minijinja::value::Serde(view(report))))
        .map_err(fail)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// `{{ x | fixed(2) }}`: fixed decimals.
fn fixed(value: f64, decimals: Option<usize>) -> String {
    format!("{value:.*}", decimals.unwrap_or(2))
}

/// `{{ spread | spread(2, show_mad) }}`: a median, with `± MAD` when asked and non-zero.
fn spread(value: Value, decimals: usize, show_mad: bool) -> Result<String, minijinja::Error> {
    let get = |key: &str| -> Result<f64, minijinja::Error> {
        let v = value.get_attr(key)?;
        f64::try_from(v).map_err(|_| {
            minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "spread needs {median, mad}",
            )
        })
    };
    let (median, mad) = (get("median")?, get("mad")?);
    Ok(if show_mad {
        format!("{median:.decimals$} ± {mad:.decimals$}")
    } else {
        format!("{median:.decimals$}")
    })
}

/// `{{ n | thousands }}`: `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `{{ n | bytes }}`: `512 B`, `32.0 KiB`, `1.5 MiB`, `2.0 GiB`.
pub(crate) fn bytes(n: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024.0 {
        return format!("{n:.0} B");
    }
    let mut value = n / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_filters() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(32768.0), "32.0 KiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0), "1.5 MiB");
        assert_eq!(fixed(1.23456, Some(1)), "1.2");
        let s = Value::from(minijinja::value::Serde(crate::metrics::Spread {
            median: 12.345,
            mad: 0.5,
        }));
        assert_eq!(spread(s.clone(), 1, true).unwrap(), "12.3 ± 0.5");
        assert_eq!(spread(s, 1, false).unwrap(), "12.3");
    }
}
