//! Number and text formatting shared by every renderer: the minijinja filters templates use
//! (`fixed`, `spread`, `thousands`, `bytes`, `cell`) and the same functions for the views built
//! in Rust (failure lists, the stderr summary, chart tick labels), so a figure reads the same
//! everywhere.

use minijinja::{Environment, Error, ErrorKind, Value};

/// Make the filters available to templates.
pub(crate) fn register(env: &mut Environment<'_>) {
    env.add_filter("fixed", fixed);
    env.add_filter("spread", spread);
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

/// `{{ x | fixed(2) }}`: fixed decimals (2 by default), thousands separated.
pub(crate) fn fixed(value: f64, decimals: Option<usize>) -> String {
    grouped(value, decimals.unwrap_or(2))
}

/// `{{ s | spread(2, show_mad) }}`: a `{median, mad}` as its median, with `± MAD` when asked.
pub(crate) fn spread(value: Value, decimals: usize, show_mad: bool) -> Result<String, Error> {
    let get = |key: &str| -> Result<f64, Error> {
        f64::try_from(value.get_attr(key)?).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("`spread` needs a {{median, mad}}, got `{value}`"),
            )
        })
    };
    let (median, mad) = (get("median")?, get("mad")?);
    Ok(if show_mad {
        format!("{} ± {}", grouped(median, decimals), grouped(mad, decimals))
    } else {
        grouped(median, decimals)
    })
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
        assert_eq!(fixed(1.23456, Some(1)), "1.2");
        assert_eq!(fixed(26402.13, None), "26,402.13");
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
    }
}
