//! Reading a chat request body: the two fields the mock uses (`model`, `stream`), and the
//! difference between a body that is not JSON at all (a syntax error) and JSON of the wrong
//! shape (not an object, or a field of the wrong type) — OpenAI answers both with 400 but
//! different messages, and so does the mock. Unknown fields are skipped without being built.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The fields of a chat request the mock reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ChatRequest<'a> {
    /// Requested model, echoed back (borrowed from the body when it has no escapes).
    pub(crate) model: Option<Cow<'a, str>>,
    /// `"stream": true` turns `/v1/chat/completions` into a stream; absent or `null` is false.
    pub(crate) stream: bool,
}

/// Why a body is refused (400).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RequestProblem {
    /// Not JSON: serde_json's message, with its position.
    Syntax(String),
    /// JSON, but not an object; the kind of value it is.
    NotAnObject(&'static str),
    /// A field the mock reads has the wrong type.
    FieldType {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// The kind of value it is.
        found: &'static str,
    },
}

impl RequestProblem {
    /// The OpenAI error `message`.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Syntax(e) => format!("the request body is not valid JSON: {e}"),
            Self::NotAnObject(found) => {
                format!("the request body must be a JSON object, not {found}")
            }
            Self::FieldType {
                field,
                expected,
                found,
            } => format!("invalid type for `{field}`: expected {expected}, found {found}"),
        }
    }

    /// The OpenAI error `param`: the field at fault, if any.
    pub(crate) fn param(&self) -> Option<&'static str> {
        match self {
            Self::FieldType { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The OpenAI error `code`.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "invalid_json",
            Self::NotAnObject(_) | Self::FieldType { .. } => "invalid_type",
        }
    }
}

/// Read `body` as a chat request.
pub(crate) fn parse(body: &[u8]) -> Result<ChatRequest<'_>, RequestProblem> {
    let raw: Raw<'_> = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => RequestProblem::NotAnObject(top_level_kind(body)),
        _ => RequestProblem::Syntax(e.to_string()),
    })?;
    let model = match raw.model {
        None | Some(Loose::Null) => None,
        Some(Loose::Str(s)) => Some(s),
        Some(other) => return Err(wrong_type("model", "a string", &other)),
    };
    let stream = match raw.stream {
        None | Some(Loose::Null) => false,
        Some(Loose::Bool(b)) => b,
        Some(other) => return Err(wrong_type("stream", "a boolean or null", &other)),
    };
    Ok(ChatRequest { model, stream })
}

fn wrong_type(field: &'static str, expected: &'static str, found: &Loose<'_>) -> RequestProblem {
    RequestProblem::FieldType {
        field,
        expected,
        found: found.kind(),
    }
}

/// The kind of a top-level value that is not an object (only called once the JSON parsed, so
/// the first non-blank byte tells).
fn top_level_kind(body: &[u8]) -> &'static str {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The body's top level: the known fields as whatever they are, so that their type is checked
/// after parsing, with a message naming the field.
#[derive(Default)]
struct Raw<'a> {
    model: Option<Loose<'a>>,
    stream: Option<Loose<'a>>,
}

impl<'de> Deserialize<'de> for Raw<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw<'de>, A::Error> {
                let mut raw = Raw::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Model => raw.model = Some(map.next_value()?),
                        Key::Stream => raw.stream = Some(map.next_value()?),
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(raw)
            }
        }
        // `deserialize_map`, not a derive: a derived struct also accepts a JSON array.
        deserializer.deserialize_map(RawVisitor)
    }
}

/// A key of the top level, told apart without building it (`Cow<str>` would allocate every
/// key: serde's `Cow` always deserializes owned).
enum Key {
    Model,
    Stream,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "model" => Key::Model,
                    "stream" => Key::Stream,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A JSON value kept only as far as the mock needs: strings (borrowed when possible) and
/// booleans; anything else by its kind.
#[derive(Debug)]
enum Loose<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    Null,
    Other(&'static str),
}

impl Loose<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Bool(_) => "a boolean",
            Self::Null => "null",
            Self::Other(kind) => kind,
        }
    }
}

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor;
        impl<'de> Visitor<'de> for LooseVisitor {
            type Value = Loose<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Loose<'de>, E> {
                Ok(Loose::Bool(b))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Loose<'de>, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Loose<'de>, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Loose<'de>, E> {
                Ok(Loose::Other("a number"))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Loose<'de>, E> {
                Ok(Loose::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Loose<'de>, E> {
                Ok(Loose::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_unit<E>(self) -> Result<Loose<'de>, E> {
                Ok(Loose::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::Other("an object"))
            }
        }
        deserializer.deserialize_any(LooseVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_are_read_and_others_skipped() {
        let r = parse(
            br#"{"messages":[{"role":"user","content":"hi"}],"model":"m1","stream":true,"n":1}"#,
        )
        .unwrap();
        assert_eq!((r.model.as_deref(), r.stream), (Some("m1"), true));
        assert!(matches!(r.model, Some(Cow::Borrowed(_))), "no copy");
        let r = parse(br#"{"stream":null,"model":null}"#).unwrap();
        assert_eq!(r, ChatRequest::default());
        assert_eq!(parse(b"{}").unwrap(), ChatRequest::default());
    }

    #[test]
    fn syntax_errors_are_not_json_and_shape_errors_name_the_field() {
        for body in [&b"not json"[..], b"{\"model\":", b"{} x", b""] {
            let p = parse(body).unwrap_err();
            assert_eq!(p.code(), "invalid_json", "{body:?}");
        }
        assert_eq!(
            parse(b"[1,2]").unwrap_err(),
            RequestProblem::NotAnObject("an array")
        );
        assert_eq!(
            parse(b" 42").unwrap_err().message(),
            "the request body must be a JSON object, not a number"
        );
        let p = parse(br#"{"stream":"yes"}"#).unwrap_err();
        assert_eq!(
            p.message(),
            "invalid type for `stream`: expected a boolean or null, found a string"
        );
        assert_eq!((p.param(), p.code()), (Some("stream"), "invalid_type"));
        let p = parse(br#"{"model":["a"]}"#).unwrap_err();
        assert_eq!(p.param(), Some("model"));
    }
}
