//! `${env:NAME}` interpolation for secrets in headers and URLs. The resolved text goes on the
//! wire; the display text shows `***` in place of every interpolated value.

use super::SecretText;

/// Replace every `${env:NAME}` in `text` using `env`; an unset variable or a malformed
/// reference is an error saying what to do.
pub(crate) fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretText, String> {
    let mut resolved = String::with_capacity(text.len());
    let mut display = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        resolved.push_str(&rest[..start]);
        display.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| {
            format!("`${{` without a closing `}}` in `{text}`; write `${{env:NAME}}`")
        })?;
        let reference = &after[..end];
        let name = reference
            .strip_prefix("env:")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                format!("`${{{reference}}}` is not an environment reference; write `${{env:NAME}}`")
            })?;
        let value = env(name).ok_or_else(|| {
            format!(
                "environment variable `{name}` is not set; export it or remove `${{env:{name}}}`"
            )
        })?;
        resolved.push_str(&value);
        display.push_str("***");
        rest = &after[end + 1..];
    }
    resolved.push_str(rest);
    display.push_str(rest);
    Ok(SecretText { resolved, display })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "sk-123".to_string())
    }

    #[test]
    fn secrets_resolve_on_the_wire_and_show_redacted() {
        let t = interpolate("Bearer ${env:KEY}", &env).unwrap();
        assert_eq!(t.resolved, "Bearer sk-123");
        assert_eq!(t.display, "Bearer ***");
        let plain = interpolate("no secrets", &env).unwrap();
        assert_eq!(plain.resolved, plain.display);
    }

    #[test]
    fn missing_and_malformed_references_are_errors() {
        assert_eq!(
            interpolate("${env:NOPE}", &env).unwrap_err(),
            "environment variable `NOPE` is not set; export it or remove `${env:NOPE}`"
        );
        assert!(interpolate("${env:KEY", &env).is_err());
        assert!(interpolate("${KEY}", &env).is_err());
    }
}
