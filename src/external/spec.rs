//! What to start: a client's spec (`[clients.NAME]`), the point values one run hands it, and
//! the command line built from both — the protocol's environment variables, `{VAR}`
//! placeholders in arguments and `env` values, and where relative paths lead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a client may run past the point's warmup and measure phases when its spec sets
/// no `timeout`.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variables every run sets (and `{VAR}` placeholders expand to), in the
/// order the README's table lists them.
pub const PROTOCOL_VARS: &[&str] = &[
    "BASE",
    "MOCKOON_BASE",
    "ROUTE",
    "C",
    "T",
    "BENCHMARK_SECONDS",
    "WARMUP_SECONDS",
    "SIZE",
    "PAYLOAD_FILE",
    "HEADERS_FILE",
    "MODEL",
    "STREAM",
    "RESULTS_FILE",
];

/// A placeholder that is not an environment variable: the scenario file's folder.
const SCENARIO_DIR: &str = "SCENARIO_DIR";

/// `[clients.NAME]`: how to start one client implementation.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    /// The client's name, the `NAME` of `[clients.NAME]`.
    pub name: String,
    /// Program, then arguments. `{VAR}` expands to a protocol value (see [`PROTOCOL_VARS`],
    /// plus `{SCENARIO_DIR}`). A program with a `/` in it is relative to `base_dir`; one
    /// without is looked up in `PATH`.
    pub command: Vec<String>,
    /// Environment variables added to the inherited ones; values expand placeholders. The
    /// protocol's own variables always win.
    pub env: BTreeMap<String, String>,
    /// Working directory, relative to `base_dir`; `None` is `base_dir` itself, so relative
    /// paths in arguments resolve against the scenario file's folder.
    pub cwd: Option<PathBuf>,
    /// Label in reports; `None` takes the `lang` the client reports, else `name`.
    pub lang: Option<String>,
    /// How long the client may run past the point's warmup and measure phases before it is
    /// killed.
    pub timeout: Duration,
    /// The scenario file's folder.
    pub base_dir: PathBuf,
}

/// What one run of one point tells the client: the protocol's values.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPoint {
    /// Target base URL; handed over without a trailing `/`, so `BASE + ROUTE` is the URL.
    pub base: String,
    /// Route path, starting with `/`: `/v1/chat/completions`.
    pub route: String,
    /// Closed-loop workers (`C`).
    pub concurrency: u32,
    /// Warmup phase (`WARMUP_SECONDS`); its requests are not reported.
    pub warmup: Duration,
    /// Measure phase (`T` and `BENCHMARK_SECONDS`).
    pub measure: Duration,
    /// Payload name (`SIZE`): `S`, `M`, `L`; empty when the matrix has no payload axis.
    pub payload_name: String,
    /// The exact request body the built-in engine would send (`PAYLOAD_FILE`'s content).
    pub payload: Vec<u8>,
    /// Model name (`MODEL`); unset in the child's environment when `None`.
    pub model: Option<String>,
    /// Whether the route streams (`STREAM`: `1` or `0`).
    pub stream: bool,
    /// Request headers (`HEADERS_FILE`, a JSON object); may hold secrets, which reach the
    /// child only through that file.
    pub headers: BTreeMap<String, String>,
}

/// A spec that cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// `command` has no program.
    #[error("client `{client}`: `command` is empty")]
    EmptyCommand {
        /// The client's name.
        client: String,
    },
    /// A `{VAR}` that names no protocol value.
    #[error("client `{client}`: unknown placeholder `{{{name}}}` in `{text}`; known: {known}")]
    UnknownPlaceholder {
        /// The client's name.
        client: String,
        /// The placeholder's name, without braces.
        name: String,
        /// The argument or `env` value it is in.
        text: String,
        /// The names that are known, in backticks.
        known: String,
    },
    /// `env` sets a variable the protocol sets itself.
    #[error("client `{client}`: `env` sets `{key}`, which every run sets itself")]
    ReservedEnv {
        /// The client's name.
        client: String,
        /// The variable.
        key: String,
    },
}

