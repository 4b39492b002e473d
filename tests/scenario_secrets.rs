//! Secrets in scenarios through the library: `${env:NAME}` values, header overrides, credential
//! headers and URL credentials reach the wire and nothing else — not plans, `Debug` output,
//! messages or the text the report echoes.

mod scenario_support;

use nitro_scenario::scenario::{self, BaseUrl, Overrides};
use scenario_support::{MOCK_CHAT, load_text, set};

#[test]
fn secrets_reach_the_wire_but_not_the_plan_or_the_echo() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.toml");
    std::fs::write(
        &file,
        "[target]\nbase_url = \"http://127.0.0.1:9/${env:TENANT}\"\nheaders = { authorization = \"Bearer ${env:KEY}\" }\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n",
    )
    .unwrap();
    let env = |name: &str| match name {
        "KEY" => Some("sk-very-secret".to_string()),
        "TENANT" => Some("tenant-secret".to_string()),
        _ => None,
    };
    let s = scenario::load_with_env(&file, &Overrides::default(), &env).unwrap();
    let points = scenario::expand(&s).unwrap();
    let auth = &points[0].request.headers[0];
    assert_eq!(auth.0, "authorization");
    assert_eq!(auth.1.resolved, "Bearer sk-very-secret");
    let echo = serde_json::to_string(&s).unwrap() + &serde_json::to_string(&points).unwrap();
    assert!(
        !echo.contains("sk-very-secret") && !echo.contains("tenant-secret"),
        "{echo}"
    );
    assert!(echo.contains("Bearer ***"));
    assert!(!format!("{s:?}").is_empty());
}

#[test]
fn debug_output_shows_no_secret() {
    let text = "[target]\nbase_url = \"http://user:pw-secret@127.0.0.1:9/${env:TENANT}\"\n\
                headers = { authorization = \"Bearer ${env:KEY}\" }\n\
                [routes.chat]\npath = \"/v1/chat/completions\"\n\
                [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let env = |name: &str| match name {
        "KEY" => Some("sk-very-secret".to_string()),
        "TENANT" => Some("tenant-secret".to_string()),
        _ => None,
    };
    let s = scenario::load_with_env(&file, &Overrides::default(), &env).unwrap();
    let points = scenario::expand(&s).unwrap();
    let debug = format!("{s:?}{points:?}");
    for secret in ["sk-very-secret", "tenant-secret", "pw-secret"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("http://***@127.0.0.1:9/***"), "{debug}");
}

#[test]
fn override_and_credential_headers_are_secrets_everywhere_but_the_wire() {
    let text = "[target]\nbase_url = \"mock\"\n\
         headers = { authorization = \"Bearer sk-literal-123\", x-team = \"blue\" }\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n\
         headers = { cookie = \"session=abc123\", x-api-key = \"${env:KEY}\" }\n\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let env = |name: &str| (name == "KEY").then(|| "sk-env-789".to_string());
    let overrides = set(&[
        "target.headers.x-override=sk-override-456",
        "run.duration=2s",
    ]);
    let s = scenario::load_with_env(&file, &overrides, &env).unwrap();
    let points = scenario::expand(&s).unwrap();
    let shown: Vec<(&str, &str, &str)> = points[0]
        .request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.display.as_str(), v.resolved.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("authorization", "***", "Bearer sk-literal-123"),
            ("x-team", "blue", "blue"),
            ("x-override", "***", "sk-override-456"),
            ("cookie", "***", "session=abc123"),
            ("x-api-key", "***", "sk-env-789"),
            ("content-type", "application/json", "application/json"),
        ]
    );
    let warnings: Vec<String> = s.warnings.iter().map(|w| w.to_string()).collect();
    let path = file.display();
    assert_eq!(
        warnings,
        [
            format!(
                "{path}:3:29: target.headers.authorization: `authorization` holds a literal \
                 credential (shown as `***`); keep it out of the file: write `${{env:NAME}}` in \
                 the value and export `NAME`"
            ),
            format!(
                "{path}:6:22: routes.chat.headers.cookie: `cookie` holds a literal credential \
                 (shown as `***`); keep it out of the file: write `${{env:NAME}}` in the value \
                 and export `NAME`"
            ),
        ]
    );
    let echoed = format!("{}{:?}{s:?}{points:?}", s.written.text, s.written.overrides);
    for secret in [
        "sk-literal-123",
        "sk-override-456",
        "session=abc123",
        "sk-env-789",
    ] {
        assert!(!echoed.contains(secret), "{secret} in {echoed}");
    }
    assert_eq!(
        s.written.overrides,
        [
            "--set target.headers.x-override=***",
            "--set run.duration=2s"
        ]
    );
    assert_eq!(
        s.written.text,
        text.replace("\"Bearer sk-literal-123\"", "\"***\"")
            .replace("\"session=abc123\"", "\"***\"")
    );
}

