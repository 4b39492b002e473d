//! The files of one run, in a private temporary folder (mode 0700): the payload and the
//! headers the client reads (mode 0600 — the headers may hold secrets), and the path where it
//! may write its results. The folder and everything in it is removed when the run ends.

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::spec::FilePaths;

/// Folders made by this process so far: with the process id, a unique name.
static MADE: AtomicU64 = AtomicU64::new(0);

/// The folder of one run; removed on drop.
#[derive(Debug)]
pub(crate) struct RunFiles {
    dir: PathBuf,
    payload: PathBuf,
    headers: PathBuf,
    results: PathBuf,
}

impl RunFiles {
    /// Make the folder under the system's temporary folder and write `payload` and `headers`
    /// into it. Blocking.
    pub(crate) fn create(payload: &[u8], headers: &BTreeMap<String, String>) -> io::Result<Self> {
        Self::create_in(&std::env::temp_dir(), payload, headers)
    }

    fn create_in(
        parent: &Path,
        payload: &[u8],
        headers: &BTreeMap<String, String>,
    ) -> io::Result<Self> {
        let dir = make_private_dir(parent)?;
        let files = Self {
            payload: dir.join("payload.body"),
            headers: dir.join("headers.json"),
            results: dir.join("results.json"),
            dir,
        };
        write_private(&files.payload, payload)?;
        let headers = serde_json::to_vec(headers).map_err(io::Error::other)?;
        write_private(&files.headers, &headers)?;
        Ok(files)
    }

    /// The paths handed to the client.
    pub(crate) fn paths(&self) -> FilePaths<'_> {
        FilePaths {
            payload: &self.payload,
            headers: &self.headers,
            results: &self.results,
        }
    }

    /// Where the client may write its results.
    pub(crate) fn results(&self) -> &Path {
        &self.results
    }
}

impl Drop for RunFiles {
    // Three small files: cheap enough to remove from an async task.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A new folder only this user can enter.
fn make_private_dir(parent: &Path) -> io::Result<PathBuf> {
    let mut builder = DirBuilder::new();
    builder.mode(0o700);
    loop {
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("nitro-client-{}-{n}", std::process::id()));
        match builder.create(&dir) {
            // Left by an earlier process with the same id: take the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            made => return made.map(|()| dir),
        }
    }
}

/// A new file only this user can read.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_private_hold_their_bytes_and_vanish_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let headers = BTreeMap::from([("authorization".to_string(), "Bearer s3".to_string())]);
        let files = RunFiles::create_in(tmp.path(), b"{\"a\":1}", &headers).unwrap();
        let p = files.paths();
        assert_eq!(fs::read(p.payload).unwrap(), b"{\"a\":1}");
        assert_eq!(
            fs::read_to_string(p.headers).unwrap(),
            r#"{"authorization":"Bearer s3"}"#
        );
        assert!(!p.results.exists());
        assert_eq!(mode(p.payload), 0o600);
        assert_eq!(mode(p.headers), 0o600);
        let dir = p.results.parent().unwrap().to_path_buf();
        assert_eq!(mode(&dir), 0o700);
        fs::write(files.results(), "{}").unwrap();
        let other = RunFiles::create_in(tmp.path(), b"", &BTreeMap::new()).unwrap();
        assert_ne!(other.paths().payload, files.paths().payload);
        drop(files);
        assert!(!dir.exists());
    }
}
