//! What a scenario may name, and how: routes and payloads (their names join point ids, which
//! name rows in reports and may name files), the scenario (it names the report folder), and
//! user axes (template variables). Also how an axis value is written inside a point id.

/// The longest name, in characters.
pub(crate) const MAX_NAME: usize = 64;

/// Template variables every point defines. A user axis may not take one of these names,
/// except `model`, which an axis replaces on purpose (it is sent in OpenAI bodies).
pub(crate) const BUILTIN_VARIABLES: &[&str] = &[
    "route",
    "payload",
    "payload_name",
    "concurrency",
    "rate",
    "model",
    "stream",
    "point_id",
    "client",
];

/// Words a template reads as literals or syntax, not as variables.
pub(crate) const TEMPLATE_WORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None",
    "loop", "self",
];

/// Check a route or payload name (`kind` is "route" or "payload"): letters, digits, `_` and
/// `-`, starting with a letter or digit. No `.`, so `--set routes.NAME.path=...` can name it.
pub(crate) fn check_name(kind: &str, name: &str) -> Result<(), String> {
    check(
        name,
        &format!("{kind} name"),
        "use letters, digits, `_` and `-`, starting with a letter or digit",
        |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
    )
}

/// Check the scenario's name, which names the report folder: letters, digits, `_`, `-` and
/// `.`, starting with a letter or digit.
pub(crate) fn check_scenario_name(name: &str) -> Result<(), String> {
    check(
        name,
        "scenario name",
        "it names the report folder, so use letters, digits, `_`, `-` and `.`, starting with a \
         letter or digit",
        |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'),
    )
}

/// Check a user axis name: a template variable, so letters, digits and `_`, not starting with
/// a digit, and not a variable every point already defines.
pub(crate) fn check_axis_name(name: &str) -> Result<(), String> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().count() <= MAX_NAME;
    if !valid {
        return Err(format!(
            "axis name `{name}` must be letters, digits and `_`, not starting with a digit \
             (it is a template variable)"
        ));
    }
    if name != "model" && BUILTIN_VARIABLES.contains(&name) {
        return Err(format!(
            "`{name}` is a built-in template variable; give the axis another name"
        ));
    }
    if TEMPLATE_WORDS.contains(&name) {
        return Err(format!(
            "`{name}` is a template keyword; give the axis another name"
        ));
    }
    Ok(())
}

/// The built-in variable or `[matrix]` key a valid user axis `name` looks like a typo of, and
/// what taking one for the other means: a name within one edit (two for names of 8 letters or
/// more) of it, case aside, starting with the same letter. A name the built-in merely extends
/// (`mode` for `model`) is more often a word of its own than a typo, and is let be.
pub(crate) fn near_builtin(name: &str) -> Option<(&'static str, &'static str)> {
    let lower = name.to_lowercase();
    let builtin = BUILTIN_VARIABLES.iter().copied().find(|b| {
        let edits = if b.len() >= 8 { 2 } else { 1 };
        name != *b
            && lower.chars().next() == b.chars().next()
            && !(lower.len() < b.len() && b.starts_with(lower.as_str()))
            && strsim::osa_distance(&lower, b) <= edits
    })?;
    let meaning = match builtin {
        "model" => "an axis named `model` replaces `target.model` per point",
        "route" | "payload" | "concurrency" | "rate" => {
            "the built-in axes are keys of `[matrix]`, not of `[matrix.axes]`"
        }
        _ => "every point sets it; an axis cannot",
    };
    Some((builtin, meaning))
}

/// Check `name` (a `what`) against `allowed` characters, saying `rule` when it breaks it.
fn check(name: &str, what: &str, rule: &str, allowed: impl Fn(char) -> bool) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("a {what} must not be empty"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!(
            "`{name}` is too long for a {what} (at most {MAX_NAME} characters)"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.chars().all(allowed) {
        return Err(format!("`{name}` is not a valid {what}; {rule}"));
    }
    Ok(())
}

/// An axis value as written in a point id: characters other than letters, digits, `_`, `-`
/// and `.` become `_`, so `meta-llama/Llama-3.1-8B` gives `meta-llama_Llama-3.1-8B`.
pub(crate) fn id_part(value: &str) -> String {
    let part: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if part.is_empty() { "_".into() } else { part }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_and_payload_names_are_id_and_file_safe() {
        assert!(check_name("route", "chat-stream").is_ok());
        assert!(check_name("payload", "S").is_ok());
        assert_eq!(
            check_name("route", "../../evil").unwrap_err(),
            "`../../evil` is not a valid route name; use letters, digits, `_` and `-`, \
             starting with a letter or digit"
        );
        assert_eq!(
            check_name("payload", "").unwrap_err(),
            "a payload name must not be empty"
        );
        assert!(
            check_name("route", "a.b").is_err(),
            "`.` would split --set keys"
        );
        assert!(check_name("route", "-x").is_err());
        assert!(check_name("route", &"x".repeat(65)).is_err());
    }

    #[test]
    fn scenario_names_allow_dots_but_not_parent_folders() {
        assert!(check_scenario_name("release-1.2").is_ok());
        assert!(check_scenario_name("..").is_err());
        assert!(check_scenario_name("a/b").is_err());
    }

    #[test]
    fn axis_names_are_variables_and_may_replace_only_model() {
        assert!(check_axis_name("model").is_ok());
        assert!(check_axis_name("max_tokens").is_ok());
        assert!(check_axis_name("stream").is_err());
        assert!(check_axis_name("point_id").is_err());
        assert!(check_axis_name("payload_name").is_err());
        assert!(check_axis_name("none").is_err());
        assert!(check_axis_name("2x").is_err());
        assert!(check_axis_name("a-b").is_err());
    }

    #[test]
    fn axis_names_near_a_built_in_are_told_apart() {
        let near = |name| near_builtin(name).map(|(b, _)| b);
        assert_eq!(near("modle"), Some("model"));
        assert_eq!(near("Model"), Some("model"));
        assert_eq!(near("models"), Some("model"));
        assert_eq!(near("concurency"), Some("concurrency"));
        assert_eq!(near("conncurency"), Some("concurrency"));
        assert_eq!(near("paylod"), Some("payload"));
        assert_eq!(near("strem"), Some("stream"));
        assert_eq!(near("rates"), Some("rate"));
        assert_eq!(near("model"), None, "the built-in itself");
        assert_eq!(near("mode"), None, "a word the built-in extends");
        assert_eq!(near("date"), None, "another first letter");
        assert_eq!(near("lang"), None);
        assert_eq!(near("max_tokens"), None);
    }

    #[test]
    fn axis_values_become_safe_id_parts() {
        assert_eq!(id_part("small-model"), "small-model");
        assert_eq!(
            id_part("meta-llama/Llama-3.1-8B"),
            "meta-llama_Llama-3.1-8B"
        );
        assert_eq!(id_part(""), "_");
    }
}
