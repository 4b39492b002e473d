//! The figures a client reports: the benchmark framework's per-point JSON object, checked
//! field by field into [`ClientFigures`]. Unknown fields are ignored; a missing required
//! field, a wrong type, a negative number or an inconsistent count is an error naming the
//! origin (the results file or `stdout`), the field path, what was expected and what was
//! found. What a client does not report stays `None`, never zero.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One run's figures, as the client reported them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientFigures {
    /// The client's own label: `node`, `python`, `rust`.
    pub lang: String,
    /// Route path it sent to.
    pub route: String,
    /// Closed-loop workers it ran.
    pub concurrency: u64,
    /// Payload name; `None` when not reported (the framework's streaming client omits it).
    pub payload_size: Option<String>,
    /// Requests completed in the measure phase, failed ones included.
    pub reqs: u64,
    /// `reqs` per measure-phase second.
    pub throughput_rps: f64,
    /// Latency of successful requests, ms.
    pub latency_ms: Percentiles,
    /// Failed requests.
    pub errors: ErrorCounts,
    /// Successful requests / requests, percent; `None` when reported as `null` (no requests).
    pub success_rate: Option<f64>,
    /// When the client finished, as it wrote it.
    pub timestamp: Option<String>,
    /// What the client says it ran.
    pub test_config: Option<TestConfig>,
    /// Stream bytes per second (streams only).
    pub sse_bytes_per_sec: Option<f64>,
    /// Time to the first content, ms (streams only).
    pub time_to_first_ms: Option<Percentiles>,
    /// Response body bytes received in the measure phase (streams only).
    pub total_bytes: Option<u64>,
}

/// Three percentiles, ms; each `None` when reported as `null` (nothing recorded).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median, ms.
    pub p50: Option<f64>,
    /// 95th percentile, ms.
    pub p95: Option<f64>,
    /// 99th percentile, ms.
    pub p99: Option<f64>,
}

/// Failed requests of the measure phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    /// Answers with a non-2xx status.
    pub non2xx: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Every failure: at least `non2xx + timeouts`, at most `reqs`.
    pub total: u64,
}

/// The framework's `test_config`; every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestConfig {
    /// Route path.
    pub route: Option<String>,
    /// Closed-loop workers.
    pub concurrency: Option<u64>,
    /// Payload name.
    pub payload_size: Option<String>,
    /// Measure phase, seconds.
    pub duration_seconds: Option<f64>,
    /// Target base URL.
    pub mockoon_base: Option<String>,
}

/// Figures that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiguresError {
    /// The results file is not JSON.
    #[error("{origin}:{line}:{column}: not JSON: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// A field is missing, of the wrong type, or out of range.
    #[error("{origin}: `{path}`: expected {expected}, found {found}")]
    Field {
        /// The file, or `stdout`.
        origin: String,
        /// Dotted path of the field, `latency_ms.p95`; `(top level)` for the whole value.
        path: String,
        /// What the field must be.
        expected: String,
        /// What it is: a JSON excerpt in backticks, or `nothing`.
        found: String,
    },
    /// Neither a results file nor a JSON object on stdout.
    #[error("no results: `RESULTS_FILE` was not written and stdout holds no JSON object{ending}")]
    Missing {
        /// How stdout ended, if it said anything: `` (it ended: `...`)``.
        ending: String,
    },
    /// The results file could not be read.
    #[error("{origin}: cannot read: {message}")]
    Unreadable {
        /// The file.
        origin: String,
        /// The I/O error.
        message: String,
    },
}

/// Check `value`, read from `origin`, into figures.
pub fn parse_figures(value: &Value, origin: &str) -> Result<ClientFigures, FiguresError> {
    let Some(map) = value.as_object() else {
        return Err(FiguresError::Field {
            origin: origin.to_string(),
            path: "(top level)".into(),
            expected: "a JSON object".into(),
            found: excerpt(value),
        });
    };
    let top = Fields {
        origin,
        prefix: String::new(),
        map,
    };
    // Fields are checked in the order the framework writes them, so the first error is the
    // first bad field.
    let figures = ClientFigures {
        lang: top.string("lang")?,
        route: top.string("route")?,
        concurrency: top.count("concurrency")?,
        payload_size: top.optional(Fields::string, "payload_size")?,
        reqs: top.count("reqs")?,
        throughput_rps: top.number("throughput_rps")?,
        latency_ms: percentiles(&top.object("latency_ms")?)?,
        errors: error_counts(&top.object("errors")?)?,
        success_rate: top.nullable(Fields::number, "success_rate")?,
        timestamp: top.optional(Fields::string, "timestamp")?,
        test_config: top
            .optional(Fields::object, "test_config")?
            .map(|c| test_config(&c))
            .transpose()?,
        sse_bytes_per_sec: top.optional(Fields::number, "sse_bytes_per_sec")?,
        time_to_first_ms: top
            .optional(Fields::object, "time_to_first_ms")?
            .map(|p| percentiles(&p))
            .transpose()?,
        total_bytes: top.optional(Fields::count, "total_bytes")?,
    };
    consistent(&figures, &top)?;
    Ok(figures)
}

