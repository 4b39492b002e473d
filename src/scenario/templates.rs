//! Minijinja templates in scenario files (payload templates and body templates): compiled at
//! validation so that syntax errors point into the file, their variables checked against what
//! every point defines, and their failures at expansion described without minijinja's
//! `(in <string>:1)` noise. Rendering is bounded here (`render_capped`); what is rendered
//! for which point is decided in `expand`.

use std::collections::BTreeSet;
use std::ops::Range;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::Template;
use super::diagnostics::{Diagnostics, suggestion};
use super::names::{BUILTIN_VARIABLES, check_axis_name};

/// The environment templates are compiled and rendered in: an undefined value is an error,
/// never an empty string sent to a server.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

/// Compile `source`, written at `span` under `path`; a syntax error is a problem there.
pub(crate) fn compile(
    d: &mut Diagnostics<'_>,
    span: Range<usize>,
    path: &str,
    source: &str,
) -> Option<Template> {
    match environment().template_from_str(source) {
        Ok(_) => Some(Template {
            source: source.to_string(),
            spot: d.spot(&span),
        }),
        Err(e) => {
            d.error(
                span,
                path,
                format!("template does not compile: {}", describe(&e)),
            );
            None
        }
    }
}

/// Check that `template` (at `path`) reads only variables every point defines: the built-in
/// ones and the user axes `axes`. Template variables are plain values, so an attribute lookup
/// (`model.name`) is a problem too.
pub(crate) fn check_variables(
    d: &mut Diagnostics<'_>,
    template: &Template,
    path: &str,
    axes: &[String],
) {
    let env = environment();
    let Ok(compiled) = env.template_from_str(&template.source) else {
        return;
    };
    let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
    let mut known: Vec<&str> = BUILTIN_VARIABLES.to_vec();
    // An axis with an invalid name is reported where it is written, and is no variable to
    // suggest; `model` is already a built-in.
    for axis in axes {
        if check_axis_name(axis).is_ok() && !known.contains(&axis.as_str()) {
            known.push(axis);
        }
    }
    let used: BTreeSet<String> = compiled.undeclared_variables(true).into_iter().collect();
    for name in used {
        let root = name.split('.').next().unwrap_or(&name);
        if globals.contains(root) {
            continue;
        }
        if !known.contains(&root) {
            d.error_at(
                &template.spot,
                path,
                format!(
                    "`{root}` is not a template variable{}",
                    suggestion(root, &known)
                ),
            );
        } else if name != root {
            d.error_at(
                &template.spot,
                path,
                format!("`{name}` is undefined: `{root}` is a plain value with no attributes"),
            );
        }
    }
}

/// Why a template gave no text.
#[derive(Debug)]
pub(crate) enum RenderError {
    /// It wrote more than the cap; rendering stopped there.
    TooLarge,
    /// It failed.
    Failed(minijinja::Error),
}

/// Render `source` with `context`, keeping at most `cap` bytes of output: a template that
/// writes more (a loop over a large payload, say) is stopped there instead of filling memory.
pub(crate) fn render_capped(
    env: &Environment<'_>,
    source: &str,
    context: Value,
    cap: u64,
) -> Result<String, RenderError> {
    let template = env.template_from_str(source).map_err(RenderError::Failed)?;
    let mut out = Capped {
        bytes: Vec::new(),
        cap: usize::try_from(cap).unwrap_or(usize::MAX),
        over: false,
    };
    let rendered = template.render_captured_to(context, &mut out).map(drop);
    if out.over {
        return Err(RenderError::TooLarge);
    }
    rendered.map_err(RenderError::Failed)?;
    // minijinja writes whole `str` pieces, and a piece past the cap is refused whole.
    String::from_utf8(out.bytes).map_err(|_| RenderError::TooLarge)
}

/// A buffer that refuses a write taking it past `cap` bytes.
struct Capped {
    bytes: Vec<u8>,
    cap: usize,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.cap {
            self.over = true;
            return Err(std::io::Error::other("output over the cap"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A minijinja error as `kind: detail (template line N)`.
pub(crate) fn describe(e: &minijinja::Error) -> String {
    let mut text = e.kind().to_string();
    if let Some(detail) = e.detail() {
        text.push_str(": ");
        text.push_str(detail);
    }
    if let Some(line) = e.line() {
        text.push_str(&format!(" (template line {line})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_described_without_the_template_name() {
        let e = environment()
            .render_str("a\n{{ x }}", minijinja::context! {})
            .unwrap_err();
        assert_eq!(
            describe(&e),
            "undefined value: `x` is undefined (template line 2)"
        );
        let e = environment().template_from_str("{{ x ").unwrap_err();
        assert_eq!(
            describe(&e),
            "syntax error: unexpected end of input, expected end of variable block \
             (template line 1)"
        );
    }

    #[test]
    fn rendering_stops_at_the_cap() {
        let env = environment();
        let loop_ = "{% for i in range(1000) %}{{ x }}{% endfor %}";
        let context = || minijinja::context! { x => "abcd" };
        assert_eq!(
            render_capped(&env, loop_, context(), 4000).unwrap().len(),
            4000
        );
        assert!(matches!(
            render_capped(&env, loop_, context(), 3999),
            Err(RenderError::TooLarge)
        ));
        assert!(matches!(
            render_capped(&env, "{{ y }}", context(), 10),
            Err(RenderError::Failed(_))
        ));
    }
}
