//! Why an attempt failed, kept as it came (an error value, a fixed phrase) and put into words
//! only when the recorder still wants a sample of that failure kind: a failure costs no
//! formatting unless its message is kept, and a success costs nothing at all.
//!
//! Messages never carry a URL: the runner's URL may hold resolved secrets (a token in a query,
//! credentials in the authority), so reqwest errors lose theirs before they are kept and any
//! `scheme://...` left in an error's text is replaced by `<url>`.

use std::error::Error;
use std::fmt::Write;

use crate::scenario::units::format_size;

/// Longest message kept, bytes: enough for an error chain, bounded whatever a server sends.
const MAX_MESSAGE_BYTES: usize = 200;

/// The cause of one failed attempt.
#[derive(Debug, Default)]
pub(crate) enum Cause {
    /// Nothing failed, or the failure needs no words (a status code says it all).
    #[default]
    None,
    /// A fixed description.
    Said(&'static str),
    /// The answer outgrew a size limit.
    TooLarge {
        /// The scenario key that sets the limit.
        key: &'static str,
        /// The limit, bytes.
        limit: u64,
    },
    /// A socket error.
    Io(std::io::Error),
    /// An error of the hyper transport.
    Hyper(hyper::Error),
    /// An error of the reqwest transport, its URL already removed.
    Reqwest(reqwest::Error),
}

impl Cause {
    /// A reqwest error, without the URL it carries.
    pub(crate) fn reqwest(e: reqwest::Error) -> Self {
        Self::Reqwest(e.without_url())
    }

    /// Append the cause in words to `buf`: the error and its sources, joined with `: `, on
    /// one line, at most `MAX_MESSAGE_BYTES` long, URLs scrubbed.
    pub(crate) fn describe(&self, buf: &mut String) {
        let start = buf.len();
        match self {
            Self::None => {}
            Self::Said(text) => buf.push_str(text),
            Self::TooLarge { key, limit } => {
                let _ = write!(buf, "larger than `{key}` ({})", format_size(*limit));
            }
            Self::Io(e) => chain(buf, e),
            Self::Hyper(e) => chain(buf, e),
            Self::Reqwest(e) => chain(buf, e),
        }
        scrub_urls(buf, start);
        // One line: the message goes into table cells and CSV.
        if buf[start..].contains(char::is_control) {
            let line = buf[start..].replace(char::is_control, " ");
            buf.replace_range(start.., &line);
        }
        if buf.len() - start > MAX_MESSAGE_BYTES {
            let mut end = start + MAX_MESSAGE_BYTES;
            while !buf.is_char_boundary(end) {
                end -= 1;
            }
            buf.truncate(end);
        }
    }
}

/// `err` and its sources, joined with `: `; a source whose text its wrapper already showed is
/// left out.
fn chain(buf: &mut String, err: &(dyn Error + 'static)) {
    let mut next = Some(err);
    let mut last_start = buf.len();
    while let Some(e) = next {
        let start = buf.len();
        if start > last_start {
            buf.push_str(": ");
        }
        let text_start = buf.len();
        let _ = write!(buf, "{e}");
        let shown_before = buf[last_start..text_start].contains(&buf[text_start..]);
        if shown_before || text_start == buf.len() {
            buf.truncate(start);
        } else {
            last_start = start;
        }
        next = e.source();
        // Past the cap nothing more is kept; stop walking.
        if buf.len() > MAX_MESSAGE_BYTES * 2 {
            break;
        }
    }
}

/// Replace every `scheme://...` in `buf[start..]`, up to the next space, quote or bracket, by
/// `<url>`.
fn scrub_urls(buf: &mut String, start: usize) {
    let mut from = start;
    while let Some(found) = buf[from..].find("://") {
        let at = from + found;
        let begin = buf[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1)
            .max(start);
        let end = buf[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '>' | ']'))
            .map_or(buf.len(), |i| at + i);
        buf.replace_range(begin..end, "<url>");
        from = begin + "<url>".len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cause: &Cause) -> String {
        let mut buf = String::new();
        cause.describe(&mut buf);
        buf
    }

    #[derive(Debug)]
    struct Wrapper(&'static str, std::io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn chains_join_their_sources_once() {
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let mut buf = String::new();
        chain(&mut buf, &Wrapper("tcp connect error", refused()));
        assert_eq!(buf, "tcp connect error: connection refused");
        buf.clear();
        chain(
            &mut buf,
            &Wrapper("connection refused (wrapped)", refused()),
        );
        assert_eq!(
            buf, "connection refused (wrapped)",
            "a repeated source is left out"
        );
    }

    #[test]
    fn urls_are_scrubbed_and_messages_bounded() {
        let io = std::io::Error::other("cannot reach http://user:secret@h:1/v1?key=abc (dns)");
        assert_eq!(text(&Cause::Io(io)), "cannot reach <url> (dns)");
        let io = std::io::Error::other("two\nlines");
        assert_eq!(text(&Cause::Io(io)), "two lines");
        let io = std::io::Error::other("x".repeat(1000));
        assert_eq!(text(&Cause::Io(io)).len(), MAX_MESSAGE_BYTES);
        let io = std::io::Error::other("é".repeat(1000));
        assert!(text(&Cause::Io(io)).len() <= MAX_MESSAGE_BYTES);
        assert_eq!(
            text(&Cause::TooLarge {
                key: "target.max_event_bytes",
                limit: 1 << 20
            }),
            "larger than `target.max_event_bytes` (1MiB)"
        );
        assert_eq!(text(&Cause::None), "");
    }
}
