//! Server-sent events parser, correct across arbitrary TCP chunk boundaries, `\r\n`, `\r` and
//! `\n` line ends, multi-line `data:` fields, comments and a leading byte-order mark. As the
//! SSE specification says, an event is dispatched at a blank line: a last event the server
//! does not end with one is dropped. Allocation-free once warm: the
//! partial-line and data buffers are reused from one response to the next. Bounded: a line or
//! an event larger than the parser's limit is an error, so a server that never ends a line
//! cannot make it buffer without end.

/// Room the line and data buffers keep from one response to the next, bytes: events are
/// usually a few hundred bytes, and a worker of thousands need not keep a rare large one's.
const KEPT_BYTES: usize = 8 << 10;

/// One dispatched event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseEvent<'a> {
    /// An event's `data` (multi-line fields joined with `\n`), other than `[DONE]`.
    Data(&'a str),
    /// `data: [DONE]`.
    Done,
}

/// The stream is not valid SSE.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SseError {
    /// A line is not UTF-8.
    #[error("event data is not UTF-8")]
    NotUtf8,
    /// A line, or an event's `data`, outgrew the limit.
    #[error("an SSE line or event is larger than {limit} bytes")]
    TooLarge {
        /// The limit, bytes.
        limit: usize,
    },
}

/// Incremental SSE parser; one per worker, `reset` between responses.
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of a line not yet terminated.
    line: Vec<u8>,
    /// `data` of the event being built, each field followed by `\n`.
    data: String,
    /// The last byte seen was `\r`: a `\n` right after it belongs to the same line end.
    after_cr: bool,
    /// A line was processed since the start of the response (a BOM can only come first).
    past_first_line: bool,
    /// Largest line, and largest event `data`, accepted, bytes.
    max_event_bytes: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with empty buffers and no size limit (see `set_max_event_bytes`).
    pub fn new() -> Self {
        Self {
            line: Vec::new(),
            data: String::new(),
            after_cr: false,
            past_first_line: false,
            max_event_bytes: usize::MAX,
        }
    }

    /// Refuse lines, and events' `data`, larger than `bytes`: `feed` then returns
    /// [`SseError::TooLarge`] and buffers no more.
    pub fn set_max_event_bytes(&mut self, bytes: usize) {
        self.max_event_bytes = bytes;
    }

    fn too_large(&self) -> SseError {
        SseError::TooLarge {
            limit: self.max_event_bytes,
        }
    }

    /// Forget any partial event (start of a new response). Buffers a large event grew past
    /// `KEPT_BYTES` are given back.
    pub fn reset(&mut self) {
        self.line.clear();
        self.line.shrink_to(KEPT_BYTES);
        self.data.clear();
        self.data.shrink_to(KEPT_BYTES);
        self.after_cr = false;
        self.past_first_line = false;
    }

    /// Feed the next bytes of the body; `on_event` is called for each complete event.
    pub fn feed(
        &mut self,
        mut chunk: &[u8],
        mut on_event: impl FnMut(SseEvent<'_>),
    ) -> Result<(), SseError> {
        // An empty read says nothing, not even that a `\r` was not followed by `\n`.
        if chunk.is_empty() {
            return Ok(());
        }
        if self.after_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.after_cr = false;
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (line, ending) = (&chunk[..pos], chunk[pos]);
            if self.line.len() + line.len() > self.max_event_bytes {
                return Err(self.too_large());
            }
            if self.line.is_empty() {
                self.process_line(line, &mut on_event)?;
            } else {
                self.line.extend_from_slice(line);
                let whole = std::mem::take(&mut self.line);
                let result = self.process_line(&whole, &mut on_event);
                self.line = whole;
                self.line.clear();
                result?;
            }
            chunk = &chunk[pos + 1..];
            if ending == b'\r' {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
        }
        if self.line.len() + chunk.len() > self.max_event_bytes {
            return Err(self.too_large());
        }
        self.line.extend_from_slice(chunk);
        Ok(())
    }

    fn process_line(
        &mut self,
        line: &[u8],
        on_event: &mut impl FnMut(SseEvent<'_>),
    ) -> Result<(), SseError> {
        let line = if self.past_first_line {
            line
        } else {
            self.past_first_line = true;
            line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
        };
        if line.is_empty() {
            if !self.data.is_empty() {
                self.data.pop();
                if self.data == "[DONE]" {
                    on_event(SseEvent::Done);
                } else {
                    on_event(SseEvent::Data(&self.data));
                }
                self.data.clear();
            }
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        if field == b"data" {
            if self.data.len() + value.len() >= self.max_event_bytes {
                return Err(self.too_large());
            }
            self.data
                .push_str(std::str::from_utf8(value).map_err(|_| SseError::NotUtf8)?);
            self.data.push('\n');
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Owned {
        Data(String),
        Done,
    }

    fn parse_in_pieces(input: &[u8], cuts: &[usize]) -> Vec<Owned> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            parser
                .feed(&input[start..cut], |e| {
                    events.push(match e {
                        SseEvent::Data(d) => Owned::Data(d.to_string()),
                        SseEvent::Done => Owned::Done,
                    })
                })
                .unwrap();
            start = cut;
        }
        events
    }

    const STREAM: &str = ": keep-alive comment\r\n\
        data: {\"a\":1}\r\n\r\n\
        event: message\nid: 7\ndata:first\ndata: second é\n\n\
        data: x\r\rretry: 10\n\
        data: [DONE]\n\n";

    fn expected() -> Vec<Owned> {
        vec![
            Owned::Data("{\"a\":1}".into()),
            Owned::Data("first\nsecond é".into()),
            Owned::Data("x".into()),
            Owned::Done,
        ]
    }

    #[test]
    fn whole_stream_parses_every_line_ending_and_field() {
        assert_eq!(parse_in_pieces(STREAM.as_bytes(), &[]), expected());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let bytes = STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(parse_in_pieces(bytes, &[cut]), expected(), "split at {cut}");
        }
        for a in 0..bytes.len() {
            for b in a..bytes.len() {
                assert_eq!(
                    parse_in_pieces(bytes, &[a, b]),
                    expected(),
                    "splits at {a}, {b}"
                );
            }
        }
    }

    #[test]
    fn byte_by_byte_gives_the_same_events() {
        let cuts: Vec<usize> = (1..STREAM.len()).collect();
        assert_eq!(parse_in_pieces(STREAM.as_bytes(), &cuts), expected());
    }

    #[test]
    fn an_unterminated_event_is_not_dispatched_and_reset_forgets_it() {
        let mut parser = SseParser::new();
        let mut n = 0;
        parser.feed(b"data: half", |_| n += 1).unwrap();
        assert_eq!(n, 0);
        parser.reset();
        parser
            .feed(b"\n\ndata: new\n\n", |e| {
                assert_eq!(e, SseEvent::Data("new"));
                n += 1;
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn an_empty_read_keeps_a_pending_carriage_return() {
        // `\r` then nothing then `\n`: one line end, so both data lines join one event.
        let events = parse_in_pieces(b"data: a\r\ndata: b\r\n\r\n", &[8, 8]);
        assert_eq!(events, vec![Owned::Data("a\nb".into())]);
        let events = parse_in_pieces(b"data: a\r\ndata: b\n\n", &[7, 7, 8]);
        assert_eq!(events, vec![Owned::Data("a\nb".into())]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_wherever_the_read_splits_it() {
        let input = b"\xEF\xBB\xBFdata: x\n\ndata: [DONE]\n\n";
        for cut in 0..input.len() {
            assert_eq!(
                parse_in_pieces(input, &[cut]),
                vec![Owned::Data("x".into()), Owned::Done],
                "split at {cut}"
            );
        }
    }

    #[test]
    fn an_empty_data_field_dispatches_an_empty_event() {
        assert_eq!(
            parse_in_pieces(b"data:\n\ndata: [DONE]\n\n", &[]),
            vec![Owned::Data(String::new()), Owned::Done]
        );
    }

    #[test]
    fn a_line_or_event_over_the_limit_is_an_error_wherever_the_reads_split_it() {
        let feed_all = |input: &[u8], cuts: &[usize], limit: usize| {
            let mut parser = SseParser::new();
            parser.set_max_event_bytes(limit);
            let mut start = 0;
            for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
                parser.feed(&input[start..cut], |_| {})?;
                start = cut;
            }
            Ok(())
        };
        let line = b"data: 0123456789\n\n";
        // The line is 16 bytes, its data 10 (plus the joining newline).
        assert_eq!(feed_all(line, &[3], 16), Ok(()));
        assert_eq!(
            feed_all(line, &[], 15),
            Err(SseError::TooLarge { limit: 15 })
        );
        assert_eq!(
            feed_all(line, &[9], 15),
            Err(SseError::TooLarge { limit: 15 })
        );
        // An unfinished line is refused as soon as it outgrows the limit.
        let endless = [b'a'; 64];
        assert_eq!(feed_all(&endless, &[10, 20, 30], 100), Ok(()));
        assert_eq!(
            feed_all(&endless, &[10, 20, 30], 25),
            Err(SseError::TooLarge { limit: 25 })
        );
        // Short lines that add up to a large event.
        let event = b"data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\n";
        assert_eq!(feed_all(event, &[], 40), Ok(()));
        assert_eq!(
            feed_all(event, &[], 30),
            Err(SseError::TooLarge { limit: 30 })
        );
        // A comment line counts too: it is buffered like any other.
        assert_eq!(
            feed_all(b": keep-alive padding\n", &[4], 10),
            Err(SseError::TooLarge { limit: 10 })
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut parser = SseParser::new();
        assert_eq!(
            parser.feed(b"data: \xff\n\n", |_| {}),
            Err(SseError::NotUtf8)
        );
    }
}
