//! Report templates: the built-in `report.md.j2`, or a user's folder (`--templates DIR` or
//! `output.templates`).
//!
//! A user's folder is read whole and up front — every `*.j2` file under it, named by its path
//! relative to the folder, each a regular file of at most [`MAX_TEMPLATE_BYTES`] and all of
//! them at most [`MAX_FOLDER_BYTES`] — and served to minijinja from memory, so templates can
//! `{% include %}`, `{% import %}` or `{% extends %}` one another while rendering stays a pure
//! function of the report and these sources. Errors name the user's file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};

use super::ReportError;
use super::filters;
use crate::scenario::read_text;
use crate::scenario::units::format_size;

/// The Markdown report's template, built in and looked up at the top of a user's folder.
pub(crate) const MAIN: &str = "report.md.j2";
const BUILT_IN: &str = include_str!("templates/report.md.j2");
/// How deep a user's folder is searched for `*.j2` files.
const MAX_DEPTH: usize = 8;
/// The largest template file, bytes (4 MiB): the built-in report is 10 KiB.
pub(crate) const MAX_TEMPLATE_BYTES: u64 = 4 << 20;
/// The most all the templates of a folder may hold together, bytes (16 MiB).
pub(crate) const MAX_FOLDER_BYTES: u64 = 16 << 20;
/// The work one render may do, in minijinja fuel (about one template instruction, or 64 bytes
/// of data made), so that a template that loops without end fails within about a second
/// (release build) instead of hanging the end of a run. The built-in report of the 20-point
/// sample takes about 6,000.
pub(crate) const FUEL: u64 = 50_000_000;
/// The largest `report.md` a template may produce, bytes.
pub(crate) const MAX_OUTPUT: usize = 64 << 20;

/// Template sources held in memory, ready to render.
#[derive(Debug, Clone)]
pub struct Templates {
    /// The user's folder; `None` for the built-in template.
    dir: Option<PathBuf>,
    /// Sources by name (`/`-separated path relative to `dir`).
    sources: Arc<BTreeMap<String, String>>,
}

impl Templates {
    /// The template built into the binary.
    pub fn built_in() -> Self {
        let mut sources = BTreeMap::new();
        sources.insert(MAIN.to_string(), BUILT_IN.to_string());
        Self {
            dir: None,
            sources: Arc::new(sources),
        }
    }

    /// The user's folder `dir` when given, else the built-in template.
    pub fn from_folder(dir: Option<&Path>) -> Result<Self, ReportError> {
        dir.map_or_else(|| Ok(Self::built_in()), Self::load)
    }

    /// Read every `*.j2` file under `dir`; the folder and its `report.md.j2` must exist.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        Self::load_for(dir, MAIN)
    }

    /// Read every `*.j2` file under `dir`; the folder and its template `main` must exist
    /// (`report.md.j2` for reports, `compare.md.j2` for `compare`).
    pub fn load_for(dir: &Path, main: &str) -> Result<Self, ReportError> {
        if !dir.is_dir() {
            let message = if dir.exists() {
                let flags = if main == MAIN {
                    "`--templates` and `output.templates` name"
                } else {
                    "`--templates` names"
                };
                format!("not a folder; {flags} a folder holding `{main}`")
            } else {
                "templates folder not found".into()
            };
            return Err(ReportError::TemplateFiles {
                path: dir.to_path_buf(),
                message,
            });
        }
        let mut sources = BTreeMap::new();
        collect(dir, dir, 0, &mut sources)?;
        if !sources.contains_key(main) {
            return Err(ReportError::TemplateFiles {
                path: dir.join(main),
                message: format!("not found; a templates folder needs `{main}`"),
            });
        }
        Ok(Self {
            dir: Some(dir.to_path_buf()),
            sources: Arc::new(sources),
        })
    }

    /// The user's folder, or `None` for the built-in template.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// These templates, with `source` as template `name` when they have none of that name: a
    /// built-in template that a user's folder may replace.
    pub(crate) fn or_built_in(&self, name: &str, source: &str) -> Self {
        if self.sources.contains_key(name) {
            return self.clone();
        }
        let mut sources = (*self.sources).clone();
        sources.insert(name.to_string(), source.to_string());
        Self {
            dir: self.dir.clone(),
            sources: Arc::new(sources),
        }
    }

    /// Render template `name` with `context`; strict undefined, the report filters, a final
    /// newline guaranteed.
    pub(crate) fn render(&self, name: &str, context: Value) -> Result<String, ReportError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .build()
            .map_err(|e| self.error(e))?;
        env.set_syntax(syntax);
        filters::register(&mut env);
        let sources = Arc::clone(&self.sources);
        env.set_loader(move |name| Ok(sources.get(name).cloned()));
        env.set_fuel(Some(FUEL));
        let template = env.get_template(name).map_err(|e| self.error(e))?;
        let mut out = Capped(Vec::new());
        template
            .render_captured_to(context, &mut out)
            .map_err(|e| self.error(e))?;
        let mut text = String::from_utf8(out.0)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }

    /// Where a template lives, as a person finds it: the user's file, or the built-in one.
    fn file_of(&self, name: &str) -> String {
        match &self.dir {
            Some(dir) => dir.join(name).display().to_string(),
            None => format!("built-in {name}"),
        }
    }

    /// The error at its innermost template (an error inside an included template arrives
    /// wrapped by the include), with where it was included from.
    fn error(&self, e: minijinja::Error) -> ReportError {
        let mut chain: Vec<&minijinja::Error> = vec![&e];
        let mut cause = std::error::Error::source(&e);
        while let Some(inner) = cause {
            if let Some(inner) = inner.downcast_ref::<minijinja::Error>() {
                chain.push(inner);
            }
            cause = inner.source();
        }
        let at = |e: &minijinja::Error| {
            let file = self.file_of(e.name().unwrap_or(MAIN));
            e.line()
                .map_or(file.clone(), |line| format!("{file}:{line}"))
        };
        let innermost = chain[chain.len() - 1];
        let mut message = innermost.kind().to_string();
        if let Some(detail) = innermost.detail() {
            message = format!("{message}: {detail}");
        }
        message = match innermost.kind() {
            ErrorKind::OutOfFuel => format!(
                "{message}: the template did more work than a report needs (the limit is {} \
                 steps) and was stopped; does a loop run without end?",
                filters::thousands(FUEL)
            ),
            ErrorKind::WriteFailure => format!(
                "the report grew past {} MiB (the limit on template output) and was stopped",
                MAX_OUTPUT >> 20
            ),
            _ => message,
        };
        for outer in chain[..chain.len() - 1].iter().rev() {
            message = format!("{message} (included from {})", at(outer));
        }
        ReportError::Template {
            file: at(innermost),
            message,
        }
    }
}

