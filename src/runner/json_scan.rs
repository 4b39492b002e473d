//! The JSON check of an answer body, made as the body arrives and without keeping it: is the
//! body one JSON document (RFC 8259: UTF-8, one value, whitespace around it), and what is its
//! top-level `usage`? Only `usage`'s own bytes are kept (at most [`MAX_USAGE_BYTES`]) and
//! parsed at the end, so a worker reading a 64 MiB answer holds no more than one reading a
//! 1 KiB one: a few hundred bytes. Nesting is bounded by [`MAX_DEPTH`].

use super::openai::{NotJson, parse_usage};
use crate::metrics::Usage;

/// Deepest nesting of arrays and objects accepted; real answers nest a handful deep.
pub(crate) const MAX_DEPTH: usize = 1024;
/// Largest `usage` value kept for parsing, bytes; a larger one is taken for no usage.
pub(crate) const MAX_USAGE_BYTES: usize = 64 << 10;
/// Longest top-level key kept to tell whether it is `usage`, bytes as written (escapes too).
const MAX_KEY_BYTES: usize = 64;

/// Where the scanner is in the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a value; `or_close` right after `[`, where `]` may come instead.
    Value { or_close: bool },
    /// Before an object key; `or_close` right after `{`, where `}` may come instead.
    Key { or_close: bool },
    /// After a key, before `:`.
    Colon,
    /// Inside a string; `key` when it is an object key.
    Str { key: bool, escape: Escape },
    /// Inside a number.
    Number(Num),
    /// Inside `true`, `false` or `null`: the bytes still to come.
    Literal(&'static [u8]),
    /// After a value: `,` or a close, or only whitespace at the top.
    AfterValue,
    /// Not JSON; the rest of the body is ignored.
    Failed,
}

/// Where a string is in an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// After `\`.
    Backslash,
    /// After `\u`: hex digits still to come.
    Hex(u8),
}

/// Where a number is in `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

impl Num {
    /// Whether a number may end here.
    fn complete(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::Exp)
    }

    /// The step after `b`; `None` when `b` is not part of the number.
    fn next(self, b: u8) -> Option<Num> {
        let digit = b.is_ascii_digit();
        Some(match (self, b) {
            (Num::Minus, b'0') => Num::Zero,
            (Num::Minus, _) if digit => Num::Int,
            (Num::Int, _) if digit => Num::Int,
            (Num::Zero | Num::Int, b'.') => Num::Dot,
            (Num::Dot | Num::Frac, _) if digit => Num::Frac,
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::E,
            (Num::E, b'+' | b'-') => Num::ESign,
            (Num::E | Num::ESign | Num::Exp, _) if digit => Num::Exp,
            _ => return None,
        })
    }
}

/// One answer's JSON check; reset and reused from answer to answer.
#[derive(Debug)]
pub(crate) struct JsonScan {
    state: State,
    /// Open containers: bit `i` of the stack is set when container `i` is an object.
    kinds: [u64; MAX_DEPTH / 64],
    depth: usize,
    /// Continuation bytes still due in the current UTF-8 character, and the range the next one
    /// must fall in (narrower after some lead bytes: no overlong forms, no surrogates).
    utf8_due: u8,
    utf8_next: (u8, u8),
    /// The top-level key being read, as written; `None` past [`MAX_KEY_BYTES`].
    key: Option<Vec<u8>>,
    /// The key just read is `usage`: its value is kept.
    usage_next: bool,
    /// The `usage` value's bytes while it is read, then whole; `None` past the cap.
    usage: Option<Vec<u8>>,
    /// Whether `usage` is being read now.
    in_usage: bool,
    /// Whether a top-level `usage` key was read; of repeated ones the last counts, as
    /// serde_json reads them.
    usage_seen: bool,
    /// Why the document failed, once it did.
    failure: Option<&'static str>,
}

impl Default for JsonScan {
    fn default() -> Self {
        Self {
            state: State::Value { or_close: false },
            kinds: [0; MAX_DEPTH / 64],
            depth: 0,
            utf8_due: 0,
            utf8_next: (0x80, 0xbf),
            key: Some(Vec::new()),
            usage_next: false,
            usage: Some(Vec::new()),
            in_usage: false,
            usage_seen: false,
            failure: None,
        }
    }
}

impl JsonScan {
    /// Ready for the next answer, keeping what was allocated.
    pub(crate) fn reset(&mut self) {
        let (mut key, mut usage) = (self.key.take(), self.usage.take());
        key.get_or_insert_with(Vec::new).clear();
        usage.get_or_insert_with(Vec::new).clear();
        *self = Self {
            key,
            usage,
            ..Self::default()
        };
    }

