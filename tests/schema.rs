//! The JSON Schema of the scenario language (`nitro-scenario schema`): the committed
//! `docs/scenario.schema.json` is what the command prints, it is a valid draft-07 schema, it
//! accepts every shipped scenario and valid fixture, and it rejects a mistyped key, a wrong
//! type, an unknown table and a bad word — as `validate` does.
//!
//! `UPDATE_SCHEMA=1 cargo test --test schema` rewrites `docs/scenario.schema.json` (review the
//! diff before committing).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use nitro_scenario::judge::Measure;
use nitro_scenario::scenario::{self, Overrides};
use proptest::{prop_assert, prop_assert_eq};
use serde_json::Value;

const COMMITTED: &str = "docs/scenario.schema.json";

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&scenario::schema::schema()).expect("the schema compiles")
}

/// A TOML document as the JSON an editor validates.
fn json(toml_text: &str) -> Value {
    toml::from_str(toml_text).expect("valid TOML")
}

/// The schema's complaints about `toml_text`, one line each (empty when it is accepted).
fn problems(v: &jsonschema::Validator, toml_text: &str) -> Vec<String> {
    let doc = json(toml_text);
    v.iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// What the reader says of `toml_text`: `Ok` when it loads (no environment, no override).
fn read(toml_text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.toml");
    std::fs::write(&path, toml_text).expect("write");
    scenario::load_with_env(&path, &Overrides::default(), &|_| None)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// A minimal valid scenario with `extra` appended.
fn with(extra: &str) -> String {
    format!(
        "[target]\nbase_url = \"mock\"\n\n[routes.chat]\npath = \"/v1/chat/completions\"\n\n\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n{extra}"
    )
}

#[test]
fn the_committed_schema_is_what_the_command_prints() {
    let printed = Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .arg("schema")
        .output()
        .expect("runs");
    assert!(printed.status.success());
    let printed = String::from_utf8(printed.stdout).expect("utf-8");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(COMMITTED, &printed).expect("rewrite the committed schema");
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == printed,
        "{COMMITTED} differs from `nitro-scenario schema`; regenerate it with \
         `UPDATE_SCHEMA=1 cargo test --test schema` (or `nitro-scenario schema --out {COMMITTED}`)"
    );
}

#[test]
fn out_writes_the_same_text_to_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("s.json");
    Command::cargo_bin("nitro-scenario")
        .expect("binary")
        .args(["schema", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let written = std::fs::read_to_string(&out).expect("written");
    assert_eq!(written, scenario::schema::text());
}

#[test]
fn the_schema_is_a_valid_draft_07_schema() {
    let schema = scenario::schema::schema();
    assert_eq!(schema["$schema"], scenario::schema::DRAFT);
    jsonschema::draft7::meta::validate(&schema).expect("valid against the draft-07 meta-schema");
}

#[test]
fn every_shipped_scenario_and_valid_fixture_is_accepted() {
    let v = validator();
    let mut checked = 0;
    for file in files("scenarios")
        .into_iter()
        .chain(files("tests/fixtures/plan"))
    {
        let text = std::fs::read_to_string(&file).expect("read");
        let found = problems(&v, &text);
        assert!(
            found.is_empty(),
            "{}:\n{}",
            file.display(),
            found.join("\n")
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} files");
}

#[test]
fn the_readmes_whole_scenarios_are_accepted() {
    let v = validator();
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.starts_with("name = "))
        .collect();
    assert!(blocks.len() >= 2, "{} whole scenarios", blocks.len());
    for block in blocks {
        let found = problems(&v, block);
        assert!(found.is_empty(), "{block}\n{}", found.join("\n"));
    }
}

#[test]
fn a_mistyped_key_a_wrong_type_an_unknown_table_and_a_bad_word_are_rejected() {
    let v = validator();
    assert_eq!(problems(&v, &with("")), Vec::<String>::new());
    let cases = [
        ("[run]\nconcurency = 4\n", "/run"),
        ("[run]\nruns = \"four\"\n", "/run/runs"),
        ("[run]\nduration = 30\n", "/run/duration"),
        ("[run]\nduration = \"30 parsecs\"\n", "/run/duration"),
        ("[runs]\nruns = 2\n", ""),
        (
            "[mock.rate_limit]\nmode = \"sometimes\"\n",
            "/mock/rate_limit/mode",
        ),
        (
            "[routes.x]\npath = \"/x\"\nbody = \"opeanai-chat\"\n",
            "/routes/x/body",
        ),
        ("[target.headers]\nx-trace = 1\n", "/target/headers/x-trace"),
        ("[thresholds]\nlatency_p98 = \"< 1s\"\n", "/thresholds"),
        (
            "[thresholds]\nlatency_p99 = \"< 250\"\n",
            "/thresholds/latency_p99",
        ),
        (
            "[thresholds]\nclient_bound = \"no\"\n",
            "/thresholds/client_bound",
        ),
    ];
    for (extra, at) in cases {
        let text = with(extra);
        let found = problems(&v, &text);
        assert!(
            found.iter().any(|p| p.starts_with(&format!("{at}: "))),
            "the schema should reject `{}` at `{at}`, found {found:?}",
            extra.trim()
        );
        assert!(
            read(&text).is_err(),
            "the reader rejects `{}` too",
            extra.trim()
        );
    }
    // A wrong word of `[target]` is rejected whatever the rest of the file.
    let transport = "[target]\nbase_url = \"mock\"\ntransport = \"curl\"\n";
    assert!(!problems(&v, transport).is_empty());
}

#[test]
fn every_word_the_schema_offers_the_reader_takes() {
    let v = validator();
    let schema = scenario::schema::schema();
    let route = "/properties/routes/additionalProperties/properties";
    // Where the schema lists words, and a file using one (`WORD`) in that place.
    let cases = [
        (
            "/properties/target/properties/transport/enum".to_string(),
            with("").replace("\"mock\"", "\"http://127.0.0.1:9\"\ntransport = \"WORD\""),
        ),
        (
            format!("{route}/expect/properties/body/enum"),
            with("[routes.chat.expect]\nbody = \"WORD\"\n"),
        ),
        (
            format!("{route}/body/then/enum"),
            with("").replace("completions\"", "completions\"\nbody = \"WORD\""),
        ),
        (
            "/properties/run/properties/arrival/properties/process/enum".to_string(),
            with("[run.arrival]\nprocess = \"WORD\"\n").replace("concurrency = [1]", "rate = [10]"),
        ),
    ];
    for (pointer, text) in cases {
        let offered = schema
            .pointer(&pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{pointer} lists words"));
        assert!(offered.len() >= 3, "{pointer}: {offered:?}");
        for word in offered {
            let word = word.as_str().expect("a word");
            let text = text.replace("WORD", word);
            assert_eq!(problems(&v, &text), Vec::<String>::new(), "{text}");
            read(&text).unwrap_or_else(|e| panic!("the reader refuses `{word}`:\n{text}\n{e}"));
        }
    }
}

#[test]
fn rate_limit_modes_take_only_their_own_keys() {
    let v = validator();
    let accepted = [
        "rate_limit = \"always\"",
        "rate_limit = { mode = \"always\" }",
        "rate_limit = { mode = \"every_nth\", n = 3 }",
        "rate_limit = { mode = \"window\", period = \"10s\", limited = \"2s\" }",
    ];
    for line in accepted {
        let text = with(&format!("[mock]\n{line}\n"));
        assert_eq!(problems(&v, &text), Vec::<String>::new(), "{line}");
        read(&text).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    let refused = [
        "rate_limit = \"never\"",
        "rate_limit = { mode = \"always\", n = 3 }",
        "rate_limit = { mode = \"every_nth\" }",
        "rate_limit = { mode = \"window\", n = 3, period = \"10s\", limited = \"2s\" }",
    ];
    for line in refused {
        let text = with(&format!("[mock]\n{line}\n"));
        assert!(!problems(&v, &text).is_empty(), "{line}");
        assert!(read(&text).is_err(), "{line}");
    }
}

#[test]
fn durations_sizes_and_bounds_follow_the_readers_units() {
    let v = validator();
    let good = [
        "[run]\nduration = \"1m 30s\"\nwarmup = 0\n",
        "[run]\nduration = \"1.5s\"\nwarmup = \"250µs\"\n",
        "[target.headers]\nx-a = \"b\"\n[payloads]\nS = { fill = \"x\", bytes = \"1.5 KiB\" }\n",
        "[payloads]\nS = { fill = \"x\", bytes = 64 }\nT = \"text\"\n",
        "[thresholds]\nlatency_p99 = \"<= 1.5s\"\nthroughput = \"> 5_000 req/s\"\n\
         success_rate = \">= 99.5 %\"\nerrors_503 = \"< 1%\"\nerrors_timeout = \"== 0\"\n\
         client_bound = false\n",
    ];
    for extra in good {
        let text = with(extra);
        assert_eq!(problems(&v, &text), Vec::<String>::new(), "{extra}");
        read(&text).unwrap_or_else(|e| panic!("{extra}: {e}"));
    }
    let bad = [
        "[run]\nduration = \"30\"\n",
        "[run]\nduration = \"-1s\"\n",
        "[payloads]\nS = { fill = \"x\", bytes = \"1 KiB\", text = \"y\" }\n",
        "[payloads]\nS = { fill = \"x\" }\n",
        "[payloads]\nS = { fill = \"x\", bytes = \"lots\" }\n",
        "[thresholds]\nsuccess_rate = \">= 99.5\"\n",
        "[thresholds]\nthroughput = 5000\n",
        "[thresholds]\nerrors_999 = \"== 0\"\n",
    ];
    for extra in bad {
        let text = with(extra);
        assert!(
            !problems(&v, &text).is_empty(),
            "the schema accepts {extra}"
        );
        assert!(read(&text).is_err(), "the reader accepts {extra}");
    }
}

#[test]
fn status_code_keys_are_those_thresholds_read() {
    let v = validator();
    for code in 0..1000 {
        let key = format!("errors_{code:03}");
        let text = with(&format!("[thresholds]\n{key} = \"== 0\"\n"));
        assert_eq!(
            problems(&v, &text).is_empty(),
            Measure::parse(&key).is_some(),
            "{key}: the schema and the reader disagree"
        );
    }
}

/// Invalid fixtures whose problems are all of shape (keys, types, words, missing keys): the
/// schema flags each. The others are about meaning (names defined elsewhere, values that must
/// agree, files), which only `validate` sees.
#[test]
fn invalid_fixtures_of_keys_and_types_are_rejected() {
    let v = validator();
    let shape_only = [
        "bad_sizes",
        "body_and_expect",
        "empty_axes",
        "matrix_keys",
        "missing_required_keys",
        "mock_every_problem",
        "mock_table",
        "negative_durations",
        "open_loop_values",
        "rate_limit_modes",
        "search_values",
        "slo_values",
        "stages_problems",
        "thresholds_figures",
        "unknown_key_suggests",
        "wrong_types",
        "zero_and_negative",
    ];
    for name in shape_only {
        let path = Path::new("tests/fixtures/invalid").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        assert!(
            !problems(&v, &text).is_empty(),
            "{}: the schema accepts it",
            path.display()
        );
    }
}

/// The schema at `pointer`, on its own.
fn part(pointer: &str) -> jsonschema::Validator {
    let schema = scenario::schema::schema();
    let part = schema.pointer(pointer).expect("the schema has it");
    jsonschema::draft7::new(part).expect("compiles")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

    #[test]
    fn duration_text_matches_exactly_what_the_reader_parses(
        text in "[ 0-9.]{0,4}(s|ms|us|µs|sec|m|min|h|x|S|mss)?[ 0-9.]{0,3}(s|ms|m|h)?",
    ) {
        static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
        let schema = SCHEMA.get_or_init(|| part("/properties/run/properties/duration"));
        let parsed = scenario::units::parse_duration(&text);
        // Past 365 days is the reader's to refuse: the schema lets it through.
        let too_long = parsed.as_ref().is_err_and(|e| e.contains("too long"));
        if !too_long {
            prop_assert_eq!(schema.is_valid(&Value::from(text.clone())), parsed.is_ok());
        }
    }

    #[test]
    fn size_text_matches_exactly_what_the_reader_parses(
        text in "[ 0-9.]{0,6}(B|KB|kB|KiB|MB|MiB|GB|GiB|kib|b|x)?[ ]?",
    ) {
        static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
        let schema = SCHEMA.get_or_init(|| part("/properties/mock/properties/max_body_bytes"));
        let parsed = scenario::units::parse_size(&text);
        let too_large = parsed.as_ref().is_err_and(|e| e.contains("too large"));
        if !too_large {
            prop_assert_eq!(schema.is_valid(&Value::from(text.clone())), parsed.is_ok());
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// One figure of each unit, and a status code's count.
    #[test]
    fn bounds_match_exactly_what_thresholds_read(
        figure in proptest::sample::select(
            &[
                "latency_p99",
                "throughput",
                "tokens_per_sec",
                "success_rate",
                "retries",
                "errors_timeout",
                "errors_503",
            ][..],
        ),
        text in concat!(
            "(<|<=|>|>=|==|=<|=)? ?[-+_]?[0-9_.]{0,3}(e3|E-1)?",
            " ?(ms|s|m|%|req/s|rps|tokens/s|x)?",
        ),
    ) {
        static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
        let schema = SCHEMA.get_or_init(validator);
        let scenario = with(&format!("[thresholds]\n{figure} = \"{text}\"\n"));
        let accepted = problems(schema, &scenario).is_empty();
        let read = read(&scenario).is_ok();
        prop_assert!(
            accepted || !read,
            "the schema refuses what the reader takes: {} = \"{}\"", figure, text
        );
        // The schema lets any `-` through (`-0` is ≥ 0); otherwise it is exact.
        if !text.contains('-') {
            prop_assert_eq!(accepted, read, "{} = \"{}\"", figure, text);
        }
    }
}
