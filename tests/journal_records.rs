//! The write-behind request log loses nothing and says what it could not keep: every record
//! `record` accepted reaches the file — from many threads, when producers stop mid-way, when
//! the journal is finished while they still record, when it is dropped without `finish` —
//! a full buffer and a record after the end are refused and counted, a failing disk keeps the
//! counts exact and reports its error, and the file appears under its name only at the end
//! (and is said to be there only when it is).

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use nitro_scenario::journal::{self, Journal, JournalStats, RequestRecord};
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

fn ids() -> Vec<String> {
    vec!["a".into(), "b".into()]
}

/// Rows after the header.
fn rows(text: &str) -> u64 {
    assert!(text.starts_with("point_id,run,phase,start_offset_us,"));
    text.lines().count() as u64 - 1
}

fn file_rows(path: &Path) -> u64 {
    rows(&std::fs::read_to_string(path).unwrap())
}

fn tmp_of(dir: &Path) -> std::path::PathBuf {
    dir.join(".requests.csv.tmp")
}

/// Every `record` call ended up in exactly one count.
fn assert_consistent(stats: &JournalStats) {
    assert_eq!(
        stats.accepted,
        stats.written + stats.lost_after_error,
        "{stats:?}"
    );
}

#[test]
fn records_in_equal_lines_out_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    // Room for every record: this test is about completeness, not overflow.
    let journal = Journal::start(&path, ids(), 1 << 17).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let sender = journal.sender();
            std::thread::spawn(move || {
                for i in 0..25_000 {
                    assert!(sender.record(record(t * 25_000 + i)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = journal.finish();
    assert_eq!(
        (stats.accepted, stats.written, stats.dropped),
        (100_000, 100_000, 0)
    );
    assert_eq!((stats.lost_after_error, stats.refused_after_finish), (0, 0));
    assert_eq!(stats.error, None);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(rows(&text), 100_000);
    // Each record exactly once, whatever the interleaving.
    let mut offsets: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    offsets.sort_unstable();
    assert!(offsets.iter().copied().eq(0..100_000));
    assert!(text.lines().nth(1).unwrap().contains(",1,measure,"));
    assert!(!tmp_of(dir.path()).exists());
}

#[test]
fn producers_stopped_mid_way_lose_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    // Producers stop after 30,000 records at most: with room for all, no refusal is expected,
    // so any loss shows as a mismatch instead of hiding among refusals.
    let journal = Journal::start(&path, ids(), 1 << 17).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..3)
        .map(|t| {
            let sender = journal.sender();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut accepted = 0u64;
                // Like workers told to stop by Ctrl-C: they stop at some arbitrary point.
                for i in 0..30_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    assert!(sender.record(record(t * 30_000 + i)));
                    accepted += 1;
                }
                accepted
            })
        })
        .collect();
    let main = journal.sender();
    for i in 0..20_000 {
        assert!(main.record(record(100_000 + i)));
    }
    stop.store(true, Ordering::Relaxed);
    let from_producers: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    let stats = journal.finish();
    assert_eq!(stats.accepted, 20_000 + from_producers);
    assert_eq!((stats.dropped, stats.refused_after_finish), (0, 0));
    assert_eq!(stats.written, stats.accepted);
    assert_eq!(file_rows(&path), stats.accepted);
}

#[test]
fn finishing_while_producers_still_record_keeps_counts_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, ids(), 1 << 16).unwrap();
    let started = Arc::new(Barrier::new(4));
    let producers: Vec<_> = (0..3)
        .map(|t| {
            let sender = journal.sender();
            let started = Arc::clone(&started);
            std::thread::spawn(move || {
                assert!(sender.record(record(t)));
                started.wait();
                // Record until refused: by a full buffer or, at the latest, by the finish.
                let mut accepted = 1u64;
                let mut i = 0;
                while sender.record(record(1_000 + t * 10_000_000 + i)) {
                    accepted += 1;
                    i += 1;
                }
                accepted
            })
        })
        .collect();
    started.wait();
    // Finish races the producers, like the end of a run racing workers' last records.
    let stats = journal.finish();
    let accepted: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    assert_eq!(stats.accepted, accepted, "{stats:?}");
    assert_eq!(stats.written, accepted);
    assert_eq!(file_rows(&path), accepted);
    // Each producer stopped at its first refusal, counted once.
    assert_eq!(stats.dropped + stats.refused_after_finish, 3, "{stats:?}");
}