/// The protocol values of one run, by name.
#[derive(Debug, Clone)]
pub(crate) struct Vars(Vec<(&'static str, Option<String>)>);

/// Where the run's files are, as handed to the child.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilePaths<'a> {
    pub(crate) payload: &'a Path,
    pub(crate) headers: &'a Path,
    pub(crate) results: &'a Path,
}

impl Vars {
    /// The values of `point` with the run's files at `files`.
    pub(crate) fn new(point: &ClientPoint, files: FilePaths<'_>) -> Self {
        let base = point.base.trim_end_matches('/').to_string();
        let measure = seconds(point.measure);
        let path = |p: &Path| Some(p.display().to_string());
        Self(vec![
            ("BASE", Some(base.clone())),
            ("MOCKOON_BASE", Some(base)),
            ("ROUTE", Some(point.route.clone())),
            ("C", Some(point.concurrency.to_string())),
            ("T", Some(measure.clone())),
            ("BENCHMARK_SECONDS", Some(measure)),
            ("WARMUP_SECONDS", Some(seconds(point.warmup))),
            ("SIZE", Some(point.payload_name.clone())),
            ("PAYLOAD_FILE", path(files.payload)),
            ("HEADERS_FILE", path(files.headers)),
            ("MODEL", point.model.clone()),
            (
                "STREAM",
                Some(if point.stream { "1" } else { "0" }.to_string()),
            ),
            ("RESULTS_FILE", path(files.results)),
        ])
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }
}

/// A duration as the protocol writes seconds: `60`, `0.5`.
fn seconds(d: Duration) -> String {
    // f64's Display writes whole numbers without a fraction and never uses an exponent.
    d.as_secs_f64().to_string()
}

/// The command line of one run, ready to spawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Launch {
    /// The program, resolved against the scenario folder when it has a `/`.
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    /// Variables to set, in order (later ones win).
    pub(crate) env: Vec<(String, String)>,
    /// Protocol variables to remove from the inherited environment (those without a value).
    pub(crate) env_remove: Vec<&'static str>,
    pub(crate) cwd: PathBuf,
}

