//! Property tests of the scenario's typed units (`scenario::units`): durations and sizes that
//! are written back as text read back as the same value, generated `<number><unit>` texts
//! read as exact integer arithmetic says (or are refused past the limits), and no text at all
//! makes the parsers panic. Case counts are set here so that the file runs in well under a
//! second; `PROPTEST_CASES=N` searches longer.

use std::time::Duration;

use nitro_scenario::scenario::units::{
    MAX_DURATION, format_duration, format_size, parse_duration, parse_size,
};
use proptest::prelude::*;

/// Duration units and their length in nanoseconds, as a person may write them.
const DURATION_UNITS: &[(&str, u128)] = &[
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("sec", 1_000_000_000),
    ("m", 60_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Size units and their factor in bytes.
const SIZE_UNITS: &[(&str, u128)] = &[
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

/// `default` cases, or `PROPTEST_CASES` when set.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// A decimal number as a person writes it, and its value as `(numerator, 10^fraction digits)`:
/// `7`, `1.5`, `.25`, `0.001`, and now and then a long one.
fn decimal() -> impl Strategy<Value = (String, u128, u128)> {
    let whole = prop_oneof![
        1 => Just(0u64),
        3 => 0u64..10_000,
        1 => any::<u64>(),
    ];
    (whole, proptest::option::of("[0-9]{1,6}"), any::<bool>()).prop_map(
        |(whole, fraction, bare_point)| match fraction {
            None => (whole.to_string(), u128::from(whole), 1),
            Some(f) => {
                let scale = 10u128.pow(f.len() as u32);
                let numerator = u128::from(whole) * scale + f.parse::<u128>().unwrap();
                // `.5` as well as `0.5`.
                let text = if bare_point && whole == 0 {
                    format!(".{f}")
                } else {
                    format!("{whole}.{f}")
                };
                (text, numerator, scale)
            }
        },
    )
}

/// `numerator / scale * factor`, rounded half up, as the parsers promise.
fn scaled(numerator: u128, scale: u128, factor: u128) -> u128 {
    (numerator * factor + scale / 2) / scale
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_text_is_a_duration_or_an_error(text in "\\PC{0,40}") {
        if let Ok(d) = parse_duration(&text) {
            prop_assert!(d <= MAX_DURATION, "{text:?} gave {d:?}");
        }
    }

    #[test]
    fn any_text_is_a_size_or_an_error(text in "\\PC{0,40}") {
        let _ = parse_size(&text);
    }

    #[test]
    fn unit_like_text_never_panics(
        text in "[-0-9. ]{0,30}(us|µs|ms|s|sec|m|min|h|B|KiB|MB|GiB|x)?[0-9. smh]{0,10}"
    ) {
        let _ = parse_duration(&text);
        let _ = parse_size(&text);
    }

    #[test]
    fn a_written_duration_reads_back_the_same(
        count in 0..=MAX_DURATION.as_micros() as u64,
        grain in prop::sample::select(&[1u64, 1_000, 1_000_000, 60_000_000, 3_600_000_000][..]),
    ) {
        // Whole hours, minutes, seconds and milliseconds too, not only odd microseconds.
        let d = Duration::from_micros(count / grain * grain);
        let text = format_duration(d);
        prop_assert_eq!(parse_duration(&text), Ok(d), "written as {}", text);
    }

    #[test]
    fn a_written_size_reads_back_the_same(bytes in any::<u64>()) {
        let text = format_size(bytes);
        prop_assert_eq!(parse_size(&text), Ok(bytes), "written as {}", text);
    }

    #[test]
    fn durations_in_parts_add_up_exactly(
        parts in proptest::collection::vec((decimal(), 0..DURATION_UNITS.len(), " ?"), 1..4),
        padding in " {0,2}",
    ) {
        let mut text = padding.clone();
        let mut total_ns: u128 = 0;
        for ((number, numerator, scale), unit, gap) in &parts {
            let (name, ns) = DURATION_UNITS[*unit];
            text.push_str(&format!("{number}{gap}{name}"));
            total_ns += scaled(*numerator, *scale, ns);
        }
        text.push_str(&padding);
        match parse_duration(&text) {
            Ok(d) => prop_assert_eq!(d.as_nanos(), total_ns, "{:?}", text),
            Err(e) => {
                prop_assert!(total_ns > MAX_DURATION.as_nanos(), "{text:?}: {e}");
                prop_assert!(e.contains("too long"), "{text:?}: {e}");
            }
        }
    }

    #[test]
    fn sizes_with_units_are_exact(
        (number, numerator, scale) in decimal(),
        unit in 0..SIZE_UNITS.len(),
        gap in " ?",
    ) {
        let (name, factor) = SIZE_UNITS[unit];
        let gap = if name.is_empty() { "" } else { gap.as_str() };
        let text = format!("{number}{gap}{name}");
        let bytes = scaled(numerator, scale, factor);
        match parse_size(&text) {
            Ok(parsed) => prop_assert_eq!(u128::from(parsed), bytes, "{:?}", text),
            Err(e) => {
                prop_assert!(bytes > u128::from(u64::MAX), "{text:?}: {e}");
                prop_assert!(e.contains("too large"), "{text:?}: {e}");
            }
        }
    }
}

/// Found by `durations_in_parts_add_up_exactly`: `1m.5s` was once read as the unit `m.`; a
/// unit ends at a `.` as well as at a digit.
#[test]
fn a_bare_fraction_after_a_unit_is_a_part() {
    assert_eq!(parse_duration("1m.5s"), Ok(Duration::from_millis(60_500)));
    assert_eq!(parse_duration("0us.0us"), Ok(Duration::ZERO));
}