/// The render's output, refused past [`MAX_OUTPUT`] bytes.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            return Err(std::io::Error::other("template output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn collect(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut BTreeMap<String, String>,
) -> Result<(), ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| ReportError::TemplateFiles {
            message: format!("cannot read: {e}"),
            path,
        }
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if file_name.starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                collect(root, &path, depth + 1, out)?;
            }
        } else if file_name.ends_with(".j2") {
            // A FIFO named like a template is refused, not skipped: skipped, it would read as
            // a missing template.
            let subject = format!("`{}`", path.display());
            let text = read_text(&path, MAX_TEMPLATE_BYTES, &subject, "a template").map_err(
                |message| ReportError::Unreadable {
                    path: path.clone(),
                    message,
                },
            )?;
            let name: Vec<String> = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.insert(name.join("/"), text);
            // Checked as the folder is read, so a folder of many large files stops early.
            let total: u64 = out.values().map(|t| t.len() as u64).sum();
            if total > MAX_FOLDER_BYTES {
                return Err(ReportError::TemplateFiles {
                    path: root.to_path_buf(),
                    message: format!(
                        "its templates hold more than the limit of {} together",
                        format_size(MAX_FOLDER_BYTES)
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_folder_is_read_whole_and_includes_resolve() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("parts")).unwrap();
        std::fs::write(
            dir.path().join(MAIN),
            "{% include \"parts/head.j2\" %}|{{ n | thousands }}",
        )
        .unwrap();
        std::fs::write(dir.path().join("parts/head.j2"), "head").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a template").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        assert_eq!(
            t.sources.keys().collect::<Vec<_>>(),
            ["parts/head.j2", MAIN]
        );
        let ctx = Value::from(minijinja::value::Serde(serde_json::json!({ "n": 1234 })));
        assert_eq!(t.render(MAIN, ctx).unwrap(), "head|1,234\n");
    }

    #[test]
    fn errors_name_the_users_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Templates::load(&dir.path().join("nope")).unwrap_err();
        assert!(
            missing
                .to_string()
                .ends_with("nope: templates folder not found")
        );
        let no_main = Templates::load(dir.path()).unwrap_err().to_string();
        assert!(no_main.contains("report.md.j2: not found"), "{no_main}");

        std::fs::write(dir.path().join(MAIN), "a\n{% include \"inc.j2\" %}").unwrap();
        std::fs::write(dir.path().join("inc.j2"), "b\n{{ nosuch }}").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        let err = t.render(MAIN, Value::from(())).unwrap_err().to_string();
        assert!(err.contains("inc.j2:2"), "{err}");
        assert!(err.contains("undefined value"), "{err}");
    }
}
