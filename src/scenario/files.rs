//! Reading the files a scenario names — the scenario itself, payload files — and checking the
//! templates folder it names, with bounds (`report` reads `results.json` and templates through
//! `read_text` too): only regular files are read (a FIFO would block,
//! `/dev/zero` would never end), and never more than a cap, counted while reading (a file may
//! grow after its size is looked up).

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::path::Path;

use super::units::format_size;

/// The largest scenario file, in bytes (4 MiB): hundreds of times any real scenario, and the
/// text is held (and echoed into `results.json`) whole.
pub(crate) const MAX_SCENARIO_BYTES: u64 = 4 << 20;

/// The template a templates folder must hold (the one `report::Templates` renders).
const MAIN_TEMPLATE: &str = "report.md.j2";

/// The text of `path`, at most `cap` bytes. `subject` names the file in messages (`the file`,
/// or the path in backticks) and `what` says what it is read as (`a payload`), for the cap.
pub(crate) fn read_text(
    path: &Path,
    cap: u64,
    subject: &str,
    what: &str,
) -> Result<String, String> {
    let cannot = |why: String| format!("cannot read {subject}: {why}");
    // Looked up before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?;
    not_special(&meta).map_err(&cannot)?;
    let file = open(path).map_err(|e| cannot(e.to_string()))?;
    // Looked up again on the open file: the path may have been replaced in between.
    let meta = file.metadata().map_err(|e| cannot(e.to_string()))?;
    not_special(&meta).map_err(&cannot)?;
    let expected = usize::try_from(meta.len().min(cap)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected);
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(cannot(format!(
            "it is larger than the limit of {} for {what}",
            format_size(cap)
        )));
    }
    String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8 text".into()))
}

/// Check that `dir` is a folder holding `report.md.j2`, as a templates folder must.
pub(crate) fn check_templates_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Err(_) => return Err(format!("templates folder `{shown}` not found")),
        Ok(meta) if !meta.is_dir() => {
            return Err(format!(
                "`{shown}` is not a folder; name a folder holding `{MAIN_TEMPLATE}`"
            ));
        }
        Ok(_) => {}
    }
    match std::fs::metadata(dir.join(MAIN_TEMPLATE)) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(meta) => Err(format!(
            "`{MAIN_TEMPLATE}` in templates folder `{shown}` is {}, not a regular file",
            kind(&meta)
        )),
        Err(_) => Err(format!(
            "templates folder `{shown}` has no `{MAIN_TEMPLATE}`; a templates folder needs one"
        )),
    }
}

/// Open `path` for reading without blocking on a FIFO swapped in after the first check.
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No effect on a regular file; makes opening anything else return at once.
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// `Ok` for a regular file; otherwise what it is instead.
fn not_special(meta: &Metadata) -> Result<(), String> {
    if meta.is_file() {
        return Ok(());
    }
    Err(format!("it is {}, not a regular file", kind(meta)))
}

/// What a file that is not a regular file is, with its article.
fn kind(meta: &Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "12345").unwrap();
        assert_eq!(read_text(&file, 5, "the file", "a test").unwrap(), "12345");
        assert_eq!(
            read_text(&file, 4, "the file", "a test").unwrap_err(),
            "cannot read the file: it is larger than the limit of 4B for a test"
        );
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_text(&file, 5, "`a.txt`", "a test").unwrap_err(),
            "cannot read `a.txt`: it is not UTF-8 text"
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_folders_and_fifos_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c_path` is a valid NUL-terminated path for the duration of the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        // Reading a FIFO with no writer would block this test forever.
        assert_eq!(
            read_text(&fifo, 10, "the file", "a test").unwrap_err(),
            "cannot read the file: it is a FIFO (named pipe), not a regular file"
        );
        assert_eq!(
            read_text(Path::new("/dev/zero"), 10, "`/dev/zero`", "a test").unwrap_err(),
            "cannot read `/dev/zero`: it is a character device, not a regular file"
        );
        assert_eq!(
            read_text(dir.path(), 10, "the file", "a test").unwrap_err(),
            "cannot read the file: it is a folder, not a regular file"
        );
    }

    #[test]
    fn a_templates_folder_must_hold_the_report_template() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(
            check_templates_dir(&missing)
                .unwrap_err()
                .ends_with("nope` not found")
        );
        assert!(
            check_templates_dir(dir.path())
                .unwrap_err()
                .ends_with("has no `report.md.j2`; a templates folder needs one")
        );
        #[cfg(unix)]
        {
            let fifo =
                std::ffi::CString::new(dir.path().join("report.md.j2").to_str().unwrap()).unwrap();
            // SAFETY: `fifo` is a valid NUL-terminated path for the duration of the call.
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
            assert!(
                check_templates_dir(dir.path())
                    .unwrap_err()
                    .ends_with("is a FIFO (named pipe), not a regular file"),
            );
            std::fs::remove_file(dir.path().join("report.md.j2")).unwrap();
        }
        std::fs::write(dir.path().join("report.md.j2"), "x").unwrap();
        assert_eq!(check_templates_dir(dir.path()), Ok(()));
        assert!(
            check_templates_dir(&dir.path().join("report.md.j2"))
                .unwrap_err()
                .contains("is not a folder")
        );
    }
}
