//! Property tests of the SSE parser (`runner::sse`): a generated stream — any mix of `\n`,
//! `\r\n` and `\r` line ends, multi-line `data`, other fields, comments, a byte-order mark, an
//! unterminated tail — gives the events the specification says, fed whole or cut into any
//! pieces; arbitrary bytes never panic and give the same events and error however cut. Case
//! counts are set here so that the file runs in well under a second; `PROPTEST_CASES=N`
//! searches longer.

use nitro_scenario::runner::sse::{SseEvent, SseParser};
use proptest::prelude::*;

/// `default` cases, or `PROPTEST_CASES` when set.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// An event as the test keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Data(String),
    Done,
}

/// What feeding a body gave: the events, and whether it stopped at an error.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    events: Vec<Event>,
    failed: bool,
}

/// Feed `body` cut at `cuts` (sorted offsets, repeats meaning empty reads), stopping at the
/// first error as the runner does.
fn parse(body: &[u8], cuts: &[usize]) -> Parsed {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        let fed = parser.feed(&body[start..cut], |e| {
            events.push(match e {
                SseEvent::Data(d) => Event::Data(d.to_string()),
                SseEvent::Done => Event::Done,
            })
        });
        if fed.is_err() {
            return Parsed {
                events,
                failed: true,
            };
        }
        start = cut;
    }
    Parsed {
        events,
        failed: false,
    }
}

/// Up to `n` cut offsets into a body of `len` bytes, sorted, repeats allowed.
fn cuts(len: usize, n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..=len, 0..=n).prop_map(|mut cuts| {
        cuts.sort_unstable();
        cuts
    })
}

/// One line of an event, without its line end.
#[derive(Debug, Clone)]
enum Line {
    /// A `data` field with this value (no CR or LF in it).
    Data(String),
    /// Any other field, which the parser ignores.
    Other(String),
    /// A comment.
    Comment(String),
}

/// Text that may stand in a line: anything but CR and LF.
fn line_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[^\r\n]{0,12}",
        1 => " [a-z ]{0,4}",
        1 => Just("[DONE]".to_string()),
        1 => "\\{\"a\":[0-9]{1,3}\\}",
    ]
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        4 => line_text().prop_map(Line::Data),
        1 => ("(event|id|retry|x)", line_text()).prop_map(|(f, v)| Line::Other(format!("{f}:{v}"))),
        1 => line_text().prop_map(Line::Comment),
    ]
}

/// A line end: `\n`, `\r\n` or `\r`.
fn line_end() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["\n", "\r\n", "\r"][..])
}

/// A stream: events of lines, each line and each closing blank line with its own line end,
/// a byte-order mark or not, and a last event left without its blank line, or no such tail.
#[derive(Debug, Clone)]
struct Stream {
    bom: bool,
    events: Vec<Vec<(Line, &'static str, bool)>>,
    blank_ends: Vec<&'static str>,
    tail: Vec<(Line, &'static str, bool)>,
}

fn stream() -> impl Strategy<Value = Stream> {
    let event_line = || (line(), line_end(), any::<bool>());
    let event = proptest::collection::vec(event_line(), 0..4);
    (
        any::<bool>(),
        proptest::collection::vec((event, line_end()), 0..6),
        proptest::collection::vec(event_line(), 0..3),
    )
        .prop_map(|(bom, events, tail)| {
            let (events, blank_ends) = events.into_iter().unzip();
            Stream {
                bom,
                events,
                blank_ends,
                tail,
            }
        })
}

impl Stream {
    /// The bytes, and the events the SSE specification says they hold.
    fn render(&self) -> (Vec<u8>, Vec<Event>) {
        let mut body = String::new();
        if self.bom {
            body.push('\u{FEFF}');
        }
        let mut expected = Vec::new();
        // A `\r` followed by `\n` is one line end: a blank line right after a `\r` line end
        // must not start with `\n`, or it would vanish into it.
        let mut last_end = "";
        let mut push_line = |body: &mut String, text: &str, end: &'static str| {
            let end = if text.is_empty() && last_end == "\r" && end == "\n" {
                "\r"
            } else {
                end
            };
            body.push_str(text);
            body.push_str(end);
            last_end = end;
        };
        for (lines, blank_end) in self.events.iter().zip(&self.blank_ends) {
            let mut values = Vec::new();
            for (line, end, spaced) in lines {
                push_line(&mut body, &render_line(line, *spaced), end);
                if let Line::Data(value) = line {
                    values.push(value.as_str());
                }
            }
            push_line(&mut body, "", blank_end);
            // Dispatched at the blank line when it has data, its values joined by `\n`.
            if !values.is_empty() {
                let joined = values.join("\n");
                expected.push(if joined == "[DONE]" {
                    Event::Done
                } else {
                    Event::Data(joined)
                });
            }
        }
        for (line, end, spaced) in &self.tail {
            push_line(&mut body, &render_line(line, *spaced), end);
        }
        (body.into_bytes(), expected)
    }
}

/// A line as written: `data: v` (one space after the colon is not part of the value) or, when
/// the value does not start with a space, `data:v`; `data` alone for an empty value.
fn render_line(line: &Line, spaced: bool) -> String {
    match line {
        Line::Data(v) if v.is_empty() && !spaced => "data".to_string(),
        Line::Data(v) if spaced || v.starts_with(' ') => format!("data: {v}"),
        Line::Data(v) => format!("data:{v}"),
        Line::Other(text) => text.clone(),
        Line::Comment(text) => format!(":{text}"),
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_stream_gives_its_events_however_it_is_cut(
        (s, cuts) in stream().prop_flat_map(|s| {
            let len = s.render().0.len();
            (Just(s), cuts(len, 8))
        })
    ) {
        let (body, expected) = s.render();
        let whole = parse(&body, &[]);
        prop_assert_eq!(&whole, &Parsed { events: expected, failed: false }, "{:?}", String::from_utf8_lossy(&body));
        prop_assert_eq!(parse(&body, &cuts), whole, "cut at {:?}", cuts);
    }

    #[test]
    fn a_stream_fed_byte_by_byte_gives_the_same_events(s in stream()) {
        let (body, expected) = s.render();
        let every: Vec<usize> = (1..body.len()).collect();
        prop_assert_eq!(parse(&body, &every), Parsed { events: expected, failed: false });
    }

    #[test]
    fn arbitrary_bytes_give_the_same_result_however_cut(
        (body, cuts) in proptest::collection::vec(
            prop_oneof![
                4 => any::<u8>(),
                1 => prop::sample::select(&b"\r\n:data \xEF\xBB\xBF"[..]),
            ],
            0..256,
        )
        .prop_flat_map(|body| {
            let len = body.len();
            (Just(body), cuts(len, 8))
        })
    ) {
        prop_assert_eq!(parse(&body, &cuts), parse(&body, &[]));
    }
}
