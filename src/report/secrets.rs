//! Defence in depth for secrets: every secret value of a scenario — interpolated from
//! `${env:NAME}` (header values, the base URL), a header set by an override, a credential
//! header, the base URL's `user:password@` — is replaced by `***` in the free text that goes
//! into a report — the interruption message, the target, the scenario echo — whoever wrote
//! that text. The scenario's own display forms are already redacted; this catches messages
//! built from the resolved values, such as a transport error naming a secret host.

use crate::scenario::{BaseUrl, Scenario, SecretText};

/// Secret values shorter than this are not searched for in free text: they would be replaced
/// inside unrelated words and numbers (a header `x-debug=1` set by an override would turn every
/// `1` of the report into `***`). They are still shown as `***` wherever they are shown.
const MIN_SCRUBBED_CHARS: usize = 4;

/// The secret values of one scenario, longest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    /// Every interpolated value of `scenario`.
    pub(crate) fn of(scenario: &Scenario) -> Self {
        let mut values = Vec::new();
        let headers = scenario
            .target
            .headers
            .iter()
            .chain(scenario.routes.iter().flat_map(|r| r.headers.iter()));
        for (_, value) in headers {
            values.extend(interpolated(value));
        }
        if let BaseUrl::Url { url, display } = &scenario.target.base_url {
            values.extend(interpolated(display));
            if display.resolved != display.display {
                // The URL parser may have normalised the host (case, IDNA): a message built
                // from the parsed URL shows that form. `url` no longer holds the credentials
                // (they are sent as a header): they are read from the resolved text.
                let with_credentials = url::Url::parse(&display.resolved).ok();
                let mut parts = vec![url.host_str().unwrap_or("")];
                if let Some(u) = &with_credentials {
                    parts.push(u.username());
                    parts.extend(u.password());
                }
                for part in parts {
                    if !part.is_empty() && !display.display.contains(part) {
                        values.push(part.to_string());
                    }
                }
            }
        }
        values.retain(|v| v.chars().count() >= MIN_SCRUBBED_CHARS);
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Self(values)
    }

    /// `text` with every secret (ASCII case ignored) replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |text, secret| {
            replace_ignoring_case(&text, secret)
        })
    }

    /// Scrub every string of a JSON value, in place.
    pub(crate) fn scrub_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.scrub(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.scrub_json(v)),
            _ => {}
        }
    }
}

/// The values interpolated into `text`: each one, and the whole span from the first to the
/// last (so a split that guessed wrong still hides them). `display` is `resolved` with each
/// value written `***`; when it cannot be lined up, the whole resolved text is the secret.
fn interpolated(text: &SecretText) -> Vec<String> {
    let (resolved, display) = (&text.resolved, &text.display);
    if resolved == display {
        return Vec::new();
    }
    let literals: Vec<&str> = display.split("***").collect();
    let (first, last) = (literals[0], literals[literals.len() - 1]);
    if literals.len() < 2
        || first.len() + last.len() > resolved.len()
        || !resolved.starts_with(first)
        || !resolved.ends_with(last)
    {
        return vec![resolved.clone()];
    }
    let span = &resolved[first.len()..resolved.len() - last.len()];
    let mut values = vec![span.to_string()];
    let mut rest = span;
    for literal in &literals[1..literals.len() - 1] {
        match rest.find(literal).filter(|_| !literal.is_empty()) {
            Some(i) => {
                values.push(rest[..i].to_string());
                rest = &rest[i + literal.len()..];
            }
            None => return values,
        }
    }
    values.push(rest.to_string());
    values
}

/// `text` with every occurrence of `needle`, ASCII case ignored, replaced by `***`.
fn replace_ignoring_case(text: &str, needle: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so positions found in the lowered copies
    // are char boundaries of `text` too.
    let (hay, pin) = (text.to_ascii_lowercase(), needle.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(i) = hay[pos..].find(&pin) {
        out.push_str(&text[pos..pos + i]);
        out.push_str("***");
        pos += i + pin.len();
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(resolved: &str, display: &str) -> SecretText {
        SecretText {
            resolved: resolved.into(),
            display: display.into(),
        }
    }

    #[test]
    fn interpolated_values_are_lined_up_with_the_display() {
        assert_eq!(
            interpolated(&secret("Bearer sk-1", "Bearer ***")),
            ["sk-1", "sk-1"]
        );
        assert_eq!(
            interpolated(&secret("http://u:p@h:9/", "http://***:***@h:9/")),
            ["u:p", "u", "p"]
        );
        assert_eq!(interpolated(&secret("ab", "***")), ["ab", "ab"]);
        assert!(interpolated(&secret("plain", "plain")).is_empty());
        // Adjacent values cannot be told apart: their span is the secret.
        assert_eq!(interpolated(&secret("xy", "******")), ["xy"]);
        // A display that does not line up: everything resolved is secret.
        assert_eq!(interpolated(&secret("abc", "x***")), ["abc"]);
    }

    #[test]
    fn scrubbing_ignores_ascii_case() {
        let s = Secrets(vec!["supersecret-abc.invalid".into()]);
        assert_eq!(
            s.scrub("cannot resolve `SuperSecret-ABC.invalid` (supersecret-abc.invalid)"),
            "cannot resolve `***` (***)"
        );
        let mut v = serde_json::json!({"a": ["x supersecret-abc.invalid"], "n": 1});
        s.scrub_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["x ***"], "n": 1}));
    }
}