fn percentiles(p: &Fields<'_>) -> Result<Percentiles, FiguresError> {
    Ok(Percentiles {
        p50: p.nullable(Fields::number, "p50")?,
        p95: p.nullable(Fields::number, "p95")?,
        p99: p.nullable(Fields::number, "p99")?,
    })
}

fn error_counts(e: &Fields<'_>) -> Result<ErrorCounts, FiguresError> {
    Ok(ErrorCounts {
        non2xx: e.count("non2xx")?,
        timeouts: e.count("timeouts")?,
        total: e.count("total")?,
    })
}

fn test_config(c: &Fields<'_>) -> Result<TestConfig, FiguresError> {
    Ok(TestConfig {
        route: c.optional(Fields::string, "route")?,
        concurrency: c.optional(Fields::count, "concurrency")?,
        payload_size: c.optional(Fields::string, "payload_size")?,
        duration_seconds: c.optional(Fields::number, "duration_seconds")?,
        mockoon_base: c.optional(Fields::string, "mockoon_base")?,
    })
}

/// Counts that contradict each other, and a success rate beyond 100 %.
fn consistent(f: &ClientFigures, top: &Fields<'_>) -> Result<(), FiguresError> {
    let e = &f.errors;
    let named = e.non2xx.saturating_add(e.timeouts);
    if e.total < named {
        let expected = format!("at least `errors.non2xx + errors.timeouts` ({named})");
        return Err(top.error("errors.total", expected, format!("`{}`", e.total)));
    }
    if e.total > f.reqs {
        let expected = format!("at most `reqs` ({})", f.reqs);
        return Err(top.error("errors.total", expected, format!("`{}`", e.total)));
    }
    if let Some(rate) = f.success_rate.filter(|r| *r > 100.0) {
        let expected = "a percentage from 0 to 100".to_string();
        return Err(top.error("success_rate", expected, format!("`{rate}`")));
    }
    Ok(())
}

/// One JSON object being read, with its path for errors.
struct Fields<'a> {
    origin: &'a str,
    prefix: String,
    map: &'a Map<String, Value>,
}

type Read<'a, T> = fn(&Fields<'a>, &str) -> Result<T, FiguresError>;

impl<'a> Fields<'a> {
    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn error(&self, key: &str, expected: impl Into<String>, found: String) -> FiguresError {
        FiguresError::Field {
            origin: self.origin.to_string(),
            path: self.path(key),
            expected: expected.into(),
            found,
        }
    }

    /// The value of `key`, which must be there.
    fn value(&self, key: &str, expected: &str) -> Result<&'a Value, FiguresError> {
        self.map
            .get(key)
            .ok_or_else(|| self.error(key, expected, "nothing".into()))
    }

    /// `read` of `key` when present and not `null`.
    fn optional<T>(&self, read: Read<'a, T>, key: &str) -> Result<Option<T>, FiguresError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => read(self, key).map(Some),
        }
    }

    /// `read` of `key`, which must be present but may be `null`.
    fn nullable<T>(&self, read: Read<'a, T>, key: &str) -> Result<Option<T>, FiguresError> {
        match self.map.get(key) {
            Some(Value::Null) => Ok(None),
            _ => read(self, key).map(Some),
        }
    }

    fn string(&self, key: &str) -> Result<String, FiguresError> {
        const EXPECTED: &str = "a string";
        match self.value(key, EXPECTED)? {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.error(key, EXPECTED, excerpt(other))),
        }
    }

    /// A non-negative finite number.
    fn number(&self, key: &str) -> Result<f64, FiguresError> {
        const EXPECTED: &str = "a non-negative number";
        let value = self.value(key, EXPECTED)?;
        match value.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(n),
            _ => Err(self.error(key, EXPECTED, excerpt(value))),
        }
    }

    /// A non-negative whole number (`5.0` counts as `5`).
    fn count(&self, key: &str) -> Result<u64, FiguresError> {
        const EXPECTED: &str = "a non-negative integer";
        let value = self.value(key, EXPECTED)?;
        let whole = value
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n <= u64::MAX as f64);
        match (value.as_u64(), whole) {
            (Some(n), _) => Ok(n),
            (None, Some(n)) => Ok(n as u64),
            _ => Err(self.error(key, EXPECTED, excerpt(value))),
        }
    }

    fn object(&self, key: &str) -> Result<Fields<'a>, FiguresError> {
        const EXPECTED: &str = "an object";
        match self.value(key, EXPECTED)? {
            Value::Object(map) => Ok(Fields {
                origin: self.origin,
                prefix: format!("{}.", self.path(key)),
                map,
            }),
            other => Err(self.error(key, EXPECTED, excerpt(other))),
        }
    }
}

