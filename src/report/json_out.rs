//! `results.json`: the whole `RunReport`, plus `framework_results` (see `framework`).
//!
//! Every float is written rounded to `DECIMALS` decimals (0.1 µs for the millisecond figures,
//! whose medians of integer microseconds need four), so the file carries no float noise
//! (`0.028357999999999994`) and writing a report read back from it gives the same bytes.
//! Integers (counts, bytes, microseconds) are integers in the data and stay so.

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use super::framework::{FrameworkResult, framework};
use super::{ReportError, RunReport};

/// Decimals kept of every float.
const DECIMALS: i32 = 4;

#[derive(Serialize)]
struct ResultsFile<'a> {
    #[serde(flatten)]
    report: &'a RunReport,
    framework_results: Vec<FrameworkResult>,
}

/// Render `results.json` (also what `run --json` prints).
pub fn render(report: &RunReport) -> Result<String, ReportError> {
    let file = ResultsFile {
        report,
        framework_results: report.points.iter().map(|p| framework(report, p)).collect(),
    };
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        Rounding(PrettyFormatter::with_indent(b"  ")),
    );
    file.serialize(&mut ser).map_err(ReportError::Json)?;
    out.push(b'\n');
    // serde_json writes UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `x` rounded to `DECIMALS` decimals; `-0` written as `0`. Values too large for the
/// rounding to be exact (beyond 10^11) are left alone.
fn round(x: f64) -> f64 {
    let factor = 10f64.powi(DECIMALS);
    if !x.is_finite() || x.abs() >= 1e11 {
        return x;
    }
    let r = (x * factor).round() / factor;
    if r == 0.0 { 0.0 } else { r }
}

/// serde_json's pretty formatter, rounding floats on the way out.
struct Rounding<F>(F);

impl<F: Formatter> Formatter for Rounding<F> {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        self.0.write_f64(w, round(v))
    }
    fn write_f32<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f32) -> std::io::Result<()> {
        self.0.write_f64(w, round(f64::from(v)))
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_rounded_and_integers_untouched() {
        let value = serde_json::json!({
            "cpu_secs": 0.028357999999999994,
            "ms": 3.2015,
            "whole": 10.0,
            "neg_zero": -0.00001,
            "count": 18446744073709551615u64,
            "huge": 1.2345678912345e15,
        });
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            Rounding(PrettyFormatter::with_indent(b"")),
        );
        value.serialize(&mut ser).unwrap();
        let text = String::from_utf8(out).unwrap().replace('\n', "");
        assert_eq!(
            text,
            r#"{"count": 18446744073709551615,"cpu_secs": 0.0284,"huge": 1234567891234500.0,"ms": 3.2015,"neg_zero": 0.0,"whole": 10.0}"#
        );
    }
}
