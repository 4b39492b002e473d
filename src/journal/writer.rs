//! The journal's writer thread: blocks for the first record, drains whatever else is waiting,
//! formats the batch as CSV rows into one reused buffer, and writes it with one call.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;

use super::{Counters, Message, RequestRecord};
use crate::metrics::Phase;

/// Column names of `requests.csv`.
pub(crate) const HEADER: &str = "point_id,run,phase,start_offset_us,latency_us,ttfb_us,ttft_us,status,failure,retry,bytes,prompt_tokens,completion_tokens,tokens_estimated\n";

/// Records formatted before a write, at most; bounds the batch buffer (~1 MiB).
const BATCH: usize = 8192;

/// Run the writer until `Finish` (or every sender is gone), then flush.
pub(crate) fn run(
    mut file: std::fs::File,
    point_ids: &[String],
    rx: Receiver<Message>,
    counters: &Counters,
) -> std::io::Result<()> {
    let ids: Vec<String> = point_ids.iter().map(|id| csv_field(id)).collect();
    let mut buf = String::with_capacity(BATCH * 128);
    buf.push_str(HEADER);
    write_batch(&mut file, &mut buf, 0, counters)?;
    let mut finished = false;
    while !finished {
        let Ok(first) = rx.recv() else { break };
        let mut batch = 0;
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Record(r) => {
                    format_row(&mut buf, &ids, &r);
                    batch += 1;
                }
                Message::Finish => {
                    finished = true;
                    // Records already queued behind `Finish` still entered: keep draining.
                }
            }
            next = if batch < BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        write_batch(&mut file, &mut buf, batch as u64, counters)?;
    }
    file.flush()
}

fn write_batch(
    file: &mut std::fs::File,
    buf: &mut String,
    records: u64,
    counters: &Counters,
) -> std::io::Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    file.write_all(buf.as_bytes())?;
    buf.clear();
    counters.disk_writes.fetch_add(1, Ordering::Relaxed);
    counters.written.fetch_add(records, Ordering::Relaxed);
    Ok(())
}

/// A CSV field, quoted when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn opt(buf: &mut String, value: Option<impl std::fmt::Display>) {
    if let Some(v) = value {
        let _ = write!(buf, "{v}");
    }
    buf.push(',');
}

/// One CSV row.
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
