//! Credentials in a scenario: which header names carry one, the `user:password@` of a base URL
//! (shown as `***@`, sent as basic auth), and the file's text with every literal credential
//! replaced by `***`, as the report echoes it.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use url::Url;

use super::SecretText;
use super::read::{Value, toml_string};

/// Whether a header named `name` (lowercase) carries a credential: its value is shown as
/// `***` everywhere, like an `${env:NAME}` value.
pub(crate) fn is_credential_header(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || name.ends_with("-key")
        || name.ends_with("_key")
        || name.ends_with("apikey")
        || name.contains("token")
        || name.contains("secret")
        || name.contains("password")
}

/// Whether `text` reads the environment (`${env:NAME}`) rather than holding its value.
pub(crate) fn reads_env(text: &str) -> bool {
    text.contains("${env:")
}

/// Byte range of the `user:password` part of a URL written as `text`, if it has one.
fn userinfo(text: &str) -> Option<Range<usize>> {
    let start = text.find("://")? + 3;
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    text[start..end].rfind('@').map(|at| start..start + at)
}

/// `text` with the `user:password@` part of a URL shown as `***@`: credentials written into
/// a URL are secrets like `${env:NAME}` values.
pub(crate) fn redact_userinfo(text: &str) -> String {
    match userinfo(text) {
        Some(range) => format!("{}***{}", &text[..range.start], &text[range.end..]),
        None => text.to_string(),
    }
}

/// Whether the URL written as `text` holds a credential as it is, not only `${env:NAME}`
/// references.
pub(crate) fn has_literal_userinfo(text: &str) -> bool {
    let Some(range) = userinfo(text) else {
        return false;
    };
    let mut rest = &text[range];
    let mut literal = String::new();
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => rest = &rest[start + end + 1..],
            None => rest = "",
        }
    }
    literal.push_str(rest);
    literal.chars().any(|c| c != ':')
}

/// The `authorization` header for the `user:password@` of `url`, if it has one: basic auth, as
/// curl and browsers send it. The value is a secret, shown as `Basic ***`.
pub(crate) fn basic_auth(url: &Url) -> Option<SecretText> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let mut pair = percent_decode(url.username());
    pair.push(b':');
    pair.extend(percent_decode(url.password().unwrap_or("")));
    Some(SecretText {
        resolved: format!("Basic {}", base64(&pair)),
        display: "Basic ***".into(),
    })
}

/// `url` without its `user:password@`: they travel in the `authorization` header instead.
pub(crate) fn without_userinfo(url: &Url) -> Url {
    let mut url = url.clone();
    // Both fail only for a URL that cannot hold credentials at all, which has none to remove.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url
}

/// `text` (a whole scenario file, parsed as `root`) with every literal credential replaced by
/// `***`: the values of credential headers in `target.headers` and `routes.NAME.headers`
/// written without `${env:NAME}`, and a literal `user:password@` in `target.base_url`.
/// `${env:NAME}` references stay as written: they name a secret without holding it.
pub(crate) fn redact_text(text: &str, root: &DeTable<'_>) -> String {
    let mut cuts: Vec<(Range<usize>, String)> = Vec::new();
    if let Some(target) = table(root.get("target")) {
        if let Some(v) = target.get("base_url") {
            if let DeValue::String(url) = v.get_ref() {
                if has_literal_userinfo(url) {
                    cuts.push((v.span(), toml_string(&redact_userinfo(url))));
                }
            }
        }
        header_cuts(target.get("headers"), &mut cuts);
    }
    if let Some(routes) = table(root.get("routes")) {
        for (_, route) in routes.iter() {
            if let Some(route) = table(Some(route)) {
                header_cuts(route.get("headers"), &mut cuts);
            }
        }
    }
    cuts.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (span, replacement) in cuts {
        if span.start < pos || text.get(span.clone()).is_none() {
            continue;
        }
        out.push_str(&text[pos..span.start]);
        out.push_str(&replacement);
        pos = span.end;
    }
    out.push_str(&text[pos..]);
    out
}

/// The literal credential values of a `headers` table, to be cut from the echoed text.
fn header_cuts(headers: Option<&Value<'_>>, cuts: &mut Vec<(Range<usize>, String)>) {
    let Some(headers) = table(headers) else {
        return;
    };
    for (name, value) in headers.iter() {
        if let DeValue::String(text) = value.get_ref() {
            if is_credential_header(&name.get_ref().to_lowercase()) && !reads_env(text) {
                cuts.push((value.span(), toml_string("***")));
            }
        }
    }
}

fn table<'t, 'i>(value: Option<&'t Value<'i>>) -> Option<&'t DeTable<'i>> {
    match value?.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

/// `%XX` escapes of a URL part decoded to bytes; anything else kept as it is.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits make at most 255.
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648), as basic auth writes it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_userinfo("http://user:pass@h:1/api"),
            "http://***@h:1/api"
        );
        assert_eq!(redact_userinfo("https://tok@h"), "https://***@h");
        assert_eq!(redact_userinfo("http://h:1/a@b"), "http://h:1/a@b");
        assert_eq!(redact_userinfo("mock"), "mock");
        assert!(has_literal_userinfo("http://u:${env:P}@h"));
        assert!(!has_literal_userinfo("http://${env:U}:${env:P}@h"));
        assert!(!has_literal_userinfo("http://h/${env:P}@x"));
    }

    #[test]
    fn credential_headers_are_recognised_by_name() {
        for name in [
            "authorization",
            "proxy-authorization",
            "x-api-key",
            "x-apikey",
            "x-auth-token",
            "client-secret",
            "cookie",
            "set-cookie",
        ] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["content-type", "x-request-id", "accept"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }

    #[test]
    fn basic_auth_is_the_decoded_pair_in_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        let url = Url::parse("http://us%40er:p%3Ass@h:1/v1").unwrap();
        let header = basic_auth(&url).unwrap();
        assert_eq!(header.resolved, format!("Basic {}", base64(b"us@er:p:ss")));
        assert_eq!(header.display, "Basic ***");
        assert_eq!(without_userinfo(&url).as_str(), "http://h:1/v1");
        assert!(basic_auth(&Url::parse("http://h/").unwrap()).is_none());
        assert_eq!(percent_decode("a%2"), b"a%2");
    }

    #[test]
    fn literal_credentials_are_cut_from_the_text() {
        let text = "[target]\nbase_url = \"http://u:pw@h\"\n\
                    headers = { authorization = 'Bearer sk-1', x-key = \"${env:K}\", x-a = \"v\" }\n\
                    [routes.r.headers]\ncookie = \"s=1\"\n";
        let root = DeTable::parse(text).unwrap();
        assert_eq!(
            redact_text(text, root.get_ref()),
            "[target]\nbase_url = \"http://***@h\"\n\
             headers = { authorization = \"***\", x-key = \"${env:K}\", x-a = \"v\" }\n\
             [routes.r.headers]\ncookie = \"***\"\n"
        );
    }
}
