//! The README's runnable scenarios work as printed: every ```toml block that starts with
//! `name = ` is a whole scenario, and it must validate and expand with no environment variable
//! set and write to a folder no shipped scenario writes (`reports/quick/` is committed).
//! Blocks that do not start with `name = ` are fragments (a `[target]` for a real server).

use std::path::{Path, PathBuf};

use nitro_scenario::scenario::{self, Overrides};

/// The README's ```toml blocks that start with `name = `, with the line each starts on.
fn whole_scenarios(readme: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        match &mut current {
            None if line.trim_end() == "```toml" => current = Some((i + 2, String::new())),
            Some(_) if line.trim_end() == "```" => {
                if let Some((at, text)) = current.take() {
                    if text.starts_with("name = ") {
                        blocks.push((at, text));
                    }
                }
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// The `in about N minutes` the text says of the block starting on line `line` (1-based), in
/// the two lines above its fence.
fn claimed_minutes(readme: &str, line: usize) -> Option<f64> {
    let lines: Vec<&str> = readme.lines().collect();
    let above = lines[line.saturating_sub(4)..line - 2].join(" ");
    let rest = &above[above.find("in about ")? + "in about ".len()..];
    let (number, unit) = rest.split_once(' ')?;
    unit.starts_with("minute").then(|| number.parse().ok())?
}

fn shipped_names() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("scenarios").expect("scenarios/") {
        let path: PathBuf = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = scenario::load_with_env(&path, &Overrides::default(), &|_| None)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            names.push(s.name);
        }
    }
    names
}

#[test]
fn the_readme_scenarios_run_as_printed() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let blocks = whole_scenarios(&readme);
    assert!(
        blocks.len() >= 2,
        "the walk-through and the reference example: {blocks:?}"
    );
    let shipped = shipped_names();
    let dir = tempfile::tempdir().expect("tempdir");
    for (line, text) in blocks {
        let path = dir.path().join(format!("readme-line-{line}.toml"));
        std::fs::write(&path, &text).expect("write");
        // No environment at all: a runnable example must not need OPENAI_API_KEY.
        let s = scenario::load_with_env(&path, &Overrides::default(), &|_| None)
            .unwrap_or_else(|e| panic!("README.md:{line}: the example does not validate:\n{e}"));
        let points = scenario::expand(&s)
            .unwrap_or_else(|e| panic!("README.md:{line}: the example does not expand:\n{e}"));
        assert!(!points.is_empty(), "README.md:{line}");
        if let Some(minutes) = claimed_minutes(&readme, line) {
            let estimate = scenario::estimate(&s, &points).wall.as_secs_f64() / 60.0;
            assert!(
                (estimate - minutes).abs() <= minutes / 5.0,
                "README.md:{line}: the text says about {minutes} minutes, `plan` estimates \
                 {estimate:.1}"
            );
        }
        assert!(
            !shipped.contains(&s.name),
            "README.md:{line}: `{}` would overwrite the reports of a shipped scenario",
            s.name
        );
    }
}

#[test]
fn fragments_are_not_taken_for_scenarios() {
    let readme = "```toml\n[target]\nbase_url = \"x\"\n```\n\n```toml\nname = \"a\"\n```\n";
    let blocks = whole_scenarios(readme);
    assert_eq!(blocks, [(7, "name = \"a\"\n".to_string())]);
    assert!(
        Path::new("README.md").is_file(),
        "tests run at the crate root"
    );
}
