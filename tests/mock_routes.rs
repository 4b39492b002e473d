//! The mock server's wire format, with a real HTTP client on 127.0.0.1: every route's status,
//! headers and body shape, SSE framing, Retry-After, body limits, error shapes (400, 404, 405,
//! 413), rate-limit modes, and graceful shutdown. Faults are in `mock_faults.rs`.

mod mock_support;

use std::num::NonZeroU32;
use std::time::Duration;

use mock_support::{chat_body, start};
use nitro_scenario::mock::{MockConfig, RateLimit, StreamShape};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(client: &reqwest::Client, url: String, body: String) -> reqwest::Response {
    client.post(url).body(body).send().await.unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no `{name}` header"))
        .to_str()
        .unwrap()
}

/// Split an SSE body into its `data:` payloads, checking the framing on the way.
fn sse_events(text: &str) -> Vec<String> {
    assert!(text.ends_with("\n\n"), "events end with a blank line");
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data line: {e:?}"))
                .to_string()
        })
        .collect()
}

/// An OpenAI error body with this `code`, checked for its full shape.
async fn assert_error(r: reqwest::Response, status: u16, kind: &str, code: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(header(&r, "content-type"), "application/json");
    let v: Value = r.json().await.unwrap();
    let e = &v["error"];
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert_eq!(
        (&e["type"], &e["code"]),
        (&json!(kind), &json!(code)),
        "{v}"
    );
    assert!(e.as_object().unwrap().contains_key("param"), "{v}");
    v
}

#[tokio::test]
async fn chat_answers_an_openai_completion_with_usage() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let url = format!("{base}v1/chat/completions");
    let r = post(&client, url.clone(), chat_body()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/json");
    let length: usize = header(&r, "content-length").parse().unwrap();
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "m1");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-mock-"));
    assert!(v["created"].as_u64().unwrap() > 1_700_000_000, "Unix time");
    let choice = &v["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 16);
    let prompt = v["usage"]["prompt_tokens"].as_u64().unwrap();
    assert_eq!(
        prompt,
        chat_body().len() as u64 / 4,
        "about 4 bytes a token"
    );
    assert_eq!(v["usage"]["total_tokens"], prompt + 16);

    let bigger = json!({"messages": [{"role": "user", "content": "x".repeat(4000)}]});
    let w: Value = post(&client, url, bigger.to_string())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(w["model"], "mock-gpt", "the default model");
    assert!(w["usage"]["prompt_tokens"].as_u64().unwrap() > 1000);
    assert_ne!(w["id"], v["id"], "one id per answer");
}

