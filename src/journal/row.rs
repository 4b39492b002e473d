//! `requests.csv` rows: the header and one line per [`RequestRecord`]. Pure formatting into a
//! caller's buffer; when and where the text goes is the writer's business.

use super::RequestRecord;
use crate::metrics::{FailureKind, Phase};

/// Column names of `requests.csv`.
pub(crate) const HEADER: &str = "point_id,run,phase,start_offset_us,latency_us,ttfb_us,ttft_us,status,failure,retry,bytes,prompt_tokens,completion_tokens,tokens_estimated\n";

/// A CSV field, quoted when it needs to be.
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Append `n` in decimal. `itoa` rather than `write!`: the writer formats a million rows a
/// second, and `fmt` machinery is most of a row's cost.
fn num(buf: &mut String, n: impl itoa::Integer) {
    buf.push_str(itoa::Buffer::new().format(n));
}

/// Append `n` and a comma, or just the comma when there is no value.
fn opt(buf: &mut String, n: Option<impl itoa::Integer>) {
    if let Some(n) = n {
        num(buf, n);
    }
    buf.push(',');
}

/// Append one CSV row for `r`; `ids` are the point ids, already CSV-quoted.
pub(crate) fn format_row(buf: &mut String, ids: &[String], r: &RequestRecord) {
    buf.push_str(ids.get(r.point as usize).map_or("?", String::as_str));
    buf.push(',');
    num(buf, r.run);
    buf.push_str(match r.phase {
        Phase::Warmup => ",warmup,",
        Phase::Measure => ",measure,",
    });
    num(buf, r.start_offset_us);
    buf.push(',');
    num(buf, r.latency_us);
    buf.push(',');
    opt(buf, r.ttfb_us);
    opt(buf, r.ttft_us);
    opt(buf, r.status);
    match r.failure {
        None => {}
        Some(FailureKind::Status(code)) => {
            buf.push_str("status_");
            num(buf, code);
        }
        Some(FailureKind::Timeout) => buf.push_str("timeout"),
        Some(FailureKind::Connect) => buf.push_str("connect"),
        Some(FailureKind::Reset) => buf.push_str("reset"),
        Some(FailureKind::Decode) => buf.push_str("decode"),
        Some(FailureKind::Stream) => buf.push_str("stream"),
    }
    buf.push(',');
    num(buf, r.retry);
    buf.push(',');
    num(buf, r.bytes);
    buf.push(',');
    num(buf, r.prompt_tokens);
    buf.push(',');
    num(buf, r.completion_tokens);
    buf.push_str(if r.tokens_estimated {
        ",true\n"
    } else {
        ",false\n"
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_leave_missing_values_empty() {
        let r = RequestRecord {
            point: 0,
            run: 2,
            phase: Phase::Measure,
            start_offset_us: 15,
            latency_us: 900,
            ttfb_us: Some(100),
            ttft_us: None,
            status: Some(429),
            failure: Some(FailureKind::Status(429)),
            retry: 1,
            bytes: 64,
            prompt_tokens: 0,
            completion_tokens: 0,
            tokens_estimated: false,
        };
        let mut buf = String::new();
        format_row(&mut buf, &[csv_field("chat,S")], &r);
        assert_eq!(
            buf,
            "\"chat,S\",2,measure,15,900,100,,429,status_429,1,64,0,0,false\n"
        );
        assert_eq!(HEADER.split(',').count(), buf.split(',').count() - 1);
    }

    #[test]
    fn failure_labels_match_the_report_labels() {
        let kinds = [
            FailureKind::Status(503),
            FailureKind::Timeout,
            FailureKind::Connect,
            FailureKind::Reset,
            FailureKind::Decode,
            FailureKind::Stream,
        ];
        for kind in kinds {
            let r = RequestRecord {
                point: 0,
                run: 1,
                phase: Phase::Warmup,
                start_offset_us: 0,
                latency_us: 0,
                ttfb_us: None,
                ttft_us: None,
                status: None,
                failure: Some(kind),
                retry: 0,
                bytes: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                tokens_estimated: true,
            };
            let mut buf = String::new();
            format_row(&mut buf, &["p".into()], &r);
            assert_eq!(
                buf,
                format!("p,1,warmup,0,0,,,,{},0,0,0,0,true\n", kind.label())
            );
        }
    }
}
