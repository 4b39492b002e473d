//! `[clients.NAME]` and the `client` axis through the library: point ids and order, the
//! `client` template variable, where relative paths lead, the plan's estimate with client
//! timeouts, and the warnings that do not stop a run. Errors are pinned by
//! tests/fixtures/invalid/clients*.toml.

mod scenario_support;

use std::path::Path;
use std::time::Duration;

use nitro_scenario::scenario::{self, ClientRef, Overrides};
use scenario_support::{MOCK_CHAT, load_text, set};

const TWO_CLIENTS: &str = "[clients.py]\ncommand = [\"sh\", \"client.py\"]\nlang = \"python\"\n\
    [clients.node]\ncommand = [\"sh\", \"client.js\"]\ntimeout = \"5s\"\n";

fn with_matrix(matrix: &str) -> String {
    format!(
        "{MOCK_CHAT}[run]\nruns = 2\nwarmup = \"1s\"\nduration = \"2s\"\n{TWO_CLIENTS}[matrix]\n{matrix}"
    )
}

#[test]
fn the_client_is_the_innermost_axis_and_ends_the_id() {
    let text = format!(
        "{}\n[matrix.axes]\nn = [1, 2]\n",
        with_matrix("route = [\"chat\"]\nconcurrency = [1, 8]\nclient = [\"builtin\", \"node\"]")
    );
    let s = load_text(&text, &Overrides::default()).unwrap();
    let points = scenario::expand(&s).unwrap();
    let ids: Vec<&str> = points.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "chat-c1-1-builtin",
            "chat-c1-1-node",
            "chat-c1-2-builtin",
            "chat-c1-2-node",
            "chat-c8-1-builtin",
            "chat-c8-1-node",
            "chat-c8-2-builtin",
            "chat-c8-2-node",
        ]
    );
    assert_eq!(points[1].client, ClientRef::External(1));
    assert_eq!(points[0].client, ClientRef::Builtin);
    assert_eq!(points[1].vars["client"], "node");
    assert_eq!(s.clients[1].timeout, Duration::from_secs(5));
    assert_eq!(s.clients[0].lang.as_deref(), Some("python"));
}

#[test]
fn without_a_client_axis_points_are_the_engines_and_keep_their_ids() {
    let text = format!("{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [4]\n");
    let s = load_text(&text, &Overrides::default()).unwrap();
    let points = scenario::expand(&s).unwrap();
    assert_eq!(points[0].id, "chat-c4");
    assert_eq!(points[0].client, ClientRef::Builtin);
    assert!(!points[0].vars.contains_key("client"));
}

#[test]
fn templates_see_the_client() {
    let text = format!(
        "{MOCK_CHAT}[routes.t]\npath = \"/t\"\nbody = {{ template = \"{{{{ client }}}}\" }}\n\
         {TWO_CLIENTS}[matrix]\nroute = [\"t\"]\nconcurrency = [1]\nclient = [\"builtin\", \"py\"]\n"
    );
    let s = load_text(&text, &Overrides::default()).unwrap();
    let bodies: Vec<Vec<u8>> = scenario::expand(&s)
        .unwrap()
        .iter()
        .map(|p| p.request.body.to_vec())
        .collect();
    assert_eq!(bodies, [b"builtin".to_vec(), b"py".to_vec()]);
    let plain = format!(
        "{MOCK_CHAT}[routes.t]\npath = \"/t\"\nbody = {{ template = \"{{{{ client }}}}\" }}\n[matrix]\nroute = [\"t\"]\nconcurrency = [1]\n"
    );
    let s = load_text(&plain, &Overrides::default()).unwrap();
    assert_eq!(
        &scenario::expand(&s).unwrap()[0].request.body[..],
        b"builtin"
    );
}

#[test]
fn relative_paths_lead_from_the_scenario_files_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let file = dir.path().join("s.toml");
    let text = format!(
        "{MOCK_CHAT}[clients.c]\ncommand = [\"./client\"]\ncwd = \"sub\"\n\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\nclient = [\"c\"]\n"
    );
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
    let spec = &s.clients[0];
    assert!(spec.base_dir.is_absolute(), "{}", spec.base_dir.display());
    assert_eq!(spec.base_dir, dir.path());
    assert_eq!(spec.cwd.as_deref(), Some(Path::new("sub")));
    // The program does not exist: a warning, not an error (its runs are skipped).
    let warnings: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warnings.iter().any(|w| w.ends_with(
            "clients.c.command: `./client` does not exist: the runs of client `c` will be skipped"
        )),
        "{warnings:?}"
    );
}

#[test]
fn the_estimate_counts_the_clients_timeouts_as_the_longest_case() {
    let s = load_text(
        &with_matrix("route = [\"chat\"]\nconcurrency = [1]\nclient = [\"builtin\", \"node\"]"),
        &Overrides::default(),
    )
    .unwrap();
    let points = scenario::expand(&s).unwrap();
    let e = scenario::estimate(&s, &points);
    // Two points of 2 runs x (1 s + 2 s) and 0.1 s each; node may take 5 s more per run.
    assert_eq!(e.wall, Duration::from_millis(12_200));
    assert_eq!(e.longest, Duration::from_millis(22_200));
    assert!(!e.lower_bound);
}

#[test]
fn warnings_name_what_clients_will_not_do() {
    let text = format!(
        "{MOCK_CHAT}[run]\nduration = \"2s\"\nrequests = 50\n{TWO_CLIENTS}\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\nclient = [\"builtin\", \"node\"]\n"
    );
    let s = load_text(&text, &Overrides::default()).unwrap();
    let warnings: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        warnings.iter().any(|w| w.contains(
            "run.requests: external clients end the measure phase at `run.duration` only; the \
             request count applies to `builtin`"
        )),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains(
            "clients.py: client `py` is not listed in `matrix.client`, so it does not run"
        )),
        "{warnings:?}"
    );
}

#[test]
fn the_axis_can_be_narrowed_from_the_command_line() {
    let s = load_text(
        &with_matrix(
            "route = [\"chat\"]\nconcurrency = [1]\nclient = [\"builtin\", \"py\", \"node\"]",
        ),
        &set(&["matrix.client=[\"py\"]"]),
    )
    .unwrap();
    let ids: Vec<String> = scenario::expand(&s)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["chat-c1-py"]);
}
