//! The write-behind request log loses nothing: every accepted record reaches the file, also
//! when producers are stopped mid-way or the journal is dropped without `finish`, and a full
//! buffer is counted, never silent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nitro_scenario::journal::{Journal, RequestRecord};
use nitro_scenario::metrics::Phase;

fn record(i: u64) -> RequestRecord {
    RequestRecord {
        point: (i % 2) as u32,
        run: 1,
        phase: Phase::Measure,
        start_offset_us: i,
        latency_us: 100 + i,
        ttfb_us: Some(50),
        ttft_us: None,
        status: Some(200),
        failure: None,
        retry: 0,
        bytes: 64,
        prompt_tokens: 3,
        completion_tokens: 5,
        tokens_estimated: false,
    }
}

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count() - 1
}

#[test]
fn records_in_equal_lines_out_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, vec!["a".into(), "b".into()], 1 << 20).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let sender = journal.sender();
            std::thread::spawn(move || {
                for i in 0..50_000 {
                    assert!(sender.record(record(t * 50_000 + i)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = journal.finish().unwrap();
    assert_eq!(
        (stats.accepted, stats.written, stats.dropped),
        (200_000, 200_000, 0)
    );
    assert_eq!(lines(&path), 200_000);
    assert!(
        stats.disk_writes * 100 <= stats.written,
        "batched: {} writes",
        stats.disk_writes
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("point_id,run,phase,start_offset_us,"));
    assert!(text.lines().nth(1).unwrap().starts_with("a,1,measure,"));
}

#[test]
fn a_graceful_stop_mid_way_loses_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, vec!["a".into(), "b".into()], 4096).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..3)
        .map(|_| {
            let sender = journal.sender();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut i = 0;
                // Like workers told to stop by Ctrl-C: they stop at some arbitrary point.
                while !stop.load(Ordering::Relaxed) {
                    sender.record(record(i));
                    i += 1;
                }
            })
        })
        .collect();
    let main = journal.sender();
    for i in 0..20_000 {
        main.record(record(i));
    }
    stop.store(true, Ordering::Relaxed);
    for p in producers {
        p.join().unwrap();
    }
    let stats = journal.finish().unwrap();
    assert_eq!(stats.written, stats.accepted);
    assert_eq!(lines(&path) as u64, stats.accepted);
}

#[test]
fn a_full_buffer_is_counted_and_everything_accepted_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, vec!["a".into(), "b".into()], 8).unwrap();
    let sender = journal.sender();
    let attempted = 100_000u64;
    let mut refused = 0;
    for i in 0..attempted {
        if !sender.record(record(i)) {
            refused += 1;
        }
    }
    let stats = journal.finish().unwrap();
    assert!(
        stats.dropped > 0,
        "an 8-record buffer overflows under a burst"
    );
    assert_eq!(stats.dropped, refused);
    assert_eq!(stats.accepted + stats.dropped, attempted);
    assert_eq!(stats.written, stats.accepted);
    assert_eq!(lines(&path) as u64, stats.accepted);
}

#[test]
fn dropping_without_finish_still_drains() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    {
        let journal = Journal::start(&path, vec!["a".into(), "b".into()], 1 << 16).unwrap();
        let sender = journal.sender();
        for i in 0..10_000 {
            assert!(sender.record(record(i)));
        }
    }
    assert_eq!(lines(&path), 10_000);
}