impl ClientSpec {
    /// A spec running `command` from `base_dir` with no extra environment, no label and the
    /// default timeout.
    pub fn new(
        name: impl Into<String>,
        command: Vec<String>,
        base_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            name: name.into(),
            command,
            env: BTreeMap::new(),
            cwd: None,
            lang: None,
            timeout: DEFAULT_CLIENT_TIMEOUT,
            base_dir: base_dir.into(),
        }
    }

    /// Check what can be checked before a run: a program is named, every placeholder is
    /// known, `env` does not set a protocol variable. For scenario validation.
    pub fn check(&self) -> Result<(), SpecError> {
        if let Some(key) = self
            .env
            .keys()
            .find(|k| PROTOCOL_VARS.contains(&k.as_str()))
        {
            return Err(SpecError::ReservedEnv {
                client: self.name.clone(),
                key: key.clone(),
            });
        }
        let none = Vars(PROTOCOL_VARS.iter().map(|n| (*n, None)).collect());
        self.launch(&none).map(|_| ())
    }

    /// The time a run may take before the client is killed: warmup + measure + `timeout`.
    pub fn time_limit(&self, point: &ClientPoint) -> Duration {
        point.warmup + point.measure + self.timeout
    }

    /// The working directory a run uses.
    pub(crate) fn working_dir(&self) -> PathBuf {
        match &self.cwd {
            Some(cwd) => self.base_dir.join(cwd),
            None => self.base_dir.clone(),
        }
    }

    /// The command line for a run with `vars`.
    pub(crate) fn launch(&self, vars: &Vars) -> Result<Launch, SpecError> {
        let Some((program, args)) = self.command.split_first() else {
            return Err(SpecError::EmptyCommand {
                client: self.name.clone(),
            });
        };
        let program = self.expand(program, vars)?;
        let program = if program.contains('/') {
            self.base_dir.join(program)
        } else {
            PathBuf::from(program)
        };
        let args = args
            .iter()
            .map(|a| self.expand(a, vars))
            .collect::<Result<_, _>>()?;
        let mut env = Vec::new();
        for (key, value) in &self.env {
            env.push((key.clone(), self.expand(value, vars)?));
        }
        let mut env_remove = Vec::new();
        for (name, value) in &vars.0 {
            match value {
                Some(v) => env.push(((*name).to_string(), v.clone())),
                None => env_remove.push(*name),
            }
        }
        Ok(Launch {
            program,
            args,
            env,
            env_remove,
            cwd: self.working_dir(),
        })
    }

    /// `text` with each `{VAR}` (upper-case letters, digits, `_`) replaced; other braces stay.
    fn expand(&self, text: &str, vars: &Vars) -> Result<String, SpecError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..name_len];
            let closed = after[name_len..].starts_with('}');
            if !closed || !name.starts_with(|c: char| c.is_ascii_uppercase()) {
                out.push('{');
                rest = after;
                continue;
            }
            let value = if name == SCENARIO_DIR {
                self.base_dir.display().to_string()
            } else {
                vars.get(name)
                    .ok_or_else(|| self.unknown(name, text))?
                    .to_string()
            };
            out.push_str(&value);
            rest = &after[name_len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn unknown(&self, name: &str, text: &str) -> SpecError {
        let known = PROTOCOL_VARS
            .iter()
            .chain(&[SCENARIO_DIR])
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        SpecError::UnknownPlaceholder {
            client: self.name.clone(),
            name: name.to_string(),
            text: text.to_string(),
            known,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> ClientPoint {
        ClientPoint {
            base: "http://127.0.0.1:9/".into(),
            route: "/v1/chat/completions".into(),
            concurrency: 8,
            warmup: Duration::from_secs(2),
            measure: Duration::from_millis(500),
            payload_name: "S".into(),
            payload: b"{}".to_vec(),
            model: None,
            stream: true,
            headers: BTreeMap::new(),
        }
    }

    fn vars() -> Vars {
        let p = Path::new("/tmp/x/p");
        let files = FilePaths {
            payload: p,
            headers: Path::new("/tmp/x/h"),
            results: Path::new("/tmp/x/r"),
        };
        Vars::new(&point(), files)
    }

    fn spec(command: &[&str]) -> ClientSpec {
        ClientSpec::new("py", command.iter().map(|s| s.to_string()).collect(), "/s")
    }

    fn env<'a>(launch: &'a Launch, key: &str) -> Option<&'a str> {
        launch
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn placeholders_expand_and_other_braces_stay() {
        let s = spec(&[
            "node",
            "c.js",
            "{ROUTE}",
            "{BASE}{ROUTE}?c={C}",
            "{\"a\":1}",
            "{x}",
            "{",
        ]);
        let l = s.launch(&vars()).unwrap();
        assert_eq!(
            l.args,
            [
                "c.js",
                "/v1/chat/completions",
                "http://127.0.0.1:9/v1/chat/completions?c=8",
                "{\"a\":1}",
                "{x}",
                "{"
            ]
        );
        assert_eq!(l.program, PathBuf::from("node"));
        assert_eq!(l.cwd, PathBuf::from("/s"));
    }

    #[test]
    fn the_environment_carries_every_protocol_value_and_unsets_what_has_none() {
        let mut s = spec(&["./client", "--dir={SCENARIO_DIR}"]);
        s.env.insert("URL".into(), "{BASE}{ROUTE}".into());
        s.cwd = Some("sub".into());
        let l = s.launch(&vars()).unwrap();
        assert_eq!(l.program, PathBuf::from("/s/./client"));
        assert_eq!(l.args, ["--dir=/s"]);
        assert_eq!(l.cwd, PathBuf::from("/s/sub"));
        let expected = [
            ("URL", "http://127.0.0.1:9/v1/chat/completions"),
            ("BASE", "http://127.0.0.1:9"),
            ("MOCKOON_BASE", "http://127.0.0.1:9"),
            ("C", "8"),
            ("T", "0.5"),
            ("BENCHMARK_SECONDS", "0.5"),
            ("WARMUP_SECONDS", "2"),
            ("SIZE", "S"),
            ("STREAM", "1"),
            ("RESULTS_FILE", "/tmp/x/r"),
            ("PAYLOAD_FILE", "/tmp/x/p"),
            ("HEADERS_FILE", "/tmp/x/h"),
        ];
        for (key, value) in expected {
            assert_eq!(env(&l, key), Some(value), "{key}");
        }
        assert_eq!(l.env_remove, ["MODEL"]);
    }

    #[test]
    fn check_names_an_unknown_placeholder_an_empty_command_and_a_reserved_variable() {
        let e = spec(&["node", "{ROUTES}"]).check().unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "client `py`: unknown placeholder `{ROUTES}` in `{ROUTES}`; known: `BASE`"
            ),
            "{text}"
        );
        assert!(text.ends_with("`SCENARIO_DIR`"), "{text}");
        assert_eq!(
            spec(&[]).check().unwrap_err().to_string(),
            "client `py`: `command` is empty"
        );
        let mut s = spec(&["node"]);
        s.env.insert("T".into(), "5".into());
        assert_eq!(
            s.check().unwrap_err().to_string(),
            "client `py`: `env` sets `T`, which every run sets itself"
        );
        assert!(spec(&["node", "{ROUTE}", "{MODEL}"]).check().is_ok());
    }

    #[test]
    fn the_time_limit_is_both_phases_and_the_allowance() {
        let mut s = spec(&["x"]);
        s.timeout = Duration::from_secs(3);
        assert_eq!(s.time_limit(&point()), Duration::from_millis(5500));
    }
}