    /// The next bytes of the body.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            if self.state == State::Failed {
                return;
            }
            // Most of a body is string contents: take a plain run at once.
            if let State::Str {
                escape: Escape::None,
                key,
            } = self.state
            {
                if self.utf8_due == 0 {
                    let run = bytes[i..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b))
                        .unwrap_or(bytes.len() - i);
                    self.keep(&bytes[i..i + run], key);
                    i += run;
                    if i == bytes.len() {
                        return;
                    }
                }
            }
            let b = bytes[i];
            let consumed = self.step(b);
            if consumed {
                let key = matches!(self.state, State::Str { key: true, .. }) && b != b'"';
                self.keep(&[b], key);
                i += 1;
            }
            if self.in_usage && self.depth == 1 && self.state == State::AfterValue {
                self.in_usage = false;
            }
        }
    }

    /// The body ended: `Ok(usage)` when it was one JSON document (`usage` when its top-level
    /// object had a readable one), else why not.
    pub(crate) fn finish(&mut self) -> Result<Option<Usage>, NotJson> {
        if let State::Number(n) = self.state {
            if n.complete() {
                self.value_ended();
            }
        }
        if let Some(why) = self.failure {
            return Err(NotJson(why));
        }
        if self.state == (State::Value { or_close: false }) && self.depth == 0 {
            return Err(NotJson("the body is not JSON: it is empty"));
        }
        if self.state != State::AfterValue || self.depth != 0 {
            return Err(NotJson(
                "the body is not JSON: it ends before its value does",
            ));
        }
        if !self.usage_seen {
            return Ok(None);
        }
        Ok(self.usage.as_deref().and_then(parse_usage))
    }

    /// Bytes held on the heap, whatever the body's size (tests).
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        let held = |v: &Option<Vec<u8>>| v.as_ref().map_or(0, Vec::capacity);
        held(&self.key) + held(&self.usage)
    }

    /// Keep `bytes`, just read, when they belong to the `usage` value or a top-level `key`.
    fn keep(&mut self, bytes: &[u8], key: bool) {
        if self.in_usage {
            if let Some(usage) = &mut self.usage {
                if usage.len() + bytes.len() > MAX_USAGE_BYTES {
                    self.usage = None;
                } else {
                    usage.extend_from_slice(bytes);
                }
            }
        } else if key && self.depth == 1 {
            if let Some(k) = &mut self.key {
                if k.len() + bytes.len() > MAX_KEY_BYTES {
                    self.key = None;
                } else {
                    k.extend_from_slice(bytes);
                }
            }
        }
    }

    /// Take `b`; `false` when it ended a number and must be read again after it.
    fn step(&mut self, b: u8) -> bool {
        let whitespace = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        match self.state {
            State::Value { or_close } => match b {
                _ if whitespace => {}
                b']' if or_close => self.close(false),
                _ => self.begin_value(b),
            },
            State::Key { or_close } => match b {
                _ if whitespace => {}
                b'}' if or_close => self.close(true),
                b'"' => {
                    if let Some(k) = &mut self.key {
                        k.clear();
                    } else if self.depth == 1 {
                        self.key = Some(Vec::new());
                    }
                    self.state = State::Str {
                        key: true,
                        escape: Escape::None,
                    };
                }
                _ => self.fail("the body is not JSON: an object key is not a string"),
            },
            State::Colon => match b {
                _ if whitespace => {}
                b':' => self.state = State::Value { or_close: false },
                _ => self.fail("the body is not JSON: `:` is missing after a key"),
            },
            State::Str { key, escape } => self.string(b, key, escape),
            State::Number(n) => match n.next(b) {
                Some(next) => self.state = State::Number(next),
                None if n.complete() => {
                    self.value_ended();
                    return false;
                }
                None => self.fail("the body is not JSON: a number is malformed"),
            },
            State::Literal(rest) => {
                if rest.first() == Some(&b) {
                    if rest.len() == 1 {
                        self.value_ended();
                    } else {
                        self.state = State::Literal(&rest[1..]);
                    }
                } else {
                    self.fail("the body is not JSON: an unknown word");
                }
            }
            State::AfterValue => match b {
                _ if whitespace => {}
                _ if self.depth == 0 => {
                    self.fail("the body is not JSON: more follows its value");
                }
                b',' if self.top_is_object() => self.state = State::Key { or_close: false },
                b',' => self.state = State::Value { or_close: false },
                b'}' if self.top_is_object() => self.close(true),
                b']' if !self.top_is_object() => self.close(false),
                _ => self.fail("the body is not JSON: `,` or a close is missing"),
            },
            State::Failed => {}
        }
        true
    }

    /// The first byte `b` of a value.
    fn begin_value(&mut self, b: u8) {
        if self.usage_next {
            self.usage_next = false;
            self.in_usage = true;
            self.usage_seen = true;
            self.usage.get_or_insert_with(Vec::new).clear();
        }
        self.state = match b {
            b'{' | b'[' => {
                if self.depth == MAX_DEPTH {
                    return self.fail("the body's JSON nests deeper than 1,024 levels");
                }
                let (word, bit) = (self.depth / 64, 1u64 << (self.depth % 64));
                if b == b'{' {
                    self.kinds[word] |= bit;
                } else {
                    self.kinds[word] &= !bit;
                }
                self.depth += 1;
                if b == b'{' {
                    State::Key { or_close: true }
                } else {
                    State::Value { or_close: true }
                }
            }
            b'"' => State::Str {
                key: false,
                escape: Escape::None,
            },
            b'-' => State::Number(Num::Minus),
            b'0' => State::Number(Num::Zero),
            b'1'..=b'9' => State::Number(Num::Int),
            b't' => State::Literal(b"rue"),
            b'f' => State::Literal(b"alse"),
            b'n' => State::Literal(b"ull"),
            _ => return self.fail("the body is not JSON"),
        };
    }

    /// One byte `b` of a string (a `key` or not) that may hold an `escape` in progress.
    fn string(&mut self, b: u8, key: bool, escape: Escape) {
        let next = |escape| State::Str { key, escape };
        if self.utf8_due > 0 {
            let (low, high) = self.utf8_next;
            if !(low..=high).contains(&b) {
                return self.fail("the body is not UTF-8 text");
            }
            self.utf8_due -= 1;
            self.utf8_next = (0x80, 0xbf);
            return;
        }
        match escape {
            Escape::Backslash => match b {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                    self.state = next(Escape::None);
                }
                b'u' => self.state = next(Escape::Hex(4)),
                _ => self.fail("the body is not JSON: a string holds an unknown escape"),
            },
            Escape::Hex(left) => {
                if !b.is_ascii_hexdigit() {
                    return self.fail("the body is not JSON: a `\\u` escape is malformed");
                }
                self.state = next(if left == 1 {
                    Escape::None
                } else {
                    Escape::Hex(left - 1)
                });
            }
            Escape::None => match b {
                b'"' if key => {
                    self.state = State::Colon;
                    self.usage_next = self.depth == 1 && self.key_is_usage();
                }
                b'"' => self.value_ended(),
                b'\\' => self.state = next(Escape::Backslash),
                0x00..=0x1f => {
                    self.fail("the body is not JSON: a string holds a control character");
                }
                0x20..=0x7f => {}
                0xc2..=0xdf => self.utf8_lead(1, (0x80, 0xbf)),
                0xe0 => self.utf8_lead(2, (0xa0, 0xbf)),
                0xed => self.utf8_lead(2, (0x80, 0x9f)),
                0xe1..=0xec | 0xee..=0xef => self.utf8_lead(2, (0x80, 0xbf)),
                0xf0 => self.utf8_lead(3, (0x90, 0xbf)),
                0xf1..=0xf3 => self.utf8_lead(3, (0x80, 0xbf)),
                0xf4 => self.utf8_lead(3, (0x80, 0x8f)),
                _ => self.fail("the body is not UTF-8 text"),
            },
        }
    }

    fn utf8_lead(&mut self, due: u8, next: (u8, u8)) {
        self.utf8_due = due;
        self.utf8_next = next;
    }

    /// Whether the top-level key just read is `usage`, escapes decoded.
    fn key_is_usage(&self) -> bool {
        let Some(key) = self.key.as_deref() else {
            return false;
        };
        if !key.contains(&b'\\') {
            return key == b"usage";
        }
        let mut quoted = Vec::with_capacity(key.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(key);
        quoted.push(b'"');
        serde_json::from_slice::<String>(&quoted).is_ok_and(|k| k == "usage")
    }

    /// The innermost open container is an object.
    fn top_is_object(&self) -> bool {
        let i = self.depth - 1;
        self.kinds[i / 64] & (1 << (i % 64)) != 0
    }

    /// `}` (an `object`) or `]` closes the innermost container.
    fn close(&mut self, object: bool) {
        debug_assert_eq!(self.top_is_object(), object);
        self.depth -= 1;
        self.value_ended();
    }

    fn value_ended(&mut self) {
        self.state = State::AfterValue;
    }

    fn fail(&mut self, why: &'static str) {
        self.state = State::Failed;
        self.failure = Some(why);
    }
}

#[cfg(test)]
mod tests;
