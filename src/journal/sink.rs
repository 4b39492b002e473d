//! Where the writer's bytes go. For `requests.csv` that is a hidden temporary file beside it,
//! renamed into place when the journal ends — after a clean finish, a stop or a write error
//! alike, since what was written is still data — so a run never leaves a half-written file
//! under the final name, and an earlier run's file stays until this one has its own. Tests
//! give the journal any `Write` instead, one that fails included.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The writer's output.
pub(super) enum Sink {
    /// `path`, written as `tmp` until [`Sink::close`].
    File {
        file: File,
        tmp: PathBuf,
        path: PathBuf,
        /// Bytes known to be written, so a failed write can be cut back to whole rows.
        good_len: u64,
    },
    /// Anything else.
    Other(Box<dyn Write + Send>),
}

/// The temporary name `path` is written under: `.NAME.tmp` in the same folder, so the final
/// rename stays within one file system.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(
        || "requests.csv".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    path.with_file_name(format!(".{name}.tmp"))
}

impl Sink {
    /// Create (or truncate) the temporary file for `path`.
    pub(super) fn create(path: &Path) -> io::Result<Self> {
        let tmp = temp_path(path);
        let file = File::create(&tmp)?;
        Ok(Self::File {
            file,
            tmp,
            path: path.to_path_buf(),
            good_len: 0,
        })
    }

    /// What to call this sink in an error message.
    pub(super) fn describe(&self) -> String {
        match self {
            Self::File { path, .. } => format!("`{}`", path.display()),
            Self::Other(_) => "the request log".into(),
        }
    }

    /// Write all of `bytes`. On failure the file is cut back to what was written before, so
    /// that it never ends in a partial row.
    pub(super) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::File { file, good_len, .. } => match file.write_all(bytes) {
                Ok(()) => {
                    *good_len += bytes.len() as u64;
                    Ok(())
                }
                Err(err) => {
                    // Best effort: on a full disk, shrinking a file still works.
                    let _ = file.set_len(*good_len);
                    Err(err)
                }
            },
            Self::Other(out) => out.write_all(bytes),
        }
    }

    /// Flush and, for a file, rename it to its final name — also after a failed flush, since
    /// the rows already in it are still data. Returns the final path when the file is there,
    /// and the first error.
    pub(super) fn close(self) -> (Option<PathBuf>, io::Result<()>) {
        match self {
            Self::File {
                mut file,
                tmp,
                path,
                ..
            } => {
                let flushed = file.flush();
                drop(file);
                match std::fs::rename(&tmp, &path) {
                    Ok(()) => (Some(path), flushed),
                    Err(err) => (None, Err(err)),
                }
            }
            Self::Other(mut out) => (None, out.flush()),
        }
    }
}
