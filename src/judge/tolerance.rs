//! `--fail-on` tolerances: how much worse a figure may get before the comparison fails.
//!
//! `latency_p99=+5%` lets the p99 latency rise by 5% of the base median; `throughput=-3%` lets
//! throughput drop by 3%; a number without `%` is in the figure's own unit (`retries=+10`
//! retries per 100 requests, `latency_p99=+0.5` ms, `success_rate=-1` point). The sign, when written, must point the figure's worse way.

use serde::Serialize;

use super::JudgeError;
use super::figures::{Better, FIGURES, Figure, figure};

/// How far a figure may move its worse way.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Limit {
    /// A share of the base median: 0.05 for `5%`.
    Relative(f64),
    /// An amount in the figure's unit.
    Absolute(f64),
}

/// One tolerance.
#[derive(Debug, Clone, Serialize)]
pub struct Tolerance {
    /// The figure's key.
    pub figure: &'static str,
    /// How far it may move its worse way.
    pub limit: Limit,
    /// The tolerance as written (`latency_p99=+5%`).
    pub spec: String,
}

impl Tolerance {
    /// Whether moving from `base` to `new` takes the figure past this tolerance its worse way.
    /// From a base of 0, any worsening is past a relative tolerance.
    pub fn exceeded(&self, base: f64, new: f64) -> bool {
        let Some(f) = figure(self.figure) else {
            return false;
        };
        let worse_by = match f.better {
            Better::Lower => new - base,
            Better::Higher => base - new,
        };
        if worse_by <= 0.0 {
            return false;
        }
        match self.limit {
            Limit::Relative(_) if base == 0.0 => true,
            Limit::Relative(share) => worse_by / base.abs() > share,
            Limit::Absolute(amount) => worse_by > amount,
        }
    }
}

/// Parse `--fail-on` values (each already split at commas); a figure may be named once.
pub fn parse(specs: &[String]) -> Result<Vec<Tolerance>, JudgeError> {
    let mut out: Vec<Tolerance> = Vec::with_capacity(specs.len());
    for spec in specs {
        let tolerance = parse_one(spec.trim())?;
        if out.iter().any(|t| t.figure == tolerance.figure) {
            return Err(fail(
                spec,
                format!("`{}` has a tolerance already", tolerance.figure),
            ));
        }
        out.push(tolerance);
    }
    Ok(out)
}

fn fail(spec: &str, message: String) -> JudgeError {
    JudgeError::FailOn {
        spec: spec.to_string(),
        message,
    }
}

fn parse_one(spec: &str) -> Result<Tolerance, JudgeError> {
    let Some((key, change)) = spec.split_once('=') else {
        return Err(fail(
            spec,
            "expected FIGURE=CHANGE, e.g. `latency_p99=+5%` or `throughput=-3%`".into(),
        ));
    };
    let key = key.trim();
    let f = figure(key).ok_or_else(|| fail(spec, unknown_figure(key)))?;
    let change = change.trim();
    let (sign, rest) = match change.as_bytes().first() {
        Some(b'+') => (Some(Better::Lower), &change[1..]),
        Some(b'-') => (Some(Better::Higher), &change[1..]),
        _ => (None, change),
    };
    if let Some(sign) = sign {
        if sign != f.better {
            return Err(fail(spec, wrong_sign(f)));
        }
    }
    let (number, relative) = match rest.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (rest.trim(), false),
    };
    let amount: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| {
            fail(
                spec,
                format!("`{change}` is not a change; write e.g. `+5%`, `-3%` or `+10`"),
            )
        })?;
    Ok(Tolerance {
        figure: f.key,
        limit: if relative {
            Limit::Relative(amount / 100.0)
        } else {
            Limit::Absolute(amount)
        },
        spec: spec.to_string(),
    })
}

fn unknown_figure(key: &str) -> String {
    let hint = FIGURES
        .iter()
        .map(|f| (strsim::jaro_winkler(key, f.key), f.key))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    let all: Vec<&str> = FIGURES.iter().map(|f| f.key).collect();
    format!(
        "`{key}` is not a figure{hint} (figures: {})",
        all.join(", ")
    )
}

fn wrong_sign(f: &Figure) -> String {
    match f.better {
        Better::Lower => format!(
            "lower `{}` is better, so its tolerance is a rise: `{}=+5%`",
            f.key, f.key
        ),
        Better::Higher => format!(
            "higher `{}` is better, so its tolerance is a drop: `{}=-3%`",
            f.key, f.key
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> Result<Tolerance, String> {
        parse(&[spec.to_string()])
            .map(|mut v| v.remove(0))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn relative_and_absolute_limits() {
        let p99 = one("latency_p99=+5%").unwrap();
        assert_eq!(
            (p99.figure, p99.limit),
            ("latency_p99", Limit::Relative(0.05))
        );
        assert!(!p99.exceeded(10.0, 10.5));
        assert!(p99.exceeded(10.0, 10.6));
        assert!(!p99.exceeded(10.0, 5.0), "better is never past a tolerance");
        let rps = one(" throughput = -3% ").unwrap();
        assert!(rps.exceeded(100.0, 96.9));
        assert!(!rps.exceeded(100.0, 97.5));
        assert!(!rps.exceeded(100.0, 200.0));
        let retries = one("retries=10").unwrap();
        assert_eq!(retries.limit, Limit::Absolute(10.0));
        assert!(retries.exceeded(0.0, 10.5));
        assert!(!retries.exceeded(0.0, 10.0));
        // From zero, any rise is past a relative tolerance.
        assert!(one("retries=+50%").unwrap().exceeded(0.0, 1.0));
        assert!(!one("retries=+50%").unwrap().exceeded(0.0, 0.0));
        let success = one("success_rate=-1").unwrap();
        assert!(success.exceeded(100.0, 98.9));
        assert!(!success.exceeded(100.0, 99.0));
    }

    #[test]
    fn bad_tolerances_say_how_to_write_them() {
        let err = one("latency_p99=-5%").unwrap_err();
        assert_eq!(
            err,
            "`--fail-on latency_p99=-5%`: lower `latency_p99` is better, so its tolerance is a rise: `latency_p99=+5%`"
        );
        let err = one("throughput=+3%").unwrap_err();
        assert!(err.contains("its tolerance is a drop"), "{err}");
        let err = one("latency_p98=+5%").unwrap_err();
        assert!(err.contains("did you mean `latency_p99`?"), "{err}");
        assert!(err.contains("figures: throughput, success_rate"), "{err}");
        let err = one("latency_p99").unwrap_err();
        assert!(err.contains("expected FIGURE=CHANGE"), "{err}");
        let err = one("latency_p99=+five%").unwrap_err();
        assert!(err.contains("`+five%` is not a change"), "{err}");
        let err = parse(&["retries=1".into(), "retries=2".into()]).unwrap_err();
        assert!(err.to_string().contains("has a tolerance already"), "{err}");
    }
}
