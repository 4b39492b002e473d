//! What the scenario tests share: loading a scenario text from a temporary file, with no
//! environment, and building overrides.
#![allow(dead_code, reason = "each test binary uses part of the support module")]

use nitro_scenario::scenario::{self, Overrides};

/// An environment where no variable is set.
pub fn no_env(_: &str) -> Option<String> {
    None
}

/// A mock target and one chat route; a test adds `[matrix]` and the rest.
pub const MOCK_CHAT: &str = "[target]\nbase_url = \"mock\"\n\
    [routes.chat]\npath = \"/v1/chat/completions\"\n";

/// Write `text` as a scenario in a temporary folder and load it; the error text names the
/// file `s.toml`.
pub fn load_text(text: &str, overrides: &Overrides) -> Result<scenario::Scenario, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    scenario::load_with_env(&file, overrides, &no_env)
        .map_err(|e| e.to_string().replace(&file.display().to_string(), "s.toml"))
}

/// `--set` arguments as `Overrides`.
pub fn set(args: &[&str]) -> Overrides {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Overrides::from_args(&args, vec![]).unwrap()
}
