//! The JSON check against serde_json: the same verdict and the same `usage` for documents fed
//! whole or cut anywhere; the limits (nesting, `usage` size) and every failure named.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// Feed `body` cut at `cuts` (sorted offsets into it).
fn scan(body: &[u8], cuts: &[usize]) -> Result<Option<Usage>, NotJson> {
    let mut s = JsonScan::default();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        s.feed(&body[start..cut]);
        start = cut;
    }
    s.finish()
}

/// `body` fed whole, then byte by byte: both must agree; the whole verdict is returned.
fn whole(body: &[u8]) -> Result<Option<Usage>, NotJson> {
    let once = scan(body, &[]);
    let cuts: Vec<usize> = (1..body.len()).collect();
    assert_eq!(scan(body, &cuts), once, "{}", String::from_utf8_lossy(body));
    once
}

/// What serde_json says: whether `body` is one JSON value, and its top-level `usage`; the
/// error's text when it is not.
fn reference(body: &[u8]) -> Result<Option<Usage>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(value
        .get("usage")
        .and_then(|u| parse_usage(&serde_json::to_vec(u).unwrap())))
}

fn usage(prompt: u64, completion: u64) -> Option<Usage> {
    Some(Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        estimated: false,
    })
}

#[test]
fn a_completion_gives_its_usage() {
    let body = br#"{"id":"x","choices":[{"message":{"content":"h\u00e9 \"q\" \ud83d\ude00 ok"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "details": {"a": [1, -0.5e+3]}}}"#;
    assert_eq!(whole(body), Ok(usage(3, 2)));
    // An escaped key is the same key; a nested `usage` is not the answer's.
    let escaped = br#"{"us\u0061ge":{"prompt_tokens":1,"completion_tokens":1}}"#;
    assert_eq!(whole(escaped), Ok(usage(1, 1)));
    let nested = br#"{"choices":[{"usage":{"prompt_tokens":1}}],"x":{"usage":{}}}"#;
    assert_eq!(whole(nested), Ok(None));
    // Of a repeated key the last counts, as serde_json reads it.
    let twice = br#"{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}}"#;
    assert_eq!(whole(twice), Ok(usage(2, 0)));
    assert_eq!(reference(twice), Ok(usage(2, 0)));
    // JSON all the same, with no usage to read.
    for body in [
        &b"[1,2]"[..],
        b"\"text\"",
        b" 12 ",
        b"null",
        b"{}",
        br#"{"usage":null}"#,
        br#"{"usage":"many"}"#,
        br#"{"usage":{"prompt_tokens":"3"}}"#,
    ] {
        assert_eq!(whole(body), Ok(None), "{}", String::from_utf8_lossy(body));
        assert_eq!(reference(body), Ok(None));
    }
}

