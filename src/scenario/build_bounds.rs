//! A threshold's bound, typed by its figure's unit: a comparison and a number in that unit —
//! a duration for times (`"< 250ms"`), a rate (`"> 5000"`, `"> 5000 req/s"`), a share with
//! `%` (`">= 99.5%"`), a count or a count's share of the run's requests (`"== 0"`,
//! `"< 1%"`) — or `true`/`false` for a yes-or-no figure.

use toml::de::DeValue;

use super::read::{Value, shown};
use super::thresholds::{Bound, Op};
use super::units::parse_duration;
use crate::judge::Measure;
use crate::judge::figures::Unit;

/// The bound `value` gives `figure`, or what is wrong with it.
pub(super) fn bound(value: &Value<'_>, figure: &Measure) -> Result<Bound, String> {
    let unit = figure.unit();
    match (unit, value.get_ref()) {
        (Unit::Bool, DeValue::Boolean(b)) => Ok(Bound::Is(*b)),
        (Unit::Bool, other) => Err(format!(
            "`{}` is yes or no: write `true` or `false`, found {}",
            figure.key(),
            other.type_str()
        )),
        (_, DeValue::String(text)) => compare(text, unit),
        (_, DeValue::Integer(_) | DeValue::Float(_)) => Err(format!(
            "`{}` has no comparison; write e.g. `\"{}\"`",
            shown(value),
            example(unit)
        )),
        (_, other) => Err(format!(
            "expected a bound such as `\"{}\"`, found {}",
            example(unit),
            other.type_str()
        )),
    }
}

/// What may follow the number of a request-rate bound (`"> 5000 req/s"`).
pub(super) const REQUEST_RATE_UNITS: &[&str] = &["req/s", "rps"];
/// What may follow the number of a token-rate bound (`"> 500 tokens/s"`).
pub(super) const TOKEN_RATE_UNITS: &[&str] = &["tokens/s"];

/// A bound as a unit writes it, for messages.
pub(super) fn example(unit: Unit) -> &'static str {
    match unit {
        Unit::Ms => "< 250ms",
        Unit::RequestsPerSec => "> 1000 req/s",
        Unit::TokensPerSec => "> 500 tokens/s",
        Unit::Percent => ">= 99.5%",
        Unit::PercentOfRequests => "< 10%",
        Unit::Count => "== 0",
        Unit::Bool => "false",
    }
}

/// `OP NUMBER[UNIT]` for a figure of `unit`.
fn compare(text: &str, unit: Unit) -> Result<Bound, String> {
    let written = text.trim();
    let Some((op, rest)) = Op::ALL
        .iter()
        .find_map(|op| Some((*op, written.strip_prefix(op.sign())?.trim())))
    else {
        return Err(format!(
            "`{written}` has no comparison; start it with `<`, `<=`, `>`, `>=` or `==`, e.g. \
             `{}`",
            example(unit)
        ));
    };
    if rest.is_empty() {
        return Err(format!(
            "`{written}` has no number; write e.g. `{}`",
            example(unit)
        ));
    }
    let share = rest.strip_suffix('%').map(str::trim);
    let (limit, per_100_requests) = match unit {
        Unit::Ms => match parse_duration(rest) {
            Ok(d) => (d.as_nanos() as f64 / 1e6, false),
            Err(_) if number(rest).is_ok() => {
                return Err(format!(
                    "`{written}` has no unit; write e.g. `{} {rest}ms`",
                    op.sign()
                ));
            }
            Err(e) => return Err(e),
        },
        Unit::RequestsPerSec => (number(strip_unit(rest, REQUEST_RATE_UNITS))?, false),
        Unit::TokensPerSec => (number(strip_unit(rest, TOKEN_RATE_UNITS))?, false),
        Unit::Percent | Unit::PercentOfRequests => match share {
            Some(n) => (number(n)?, false),
            None => {
                return Err(format!(
                    "`{written}`: write the share with `%`, e.g. `{}`",
                    example(unit)
                ));
            }
        },
        Unit::Count => match share {
            Some(n) => (number(n)?, true),
            None => (number(rest)?, false),
        },
        Unit::Bool => return Err("write `true` or `false`".into()),
    };
    Ok(Bound::Compare {
        op,
        limit,
        per_100_requests,
        written: written.to_string(),
    })
}

/// `text` without one of `units` at its end.
fn strip_unit<'a>(text: &'a str, units: &[&str]) -> &'a str {
    units
        .iter()
        .find_map(|u| text.strip_suffix(u))
        .map_or(text, str::trim)
}

/// A number ≥ 0, `_` between digits allowed.
fn number(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{text}` is not a number ≥ 0"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, unit: Unit) -> Result<(Op, f64, bool), String> {
        match compare(text, unit)? {
            Bound::Compare {
                op,
                limit,
                per_100_requests,
                ..
            } => Ok((op, limit, per_100_requests)),
            Bound::Is(_) => unreachable!("compare gives comparisons"),
        }
    }

    #[test]
    fn bounds_are_read_in_their_figures_units() {
        assert_eq!(parse("< 250ms", Unit::Ms), Ok((Op::Below, 250.0, false)));
        assert_eq!(parse("<=1.5s", Unit::Ms), Ok((Op::AtMost, 1500.0, false)));
        assert_eq!(parse("< 500us", Unit::Ms), Ok((Op::Below, 0.5, false)));
        assert_eq!(
            parse("> 5_000", Unit::RequestsPerSec),
            Ok((Op::Above, 5000.0, false))
        );
        assert_eq!(
            parse(">= 12.5 req/s", Unit::RequestsPerSec),
            Ok((Op::AtLeast, 12.5, false))
        );
        assert_eq!(
            parse("> 500 tokens/s", Unit::TokensPerSec),
            Ok((Op::Above, 500.0, false))
        );
        assert_eq!(
            parse(">= 99.5%", Unit::Percent),
            Ok((Op::AtLeast, 99.5, false))
        );
        assert_eq!(parse("== 0", Unit::Count), Ok((Op::Equal, 0.0, false)));
        assert_eq!(parse("< 1 %", Unit::Count), Ok((Op::Below, 1.0, true)));
    }

    #[test]
    fn bad_bounds_say_how_to_write_them() {
        let err = |text: &str, unit: Unit| parse(text, unit).unwrap_err();
        assert_eq!(
            err("< 250", Unit::Ms),
            "`< 250` has no unit; write e.g. `< 250ms`"
        );
        assert_eq!(
            err("250ms", Unit::Ms),
            "`250ms` has no comparison; start it with `<`, `<=`, `>`, `>=` or `==`, e.g. \
             `< 250ms`"
        );
        assert_eq!(
            err(">= 99.5", Unit::Percent),
            "`>= 99.5`: write the share with `%`, e.g. `>= 99.5%`"
        );
        assert_eq!(
            err("> -3", Unit::RequestsPerSec),
            "`-3` is not a number ≥ 0"
        );
        assert_eq!(
            err("> fast", Unit::RequestsPerSec),
            "`fast` is not a number"
        );
        assert_eq!(
            err("<", Unit::Count),
            "`<` has no number; write e.g. `== 0`"
        );
        let parsecs = err("< 2 parsecs", Unit::Ms);
        assert!(parsecs.contains("parsecs"), "{parsecs}");
    }
}
