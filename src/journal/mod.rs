//! Write-behind per-request log (`requests.csv`): workers hand a fixed-size [`RequestRecord`]
//! to a bounded lock-free buffer and return at once — no lock, no syscall, no wake-up — and a
//! writer thread that polls the buffer on a timer formats the records and writes them in large
//! batches. Ending the journal (finish, drop, or a [`JournalShutdown`] at a second signal)
//! drains everything that entered; a full buffer, a record after the end and a write error
//! are each counted in [`JournalStats`], never silent. The file is written under a temporary
//! name and renamed into place at the end.
//!
//! What is measured about requests is the runner's and metrics' business; this module only
//! keeps the log.

mod buffer;
mod handle;
mod record;
mod row;
mod sink;
mod writer;

use std::io;
use std::path::Path;

pub use handle::{Journal, JournalEnd, JournalSender, JournalShutdown, JournalStats};
pub use record::RequestRecord;

/// Name of the per-request log in a run's output folder.
pub const FILE_NAME: &str = "requests.csv";

/// Records the buffer holds before `record` refuses: 32,768 slots of 96 bytes, allocated up
/// front, so about 3 MB of the client's memory. The writer empties it every 10 ms, so it
/// absorbs bursts of ~3 million records per second; the benchmark uses this size too.
pub const CAPACITY: usize = 1 << 15;

/// Remove an earlier run's `requests.csv` (and a temporary file a killed run left) from `dir`,
/// for a run that does not write the log, so the folder holds no log that is not its own.
/// Returns whether anything was removed; a missing file or folder is not an error.
pub fn remove_stale(dir: &Path) -> io::Result<bool> {
    let final_path = dir.join(FILE_NAME);
    let mut removed = false;
    for path in [sink::temp_path(&final_path), final_path] {
        match std::fs::remove_file(&path) {
            Ok(()) => removed = true,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(removed)
}
