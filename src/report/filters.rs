//! Number and text formatting shared by every renderer: the minijinja filters templates use
//! (`fixed`, `spread`, `rate`, `thousands`, `bytes`, `cell`) and the same functions for the
//! views built in Rust (failure lists, the stderr summary, the progress bar, chart tick
//! labels), so a figure reads the same everywhere. A figure that does not exist (`none`) reads
//! `-` through `fixed`, `spread` and `rate`.

use minijinja::{Environment, Error, ErrorKind, Value};

use crate::metrics::Spread;

/// Make the filters available to templates.
pub(crate) fn register(env: &mut Environment<'_>) {
    env.add_filter("fixed", fixed);
    env.add_filter("spread", spread);
    env.add_filter("rate", rate_filter);
    env.add_filter("thousands", thousands);
    env.add_filter("bytes", bytes);
    env.add_filter("cell", cell);
}

/// `value` with `decimals` decimals and a comma between thousands: `12,345.68`.
pub(crate) fn grouped(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if !value.is_finite() {
        return text;
    }
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    // A value that rounds to zero loses its sign too.
    let sign = if unsigned.chars().all(|c| c == '0' || c == '.') {
        ""
    } else {
        sign
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Decimals that show a rate to 3 significant digits, none past the units: 11,886 and 423
/// stay whole, 55.4, 5.43 and 0.496 keep theirs (at most 6 decimals).
pub(crate) fn rate_decimals(value: f64) -> usize {
    if !value.is_finite() || value == 0.0 {
        return 0;
    }
    let magnitude = value.abs().log10().floor() as i32;
    (2 - magnitude).clamp(0, 6) as usize
}

/// A rate (requests or tokens per second) to 3 significant digits: `11,886`, `0.496`.
pub(crate) fn rate(value: f64) -> String {
    grouped(value, rate_decimals(value))
}

/// A rate's median, with `± MAD` in the median's decimals when asked: `55.4 ± 0.3`.
pub(crate) fn rate_spread(s: Spread, show_mad: bool) -> String {
    let decimals = rate_decimals(s.median);
    if show_mad {
        format!(
            "{} ± {}",
            grouped(s.median, decimals),
            grouped(s.mad, decimals)
        )
    } else {
        grouped(s.median, decimals)
    }
}

/// `{{ x | fixed(2) }}`: fixed decimals (2 by default), thousands separated; `-` for none.
pub(crate) fn fixed(value: Option<f64>, decimals: Option<usize>) -> String {
    value.map_or_else(|| "-".into(), |v| grouped(v, decimals.unwrap_or(2)))
}

/// A `{median, mad}` value as a `Spread`; `None` for none.
fn as_spread(value: &Value, filter: &str) -> Result<Option<Spread>, Error> {
    if value.is_none() {
        return Ok(None);
    }
    let get = |key: &str| -> Result<f64, Error> {
        f64::try_from(value.get_attr(key)?).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("`{filter}` needs a {{median, mad}}, got `{value}`"),
            )
        })
    };
    Ok(Some(Spread {
        median: get("median")?,
        mad: get("mad")?,
    }))
}

/// `{{ s | spread(2, show_mad) }}`: a `{median, mad}` as its median, with `± MAD` when asked;
/// `-` for none.
pub(crate) fn spread(value: Value, decimals: usize, show_mad: bool) -> Result<String, Error> {
    Ok(match as_spread(&value, "spread")? {
        None => "-".into(),
        Some(s) if show_mad => format!(
            "{} ± {}",
            grouped(s.median, decimals),
            grouped(s.mad, decimals)
        ),
        Some(s) => grouped(s.median, decimals),
    })
}

/// `{{ x | rate }}`, `{{ s | rate(show_mad) }}`: a rate, or a `{median, mad}` of rates, to 3
/// significant digits (see `rate`); `-` for none.
fn rate_filter(value: Value, show_mad: Option<bool>) -> Result<String, Error> {
    if let Ok(number) = f64::try_from(value.clone()) {
        return Ok(rate(number));
    }
    Ok(as_spread(&value, "rate")?
        .map_or_else(|| "-".into(), |s| rate_spread(s, show_mad.unwrap_or(false))))
}

/// `{{ n | thousands }}`: `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    grouped(n as f64, 0)
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

/// `{{ text | cell }}`: text safe inside a Markdown table cell (`|` escaped, one line).
pub(crate) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(grouped(8049.4, 0), "8,049");
        assert_eq!(grouped(-12345.678, 2), "-12,345.68");
        assert_eq!(grouped(-0.0001, 2), "0.00");
        assert_eq!(grouped(-0.0, 1), "0.0");
        assert_eq!(grouped(f64::NAN, 1), "NaN");
        assert_eq!(fixed(Some(1.23456), Some(1)), "1.2");
        assert_eq!(fixed(Some(26402.13), None), "26,402.13");
        assert_eq!(fixed(None, Some(1)), "-");
    }

    #[test]
    fn bytes_and_cells() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(32768.0), "32.0 KiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0), "1.5 MiB");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn spreads_show_the_mad_when_asked() {
        let s = Value::from(minijinja::value::Serde(crate::metrics::Spread {
            median: 12_345.678,
            mad: 0.5,
        }));
        assert_eq!(spread(s.clone(), 1, true).unwrap(), "12,345.7 ± 0.5");
        assert_eq!(spread(s, 1, false).unwrap(), "12,345.7");
        let err = spread(Value::from(3), 1, false).unwrap_err().to_string();
        assert!(err.contains("`spread` needs"), "{err}");
        assert_eq!(spread(Value::from(()), 2, true).unwrap(), "-");
    }

    #[test]
    fn rates_keep_three_significant_digits() {
        // A 429 route waiting out Retry-After: half a request per second, not `0`.
        assert_eq!(rate(0.496), "0.496");
        assert_eq!(rate(0.0496), "0.0496");
        assert_eq!(rate(5.432), "5.43");
        assert_eq!(rate(55.43), "55.4");
        assert_eq!(rate(423.4), "423");
        assert_eq!(rate(11_886.2), "11,886");
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(1e-9), "0.000000");
        let slow = Spread {
            median: 0.496,
            mad: 0.0125,
        };
        assert_eq!(rate_spread(slow, true), "0.496 ± 0.013");
        assert_eq!(rate_spread(slow, false), "0.496");
        let s = Value::from(minijinja::value::Serde(slow));
        assert_eq!(rate_filter(s, Some(true)).unwrap(), "0.496 ± 0.013");
        assert_eq!(rate_filter(Value::from(2_599.5), None).unwrap(), "2,600");
        assert_eq!(rate_filter(Value::from(()), Some(true)).unwrap(), "-");
    }
}
