//! `${env:NAME}` interpolation for secrets in headers and URLs. The resolved text goes on the
//! wire; the display text shows `***` in place of every interpolated value.

use super::SecretText;

/// Why a text could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// `${` with no closing `}`.
    Unclosed,
    /// `${...}` that is not `${env:NAME}`; holds what was between the braces.
    NotEnv(String),
    /// `${env:NAME}` naming an unset variable; holds the name.
    Unset(String),
}

impl std::fmt::Display for Unresolved {
    /// What is wrong and what to do, quoting the reference.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotEnv(reference) => write!(
                f,
                "`${{{reference}}}` is not an environment reference; write `${{env:NAME}}`"
            ),
            other => f.write_str(&other.redacted()),
        }
    }
}

impl Unresolved {
    /// What is wrong without quoting what was written, for a value that is a secret.
    pub(crate) fn redacted(&self) -> String {
        match self {
            Self::Unclosed => "`${` without a closing `}`; write `${env:NAME}`".into(),
            Self::NotEnv(_) => {
                "a `${...}` in the value is not an environment reference; write `${env:NAME}`"
                    .into()
            }
            Self::Unset(name) => format!(
                "environment variable `{name}` is not set; export it or remove `${{env:{name}}}`"
            ),
        }
    }
}

/// Replace every `${env:NAME}` in `text` using `env`; an unset variable or a malformed
/// reference is an error saying what to do.
pub(crate) fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretText, Unresolved> {
    let mut resolved = String::with_capacity(text.len());
    let mut display = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        resolved.push_str(&rest[..start]);
        display.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(Unresolved::Unclosed)?;
        let reference = &after[..end];
        let name = reference
            .strip_prefix("env:")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Unresolved::NotEnv(reference.to_string()))?;
        let value = env(name).ok_or_else(|| Unresolved::Unset(name.to_string()))?;
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
            interpolate("${env:NOPE}", &env).unwrap_err().to_string(),
            "environment variable `NOPE` is not set; export it or remove `${env:NOPE}`"
        );
        assert_eq!(
            interpolate("a ${env:KEY", &env).unwrap_err().to_string(),
            "`${` without a closing `}`; write `${env:NAME}`"
        );
        let not_env = interpolate("${sk-1}", &env).unwrap_err();
        assert_eq!(
            not_env.to_string(),
            "`${sk-1}` is not an environment reference; write `${env:NAME}`"
        );
        assert!(!not_env.redacted().contains("sk-1"));
    }
}