#[tokio::test]
async fn stream_sends_role_content_finish_usage_and_done() {
    let config = MockConfig {
        stream: StreamShape {
            chunks: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    for (path, body) in [
        ("v1/chat/completions:stream", chat_body()),
        (
            "v1/chat/completions",
            json!({"model": "m1", "stream": true, "messages": []}).to_string(),
        ),
    ] {
        let r = post(&client, format!("{base}{path}"), body.clone()).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(header(&r, "content-type"), "text/event-stream");
        assert_eq!(header(&r, "cache-control"), "no-cache");
        assert_eq!(header(&r, "transfer-encoding"), "chunked");
        let events = sse_events(&r.text().await.unwrap());
        assert_eq!(
            events.len(),
            1 + 5 + 2 + 1,
            "role, content, finish, usage, [DONE]"
        );
        assert_eq!(events.last().unwrap(), "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        for c in &chunks {
            assert_eq!(c["object"], "chat.completion.chunk");
            assert_eq!(c["model"], "m1", "model echoed in every chunk");
            assert_eq!(c["id"], chunks[0]["id"], "one id per stream");
        }
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        for c in &chunks[1..6] {
            let content = c["choices"][0]["delta"]["content"].as_str().unwrap();
            assert!(!content.is_empty());
            assert_eq!(c["choices"][0]["finish_reason"], Value::Null);
        }
        assert_eq!(chunks[6]["choices"][0]["finish_reason"], "stop");
        assert_eq!(
            chunks[7]["choices"],
            json!([]),
            "the usage chunk has no choices"
        );
        let usage = &chunks[7]["usage"];
        assert_eq!(usage["completion_tokens"], 5);
        assert_eq!(usage["prompt_tokens"], body.len() as u64 / 4);
    }
    // `"stream": null` is the default, a JSON answer.
    let r = post(
        &client,
        format!("{base}v1/chat/completions"),
        json!({"stream": null, "messages": []}).to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/json");
}

#[tokio::test]
async fn rate_error_and_malformed_answer_as_the_seed_matrix_says() {
    let config = MockConfig {
        retry_after: Duration::from_millis(1500),
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    let r = post(
        &client,
        format!("{base}v1/chat/completions:rate"),
        chat_body(),
    )
    .await;
    assert_eq!(header(&r, "retry-after"), "2", "sub-second parts round up");
    assert_error(r, 429, "rate_limit_error", "rate_limit_exceeded").await;

    let r = post(
        &client,
        format!("{base}v1/chat/completions:error"),
        chat_body(),
    )
    .await;
    assert_error(r, 500, "server_error", "internal_error").await;

    let mut ids = Vec::new();
    for _ in 0..2 {
        let url = format!("{base}v1/chat/completions:malformed");
        let r = post(&client, url, chat_body()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type"), "application/json");
        let text = r.text().await.unwrap();
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "malformed must not parse: {text}"
        );
        // `{"id":"chatcmpl-mock-N",...`: the id is the fourth piece between quotes.
        let id = text.split('"').nth(3).unwrap().to_string();
        let n = id
            .strip_prefix("chatcmpl-mock-")
            .unwrap_or_else(|| panic!("{text}"));
        assert!(n.parse::<u64>().is_ok(), "{text}");
        ids.push(id);
    }
    let url = format!("{base}v1/chat/completions");
    let chat: Value = post(&client, url, chat_body()).await.json().await.unwrap();
    ids.push(chat["id"].as_str().unwrap().to_string());
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        3,
        "one id per answer, malformed ones too: {ids:?}"
    );
}

#[tokio::test]
async fn health_and_models() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let r = client.get(format!("{base}health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let r = client.get(format!("{base}v1/models")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let models: Value = r.json().await.unwrap();
    assert_eq!(models["object"], "list");
    let data = models["data"].as_array().unwrap();
    assert!(!data.is_empty());
    for m in data {
        assert_eq!(m["object"], "model");
        assert!(m["id"].is_string() && m["owned_by"].is_string() && m["created"].is_u64());
    }
    assert_eq!(data[0]["id"], "mock-gpt");
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_bad_bodies_get_openai_errors() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let r = post(&client, format!("{base}v1/nope"), chat_body()).await;
    let v = assert_error(r, 404, "invalid_request_error", "not_found").await;
    assert_eq!(v["error"]["param"], Value::Null);

    for (method, path, allow) in [
        (reqwest::Method::POST, "health", "GET"),
        (reqwest::Method::DELETE, "v1/models", "GET"),
        (reqwest::Method::GET, "v1/chat/completions", "POST"),
        (reqwest::Method::PUT, "v1/chat/completions:stream", "POST"),
    ] {
        let r = client
            .request(method, format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&r, "allow"), allow, "{path}");
        assert_error(r, 405, "invalid_request_error", "method_not_allowed").await;
    }

    let url = format!("{base}v1/chat/completions");
    let r = post(&client, url.clone(), "not json".into()).await;
    let v = assert_error(r, 400, "invalid_request_error", "invalid_json").await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let r = post(&client, url.clone(), "[1,2]".into()).await;
    let v = assert_error(r, 400, "invalid_request_error", "invalid_type").await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );

    let r = post(&client, url.clone(), r#"{"stream":"yes"}"#.into()).await;
    let v = assert_error(r, 400, "invalid_request_error", "invalid_type").await;
    assert_eq!(v["error"]["param"], "stream");
    assert!(v["error"]["message"].as_str().unwrap().contains("`stream`"));
}

#[tokio::test]
async fn bodies_up_to_the_limit_are_accepted_and_larger_ones_get_413() {
    let (_server, client, base) = start(MockConfig {
        max_body_bytes: 300 * 1024,
        ..Default::default()
    })
    .await;
    let url = format!("{base}v1/chat/completions");
    let big = json!({"messages": [{"role": "user", "content": "x".repeat(256 * 1024)}]});
    assert_eq!(
        post(&client, url.clone(), big.to_string()).await.status(),
        200
    );
    let huge = json!({"messages": [{"role": "user", "content": "x".repeat(400 * 1024)}]});
    let r = post(&client, url, huge.to_string()).await;
    assert_eq!(header(&r, "connection"), "close");
    assert_error(r, 413, "invalid_request_error", "body_too_large").await;
    // The default limit takes 256 KiB too.
    let (_server, client, base) = start(MockConfig::default()).await;
    let r = post(
        &client,
        format!("{base}v1/chat/completions"),
        big.to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_client_that_sends_a_whole_oversized_body_first_still_reads_the_413() {
    let (server, _, _) = start(MockConfig {
        max_body_bytes: 1024,
        ..Default::default()
    })
    .await;
    // Far more than the socket buffers hold: without a lingering close the server would reset
    // the connection under the client's writes.
    let body = vec![b'x'; 8 << 20];
    let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: mock\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&body).await.expect("the server reads on");
    socket.shutdown().await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    assert!(text.contains("body_too_large"), "{text}");
}

#[tokio::test]
async fn every_nth_rate_limit_hits_the_nth_requests() {
    let config = MockConfig {
        rate_limit: RateLimit::EveryNth(NonZeroU32::new(3).unwrap()),
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = post(
            &client,
            format!("{base}v1/chat/completions:rate"),
            chat_body(),
        )
        .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
}

#[tokio::test]
async fn a_window_limits_inside_its_limited_span_only() {
    let period = Duration::from_secs(3600);
    for (limited, expected) in [(period, 429), (Duration::ZERO, 200)] {
        let config = MockConfig {
            rate_limit: RateLimit::Window { period, limited },
            ..Default::default()
        };
        let (_server, client, base) = start(config).await;
        let r = post(
            &client,
            format!("{base}v1/chat/completions:rate"),
            chat_body(),
        )
        .await;
        assert_eq!(r.status(), expected, "limited = {limited:?}");
    }
}

#[tokio::test]
async fn shutdown_lets_a_stream_in_progress_finish() {
    let config = MockConfig {
        stream: StreamShape {
            chunks: 20,
            interval: Duration::from_millis(5),
            ..Default::default()
        },
        ..Default::default()
    };
    let (server, client, base) = start(config).await;
    let mut r = post(
        &client,
        format!("{base}v1/chat/completions:stream"),
        chat_body(),
    )
    .await;
    // The role chunk is in: the answer is in progress when the shutdown starts.
    let mut text = String::from_utf8(r.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let ((), rest) = tokio::join!(server.shutdown(), async {
        let mut rest = String::new();
        while let Some(chunk) = r.chunk().await.unwrap() {
            rest.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        rest
    });
    text.push_str(&rest);
    assert_eq!(sse_events(&text).last().unwrap(), "[DONE]");
    assert!(
        client.get(format!("{base}health")).send().await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn mock_stats_say_how_late_the_mock_ran_against_its_schedule() {
    let config = MockConfig {
        latency: Duration::from_millis(2),
        stream: StreamShape {
            chunks: 4,
            interval: Duration::from_millis(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    let stats = || async {
        let r = client
            .get(format!("{base}mock/stats"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "content-type"), "application/json");
        r.json::<Value>().await.unwrap()["late_us"].clone()
    };
    let before = stats().await;
    assert_eq!(before["chunk"]["count"], 0);
    assert!(
        before["chunk"]["p99"].is_null(),
        "nothing paced yet: {before}"
    );
    let url = format!("{base}v1/chat/completions:stream");
    for _ in 0..2 {
        let r = post(&client, url.clone(), chat_body()).await;
        assert_eq!(sse_events(&r.text().await.unwrap()).len(), 8);
    }
    let after = stats().await;
    // Both answers waited for the latency; each stream's first chunk, then three more.
    let counts = ["answer", "first_chunk", "chunk"].map(|k| after[k]["count"].as_u64());
    assert_eq!(counts, [Some(2), Some(2), Some(6)], "{after}");
    for figure in ["p50", "p99", "p999", "max"] {
        assert!(after["chunk"][figure].is_u64(), "{after}");
    }
    let r = post(&client, format!("{base}mock/stats"), String::new()).await;
    assert_eq!(r.status(), 405, "a GET endpoint");
}