#[test]
fn a_full_buffer_is_counted_and_everything_accepted_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, ids(), 8).unwrap();
    let sender = journal.sender();
    let attempted = 100_000u64;
    let mut refused = 0;
    for i in 0..attempted {
        if !sender.record(record(i)) {
            refused += 1;
        }
    }
    let stats = journal.finish();
    assert!(
        stats.dropped > 0,
        "an 8-record buffer overflows under a burst"
    );
    assert_eq!(stats.dropped, refused);
    assert_eq!(stats.refused_after_finish, 0);
    assert_eq!(stats.accepted + stats.dropped, attempted);
    assert_eq!(stats.written, stats.accepted);
    assert_eq!(file_rows(&path), stats.accepted);
}

#[test]
fn dropping_without_finish_still_drains() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    {
        let journal = Journal::start(&path, ids(), 1 << 16).unwrap();
        let sender = journal.sender();
        for i in 0..10_000 {
            assert!(sender.record(record(i)));
        }
    }
    assert_eq!(file_rows(&path), 10_000);
    assert!(!tmp_of(dir.path()).exists());
}

#[test]
fn a_record_after_finish_is_refused_not_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, ids(), 64).unwrap();
    let sender = journal.sender();
    let shutdown = journal.shutdown_handle();
    assert!(sender.record(record(0)));
    let at_finish = journal.finish();
    assert!(!sender.record(record(1)), "the sender outlived the journal");
    let after = shutdown.finish_within(Duration::ZERO).unwrap();
    assert_eq!(after.accepted, 1);
    assert_eq!(after.written, 1);
    assert_eq!(after.refused_after_finish, 1);
    assert_eq!(after.dropped, 0);
    assert_eq!(at_finish.refused_after_finish, 0);
    assert_eq!(file_rows(&path), 1);
}

/// A disk that takes `limit` bytes, then reports itself full; what it took is in `taken`.
struct FillingDisk {
    limit: usize,
    taken: Arc<Mutex<Vec<u8>>>,
}

impl Write for FillingDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut taken = self.taken.lock().unwrap();
        if taken.len() + buf.len() > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "disk full (test)",
            ));
        }
        taken.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn filling_disk(limit: usize) -> (FillingDisk, Arc<Mutex<Vec<u8>>>) {
    let taken = Arc::new(Mutex::new(Vec::new()));
    let disk = FillingDisk {
        limit,
        taken: Arc::clone(&taken),
    };
    (disk, taken)
}

#[test]
fn a_disk_that_fills_mid_way_keeps_counts_exact_and_reports_the_error() {
    // 20,000 rows are ~900 KB: more than the disk takes, and more than one batch.
    let (disk, taken) = filling_disk(300_000);
    let journal = Journal::with_sink(disk, ids(), 1 << 15).unwrap();
    let sender = journal.sender();
    for i in 0..20_000 {
        // After the failure the writer keeps draining: records are still accepted, never
        // refused as if the buffer were full.
        assert!(sender.record(record(i)));
    }
    let stats = journal.finish();
    assert_eq!(stats.accepted, 20_000);
    assert_eq!(stats.dropped, 0);
    assert_consistent(&stats);
    // The first batch (~256 KiB) fits, the next does not.
    assert!(stats.written > 0 && stats.lost_after_error > 0, "{stats:?}");
    let error = stats.error.as_deref().unwrap();
    assert!(error.contains("disk full (test)"), "{error}");
    let text = String::from_utf8(taken.lock().unwrap().clone()).unwrap();
    assert_eq!(rows(&text), stats.written);
}

#[test]
fn a_disk_full_from_the_start_loses_everything_and_says_so() {
    let (disk, taken) = filling_disk(0);
    let journal = Journal::with_sink(disk, ids(), 1 << 10).unwrap();
    let sender = journal.sender();
    for i in 0..500 {
        assert!(sender.record(record(i)));
    }
    let stats = journal.finish();
    assert_eq!(
        (stats.accepted, stats.written, stats.lost_after_error),
        (500, 0, 500)
    );
    assert_eq!(stats.disk_writes, 0);
    assert!(stats.error.is_some());
    assert!(taken.lock().unwrap().is_empty());
}

