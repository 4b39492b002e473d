//! `requests.csv` rows: the header and one line per [`RequestRecord`]. Pure formatting into a
//! caller's buffer; when and where the text goes is the writer's business.

use std::fmt::Write as _;

use super::RequestRecord;
use crate::metrics::Phase;

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

fn opt(buf: &mut String, value: Option<impl std::fmt::Display>) {
    if let Some(v) = value {
        // Writing into a `String` cannot fail.
        let _ = write!(buf, "{v}");
    }
    buf.push(',');
}

/// Append one CSV row for `r`; `ids` are the point ids, already CSV-quoted.
pub(crate) fn format_row(buf: &mut String, ids: &[String], r: &RequestRecord) {
    buf.push_str(ids.get(r.point as usize).map_or("?", String::as_str));
    let phase = match r.phase {
        Phase::Warmup => "warmup",
        Phase::Measure => "measure",
    };
    let _ = write!(
        buf,
        ",{},{phase},{},{},",
        r.run, r.start_offset_us, r.latency_us
    );
    opt(buf, r.ttfb_us);
    opt(buf, r.ttft_us);
    opt(buf, r.status);
    opt(buf, r.failure.map(|f| f.label()));
    let _ = writeln!(
        buf,
        "{},{},{},{},{}",
        r.retry, r.bytes, r.prompt_tokens, r.completion_tokens, r.tokens_estimated
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::FailureKind;

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
}