#[test]
fn what_is_not_json_is_named() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "it is empty"),
        (b" \n", "it is empty"),
        (br#"{"a":[1,2"#, "it ends before its value does"),
        (b"-", "it ends before its value does"),
        (b"{} {}", "more follows its value"),
        (b"[1,]", "the body is not JSON"),
        (br#"{"a":1,}"#, "an object key is not a string"),
        (b"{1:2}", "an object key is not a string"),
        (br#"{"a" 1}"#, "`:` is missing after a key"),
        (b"[1 2]", "`,` or a close is missing"),
        (b"[1}", "`,` or a close is missing"),
        (b"01", "more follows its value"),
        (b"1.", "it ends before its value does"),
        (b"1.e3", "a number is malformed"),
        (b"1e+", "it ends before its value does"),
        (b".5", "the body is not JSON"),
        (b"tru", "it ends before its value does"),
        (b"nul1", "an unknown word"),
        (b"\"a\tb\"", "a string holds a control character"),
        (br#""\x""#, "a string holds an unknown escape"),
        (br#""\u12g4""#, "a `\\u` escape is malformed"),
        (b"\"\xc0\x80\"", "the body is not UTF-8 text"),
        (b"\"\xed\xa0\x80\"", "the body is not UTF-8 text"),
        (b"\"\xe2\x82\"", "the body is not UTF-8 text"),
        (b"\"\xf5\x80\x80\x80\"", "the body is not UTF-8 text"),
        (b"\xef\xbb\xbf{}", "the body is not JSON"),
    ];
    for (body, why) in cases {
        let err = whole(body).expect_err(&String::from_utf8_lossy(body));
        assert!(
            err.0.ends_with(why),
            "{:?}: {}",
            String::from_utf8_lossy(body),
            err.0
        );
        assert!(
            reference(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn nesting_and_usage_are_bounded() {
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    assert_eq!(whole(nested(MAX_DEPTH).as_bytes()), Ok(None));
    assert_eq!(
        whole(nested(MAX_DEPTH + 1).as_bytes()),
        Err(NotJson("the body's JSON nests deeper than 1,024 levels"))
    );
    let pad = "x".repeat(MAX_USAGE_BYTES);
    let big = format!(r#"{{"usage":{{"prompt_tokens":1,"pad":"{pad}"}}}}"#);
    assert_eq!(
        whole(big.as_bytes()),
        Ok(None),
        "too large to keep: no usage"
    );
    let mut s = JsonScan::default();
    s.feed(big.as_bytes());
    assert!(s.usage.is_none());
    // A long answer keeps nothing of its text.
    let long = format!(
        r#"{{"text":"{}","usage":{{"prompt_tokens":2}}}}"#,
        "y".repeat(1 << 20)
    );
    let mut s = JsonScan::default();
    s.feed(long.as_bytes());
    assert!(s.held_bytes() < 128, "{}", s.held_bytes());
    assert_eq!(s.finish(), Ok(usage(2, 0)));
    // Reset keeps the scanner reusable.
    s.reset();
    s.feed(b"{\"usage\":{\"completion_tokens\":4}}");
    assert_eq!(s.finish(), Ok(usage(0, 4)));
}

/// A JSON value of a few levels: scalars with escapes, non-ASCII and odd numbers, arrays,
/// objects that may hold a `usage`.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z\"\\\\/\u{0}-\u{1f}é€😀]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,3}|usage", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            (0u64..1000, 0u64..1000).prop_map(|(p, c)| {
                json!({ "choices": [], "usage": { "prompt_tokens": p, "completion_tokens": c } })
            }),
        ]
    })
}

/// Up to `n` sorted cut offsets into `len` bytes.
fn cuts(len: usize, n: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..=len, 0..=n).prop_map(|mut c| {
        c.sort_unstable();
        c
    })
}

/// A serialized value, compact or pretty, and cuts into it.
fn document() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (value(), any::<bool>()).prop_flat_map(|(v, pretty)| {
        let body = if pretty {
            serde_json::to_vec_pretty(&v).unwrap()
        } else {
            serde_json::to_vec(&v).unwrap()
        };
        let len = body.len();
        (Just(body), cuts(len, 6))
    })
}

/// Bytes that make or break JSON, for mutations.
const MUTATIONS: &[u8] = b"{}[]\",:\\0-.eatn \x00\x1f\x80\xc3\xff";

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn documents_give_serde_jsons_usage_however_cut((body, cuts) in document()) {
        let expected = reference(&body).expect("serde_json wrote it");
        prop_assert_eq!(scan(&body, &cuts), Ok(expected));
    }

    #[test]
    fn broken_documents_get_serde_jsons_verdict(
        (body, cuts) in document(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..MUTATIONS.len()), 1..4),
        cut_short in any::<Option<prop::sample::Index>>(),
    ) {
        let mut body = body;
        for (at, m) in edits {
            let i = at.index(body.len());
            body[i] = MUTATIONS[m];
        }
        if let Some(at) = cut_short {
            body.truncate(at.index(body.len() + 1));
        }
        let cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= body.len()).collect();
        let got = scan(&body, &cuts);
        match reference(&body) {
            Ok(usage) => prop_assert_eq!(got, Ok(usage), "{}", String::from_utf8_lossy(&body)),
            // A number past f64 is JSON (RFC 8259 sets no range); serde_json's `Value` refuses
            // it, as the runner never did.
            Err(e) if e.starts_with("number out of range") => {}
            Err(_) => prop_assert!(got.is_err(), "{}", String::from_utf8_lossy(&body)),
        }
    }
}