#[cfg(target_os = "linux")]
#[test]
fn a_real_full_device_is_reported() {
    // `/dev/full` fails every write with ENOSPC, as a full disk does.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let journal = Journal::with_sink(full, ids(), 1 << 10).unwrap();
    let sender = journal.sender();
    for i in 0..100 {
        assert!(sender.record(record(i)));
    }
    let stats = journal.finish();
    assert_eq!((stats.written, stats.lost_after_error), (0, 100));
    let error = stats.error.unwrap();
    assert!(error.contains("os error 28"), "{error}");
}

#[test]
fn the_file_takes_its_name_only_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    std::fs::write(&path, "an earlier run's log\n").unwrap();
    let journal = Journal::start(&path, ids(), 64).unwrap();
    assert!(tmp_of(dir.path()).exists());
    let sender = journal.sender();
    for i in 0..3 {
        assert!(sender.record(record(i)));
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "an earlier run's log\n"
    );
    let end = journal.end();
    assert_eq!(end.stats.written, 3);
    assert_eq!(end.file.as_deref(), Some(path.as_path()), "in place");
    assert_eq!(file_rows(&path), 3);
    assert!(!tmp_of(dir.path()).exists());
}

#[test]
fn a_file_that_cannot_take_its_name_is_not_claimed_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, ids(), 64).unwrap();
    let sender = journal.sender();
    for i in 0..3 {
        assert!(sender.record(record(i)));
    }
    // A folder, not empty, takes the name during the run: the rename fails, on any account.
    std::fs::create_dir_all(path.join("inside")).unwrap();
    let end = journal.end();
    assert_eq!(end.file, None, "not listed as written");
    assert_eq!((end.stats.written, end.stats.lost_after_error), (3, 0));
    let error = end.stats.error.expect("the rename error is reported");
    assert!(error.starts_with("cannot finish `"), "{error}");
    assert_eq!(
        file_rows(&tmp_of(dir.path())),
        3,
        "the rows stay under the temporary name"
    );
}

#[test]
fn a_log_that_is_not_a_file_has_no_file_to_list() {
    let journal = Journal::with_sink(io::sink(), ids(), 64).unwrap();
    assert!(journal.sender().record(record(0)));
    let end = journal.end();
    assert_eq!((end.stats.written, end.file), (1, None));
}

#[test]
fn a_stale_log_is_removed_when_the_log_is_off() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requests.csv"), "old\n").unwrap();
    std::fs::write(tmp_of(dir.path()), "killed\n").unwrap();
    assert!(journal::remove_stale(dir.path()).unwrap());
    assert!(!dir.path().join("requests.csv").exists());
    assert!(!tmp_of(dir.path()).exists());
    assert!(!journal::remove_stale(dir.path()).unwrap());
    assert!(!journal::remove_stale(&dir.path().join("missing")).unwrap());
}

#[test]
fn a_shutdown_handle_drains_from_another_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, ids(), 1 << 14).unwrap();
    let sender = journal.sender();
    for i in 0..5_000 {
        assert!(sender.record(record(i)));
    }
    let shutdown = journal.shutdown_handle();
    // As a second Ctrl-C would, from a thread other than the journal's owner.
    let stats = std::thread::spawn(move || shutdown.finish_within(Duration::from_secs(60)))
        .join()
        .unwrap()
        .expect("the writer ends once drained");
    assert_eq!((stats.accepted, stats.written), (5_000, 5_000));
    assert_eq!(file_rows(&path), 5_000);
    assert!(!sender.record(record(5_000)));
    // The owner finishing later changes nothing but the refusal it saw.
    let later = journal.finish();
    assert_eq!(later.written, 5_000);
    assert_eq!(later.refused_after_finish, 1);
}

/// A disk that blocks every write until told to go on.
struct StuckDisk(std::sync::mpsc::Receiver<()>);

impl Write for StuckDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.recv();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_shutdown_handle_gives_up_after_its_wait_and_the_writer_goes_on() {
    let (go_on, gate) = std::sync::mpsc::channel();
    let journal = Journal::with_sink(StuckDisk(gate), ids(), 64).unwrap();
    let sender = journal.sender();
    assert!(sender.record(record(0)));
    let shutdown = journal.shutdown_handle();
    // The writer cannot end while its final write is stuck.
    assert_eq!(shutdown.finish_within(Duration::ZERO), None);
    go_on.send(()).unwrap();
    drop(go_on);
    let stats = journal.finish();
    assert_eq!((stats.accepted, stats.written), (1, 1));
}