/// A value as an error quotes it: compact JSON in backticks, cut after 40 characters.
fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("`{}...`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What the framework's node client printed.
    fn seed() -> Value {
        json!({"lang":"node","route":"/v1/chat/completions","concurrency":32,"payload_size":"M",
            "reqs":120000,"throughput_rps":2000.1,"latency_ms":{"p50":2.1,"p95":3.7,"p99":7.2},
            "errors":{"non2xx":0,"timeouts":0,"total":0},"success_rate":100.0})
    }

    fn error(v: &Value) -> String {
        parse_figures(v, "stdout").unwrap_err().to_string()
    }

    #[test]
    fn the_frameworks_output_parses_and_absent_figures_stay_absent() {
        let f = parse_figures(&seed(), "stdout").unwrap();
        assert_eq!(f.lang, "node");
        assert_eq!((f.concurrency, f.reqs), (32, 120000));
        assert_eq!(f.latency_ms.p95, Some(3.7));
        assert_eq!(f.success_rate, Some(100.0));
        assert_eq!(f.payload_size.as_deref(), Some("M"));
        assert_eq!((f.timestamp, f.test_config), (None, None));
        assert_eq!(
            (f.sse_bytes_per_sec, f.time_to_first_ms, f.total_bytes),
            (None, None, None)
        );
    }

    #[test]
    fn stream_fields_nulls_and_extra_fields_are_read() {
        let mut v = seed();
        v["latency_ms"]["p99"] = Value::Null;
        v["success_rate"] = Value::Null;
        v["sse_bytes_per_sec"] = json!(1500.5);
        v["time_to_first_ms"] = json!({"p50": 1.0, "p95": 2.0, "p99": null});
        v["total_bytes"] = json!(9000.0);
        v["test_config"] = json!({"duration_seconds": 60, "mockoon_base": "http://x", "extra": 1});
        v["memory_mb"] = json!("whatever");
        let f = parse_figures(&v, "stdout").unwrap();
        assert_eq!(f.latency_ms.p99, None);
        assert_eq!(f.success_rate, None);
        assert_eq!(f.sse_bytes_per_sec, Some(1500.5));
        assert_eq!(f.time_to_first_ms.unwrap().p95, Some(2.0));
        assert_eq!(f.total_bytes, Some(9000));
        let c = f.test_config.unwrap();
        assert_eq!((c.duration_seconds, c.route), (Some(60.0), None));
    }

    #[test]
    fn each_bad_field_names_its_path_what_was_expected_and_what_was_found() {
        let cases: &[(&str, Value, &str)] = &[
            (
                "lang",
                Value::Null,
                "stdout: `lang`: expected a string, found `null`",
            ),
            (
                "reqs",
                json!(-1),
                "stdout: `reqs`: expected a non-negative integer, found `-1`",
            ),
            (
                "reqs",
                json!(1.5),
                "stdout: `reqs`: expected a non-negative integer, found `1.5`",
            ),
            (
                "throughput_rps",
                json!("fast"),
                "stdout: `throughput_rps`: expected a non-negative number, found `\"fast\"`",
            ),
            (
                "latency_ms",
                json!({"p50": 1, "p95": -2, "p99": 3}),
                "stdout: `latency_ms.p95`: expected a non-negative number, found `-2`",
            ),
            (
                "latency_ms",
                json!({"p50": 1, "p95": 2}),
                "stdout: `latency_ms.p99`: expected a non-negative number, found nothing",
            ),
            (
                "errors",
                json!([1, 2]),
                "stdout: `errors`: expected an object, found `[1,2]`",
            ),
            (
                "errors",
                json!({"non2xx": 3, "timeouts": 2, "total": 4}),
                "stdout: `errors.total`: expected at least `errors.non2xx + errors.timeouts` (5), found `4`",
            ),
            (
                "errors",
                json!({"non2xx": 0, "timeouts": 0, "total": 120001}),
                "stdout: `errors.total`: expected at most `reqs` (120000), found `120001`",
            ),
            (
                "success_rate",
                json!(101),
                "stdout: `success_rate`: expected a percentage from 0 to 100, found `101`",
            ),
            (
                "time_to_first_ms",
                json!({"p50": "x".repeat(50), "p95": 1, "p99": 1}),
                "stdout: `time_to_first_ms.p50`: expected a non-negative number, found `\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...`",
            ),
        ];
        for (key, value, message) in cases {
            let mut v = seed();
            v[*key] = value.clone();
            assert_eq!(error(&v), *message, "{key}");
        }
        let mut v = seed();
        v.as_object_mut().unwrap().remove("route");
        assert_eq!(
            error(&v),
            "stdout: `route`: expected a string, found nothing"
        );
        assert_eq!(
            error(&json!([1])),
            "stdout: `(top level)`: expected a JSON object, found `[1]`"
        );
    }
}
