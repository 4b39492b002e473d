//! Typed values written as text in scenario files: durations (`"30s"`, `"250ms"`, `"1m30s"`)
//! and sizes (`"32KiB"`, `1024`), with the serde helpers that write durations back as text.
//!
//! Both are parsed with integer arithmetic (no floating point), so `"0.1s"` is exactly 100 ms
//! and no input, however long, can overflow or panic: values past the limits are errors.

use std::time::Duration;

/// The longest duration a scenario may ask for: 365 days. Longer values are surely typos, and
/// keeping every duration below it lets the runner add durations to instants without overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Duration units: what may follow a number, and its length in nanoseconds.
pub(crate) const DURATION_UNITS: &[(&str, u128)] = &[
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("sec", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parse a duration: one or more `<number><unit>` parts (`"1m30s"`, `"1.5s"`, `"1m 30s"`),
/// units `us` (or `µs`), `ms`, `s` (or `sec`), `m` (or `min`), `h`; a bare `0` is zero.
/// Durations are at most [`MAX_DURATION`] and never negative.
///
/// ```
/// use std::time::Duration;
/// use nitro_scenario::scenario::units::parse_duration;
///
/// assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
/// assert!(parse_duration("30").is_err(), "a unit is required");
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let written = text;
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration; write e.g. `30s`, `250ms` or `1m30s`".into());
    }
    if text.starts_with('-') {
        return Err(format!(
            "`{written}` is negative; negative durations are not allowed"
        ));
    }
    let mut total_ns: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{written}` is not a duration; write e.g. `30s`, `250ms` or `1m30s`"
            ));
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let unit = unit.trim();
        let unit_ns = match DURATION_UNITS.iter().find(|(name, _)| *name == unit) {
            Some((_, ns)) => *ns,
            None if unit.is_empty() => {
                return Err(format!(
                    "`{written}` has no unit; write e.g. `{number}s` or `{number}ms`"
                ));
            }
            None => {
                return Err(format!(
                    "unknown unit `{unit}` in `{written}`; use us, ms, s, m or h"
                ));
            }
        };
        let too_long = || {
            format!(
                "`{written}` is too long; durations are at most {} (365 days)",
                format_duration(MAX_DURATION)
            )
        };
        let part = Decimal::parse(number)
            .ok_or_else(|| format!("`{number}` in `{written}` is not a number"))?
            .times(unit_ns)
            .ok_or_else(too_long)?;
        total_ns = total_ns.checked_add(part).ok_or_else(too_long)?;
        if total_ns > MAX_DURATION.as_nanos() {
            return Err(too_long());
        }
        rest = next;
    }
    let secs = u64::try_from(total_ns / 1_000_000_000).expect("at most MAX_DURATION");
    let nanos = u32::try_from(total_ns % 1_000_000_000).expect("below one second");
    Ok(Duration::new(secs, nanos))
}

/// A non-negative decimal number as written: digits, optionally a `.` and more digits.
struct Decimal<'a> {
    whole: &'a str,
    fraction: &'a str,
}

impl<'a> Decimal<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        (!(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction))
            .then_some(Self { whole, fraction })
    }

    /// `self * factor`, rounded to the nearest integer; `None` on overflow.
    fn times(&self, factor: u128) -> Option<u128> {
        let whole: u128 = if self.whole.is_empty() {
            0
        } else {
            // More digits than u128 holds fail to parse: that is an overflow too.
            self.whole.parse().ok()?
        };
        // Digits past the 18th cannot change the result for any factor used here (at most
        // an hour in nanoseconds), and 18 keep the product below `u128::MAX`.
        let fraction = &self.fraction[..self.fraction.len().min(18)];
        let scale = 10u128.pow(u32::try_from(fraction.len()).ok()?);
        let numerator: u128 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().ok()?
        };
        let part = numerator.checked_mul(factor)?;
        let rounded = (part + scale / 2) / scale;
        whole.checked_mul(factor)?.checked_add(rounded)
    }
}

/// Write a duration the way a person would: `250ms`, `30s`, `1m30s`, `1.5s`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros == 0 {
        return "0s".into();
    }
    if micros % 1_000_000 == 0 {
        let secs = micros / 1_000_000;
        return match (secs / 3600, secs % 3600 / 60, secs % 60) {
            (0, 0, s) => format!("{s}s"),
            (0, m, 0) => format!("{m}m"),
            (0, m, s) => format!("{m}m{s}s"),
            (h, 0, 0) => format!("{h}h"),
            (h, m, s) => format!("{h}h{m}m{s}s"),
        };
    }
    if micros % 1000 == 0 {
        let ms = micros / 1000;
        return if ms < 1000 {
            format!("{ms}ms")
        } else {
            format!("{}s", ms as f64 / 1000.0)
        };
    }
    format!("{micros}us")
}

/// Size units: what may follow a number, and its size in bytes.
pub(crate) const SIZE_UNITS: &[(&str, u128)] = &[
    ("", 1),
    ("B", 1),
    ("KB", 1000),
    ("kB", 1000),
    ("KiB", 1 << 10),
    ("MB", 1_000_000),
    ("MiB", 1 << 20),
    ("GB", 1_000_000_000),
    ("GiB", 1 << 30),
];

/// Parse a size: a plain number of bytes, or `<number><unit>` with `B`, `KB`, `KiB`, `MB`,
/// `MiB`, `GB`, `GiB` (KB = 1000, KiB = 1024); fractions round to the nearest byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let written = text;
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!("`{written}` is negative; sizes cannot be negative"));
    }
    let digits = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let unit = unit.trim();
    let not_a_size = || format!("`{written}` is not a size; write e.g. `1024`, `32KiB` or `1MiB`");
    let number = Decimal::parse(number).ok_or_else(not_a_size)?;
    let Some((_, factor)) = SIZE_UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(format!(
            "unknown size unit `{unit}` in `{written}`; use B, KB, KiB, MB, MiB, GB or GiB"
        ));
    };
    number
        .times(*factor)
        .and_then(|bytes| u64::try_from(bytes).ok())
        .ok_or_else(|| format!("`{written}` is too large"))
}

/// Write a size the way a person would: `1KiB`, `256KiB`, `1MiB`, `1000B`.
pub fn format_size(bytes: u64) -> String {
    for (unit, factor) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= factor && bytes % factor == 0 {
            return format!("{}{unit}", bytes / factor);
        }
    }
    format!("{bytes}B")
}

/// Serde helper: a `Duration` written as text (`"30s"`) and read back from it.
pub mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Write `d` as text.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    /// Read a duration written as text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde helper: an `Option<Duration>` written as text or null.
pub mod option_duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Write `d` as text, or null.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    /// Read an optional duration written as text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| super::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_say_what_to_write() {
        assert_eq!(
            parse_duration("30").unwrap_err(),
            "`30` has no unit; write e.g. `30s` or `30ms`"
        );
        assert_eq!(
            parse_duration("3 days").unwrap_err(),
            "unknown unit `days` in `3 days`; use us, ms, s, m or h"
        );
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn durations_format_back_to_what_people_write() {
        for text in ["0s", "250ms", "30s", "1m", "1m30s", "2h", "1.5s", "500us"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn fractions_are_exact_and_parts_may_be_spaced() {
        assert_eq!(parse_duration("0.1s"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2.5µs"), Ok(Duration::from_nanos(2500)));
        assert_eq!(parse_duration(".5s"), Ok(Duration::from_millis(500)));
    }

    #[test]
    fn huge_and_negative_durations_are_errors_not_panics() {
        let limit = "durations are at most 8760h (365 days)";
        assert_eq!(
            parse_duration("99999999999999999999s").unwrap_err(),
            format!("`99999999999999999999s` is too long; {limit}")
        );
        assert!(
            parse_duration("10000000000000000000s10000000000000000000s")
                .unwrap_err()
                .ends_with(limit)
        );
        assert!(parse_duration(&"9".repeat(60)).is_err());
        assert!(parse_duration(&format!("{}h", "9".repeat(60))).is_err());
        assert!(parse_duration("8761h").unwrap_err().ends_with(limit));
        assert_eq!(parse_duration("8760h"), Ok(MAX_DURATION));
        assert_eq!(
            parse_duration("-5s").unwrap_err(),
            "`-5s` is negative; negative durations are not allowed"
        );
        assert!(parse_duration("1..5s").is_err());
        assert!(parse_duration(".s").is_err());
    }

    #[test]
    fn sizes_parse_binary_and_decimal_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("32KiB"), Ok(32 * 1024));
        assert_eq!(parse_size("256KiB"), Ok(262_144));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1KB"), Ok(1000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("2 MiB"), Ok(2 << 20));
        assert_eq!(
            parse_size("1 parsec").unwrap_err(),
            "unknown size unit `parsec` in `1 parsec`; use B, KB, KiB, MB, MiB, GB or GiB"
        );
    }

    #[test]
    fn huge_and_negative_sizes_are_errors_not_panics() {
        assert_eq!(
            parse_size("99999999999999999999999").unwrap_err(),
            "`99999999999999999999999` is too large"
        );
        assert_eq!(
            parse_size("17179869184GiB").unwrap_err(),
            "`17179869184GiB` is too large"
        );
        assert_eq!(
            parse_size("-1KiB").unwrap_err(),
            "`-1KiB` is negative; sizes cannot be negative"
        );
        assert!(parse_size("KiB").is_err());
    }

    #[test]
    fn sizes_format_in_the_largest_whole_unit() {
        assert_eq!(format_size(1024), "1KiB");
        assert_eq!(format_size(262_144), "256KiB");
        assert_eq!(format_size(1 << 30), "1GiB");
        assert_eq!(format_size(1000), "1000B");
    }
}