#[test]
fn a_bad_header_override_is_reported_without_its_value() {
    let base = format!("{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n");
    for (arg, message) in [
        (
            "target.headers.authorization=[sk-bad",
            "the value is not a valid TOML list or table",
        ),
        (
            "target.headers.authorization=Bearer ${sk-bad}",
            "a `${...}` in the value is not an environment reference",
        ),
        (
            "routes.chat.headers.x-a=sk-bad\u{1}",
            "the value is not a valid header value: it holds a control character",
        ),
    ] {
        let err = load_text(&base, &set(&[arg])).unwrap_err();
        assert!(err.contains(message), "{err}");
        assert!(!err.contains("sk-bad"), "{err}");
    }
    let err = Overrides::from_args(&["target.headers.authorization:sk-bad".into()], vec![])
        .unwrap_err()
        .to_string();
    assert!(!err.contains("sk-bad"), "{err}");
}

#[test]
fn url_credentials_are_sent_as_basic_auth() {
    let routes = "[routes.chat]\npath = \"/v1/chat/completions\"\n\
                  [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n";
    let s = load_text(
        &format!("[target]\nbase_url = \"http://user:pa%40ss@127.0.0.1:9/v1\"\n{routes}"),
        &Overrides::default(),
    )
    .unwrap();
    let BaseUrl::Url { url, display } = &s.target.base_url else {
        panic!("a URL target");
    };
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:9/v1",
        "no credentials in the URL"
    );
    assert_eq!(display.display, "http://***@127.0.0.1:9/v1");
    let points = scenario::expand(&s).unwrap();
    let auth = &points[0].request.headers[0];
    assert_eq!(auth.0, "authorization");
    // base64 of `user:pa@ss`: the password percent-decoded.
    assert_eq!(auth.1.resolved, "Basic dXNlcjpwYUBzcw==");
    assert_eq!(auth.1.display, "Basic ***");
    assert!(s.warnings[0].message.contains("literal `user:password@`"));
    assert!(!s.written.text.contains("pa%40ss"), "{}", s.written.text);

    // An `authorization` header of the file wins, with a warning; credentials from `BASE`
    // are no literal in the file.
    let env = vec![("BASE".to_string(), "http://u:p@127.0.0.1:9".to_string())];
    let s = load_text(
        &format!("[target]\nbase_url = \"mock\"\nheaders = {{ authorization = \"x\" }}\n{routes}"),
        &Overrides::from_args(&[], env).unwrap(),
    )
    .unwrap();
    let headers = &s.target.headers;
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].1.resolved, "x");
    let warnings: Vec<&str> = s.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        warnings,
        [
            "`authorization` holds a literal credential (shown as `***`); keep it out of the \
             file: write `${env:NAME}` in the value and export `NAME`",
            "the URL's `user:password@` is not sent: `target.headers` sets `authorization` \
             (from `BASE=http://***@127.0.0.1:9`)"
        ]
    );
}
