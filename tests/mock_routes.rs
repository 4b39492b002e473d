//! The mock server's wire format, with a real HTTP client on 127.0.0.1: every route's status,
//! headers and body shape, SSE framing, Retry-After, body limits, rate-limit modes and faults.

use std::num::NonZeroU32;
use std::time::Duration;

use nitro_scenario::mock::{ChunkFault, Faults, MockConfig, MockServer, RateLimit, StreamShape};
use serde_json::Value;

async fn start(config: MockConfig) -> (MockServer, reqwest::Client, String) {
    let server = MockServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = server.base_url().to_string();
    (server, reqwest::Client::new(), base)
}

fn chat_body() -> String {
    serde_json::json!({"model": "m1", "messages": [{"role": "user", "content": "Hello, world!"}]})
        .to_string()
}

async fn post(client: &reqwest::Client, url: String, body: String) -> reqwest::Response {
    client.post(url).body(body).send().await.unwrap()
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

#[tokio::test]
async fn chat_answers_an_openai_completion_with_usage() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let r = post(&client, format!("{base}v1/chat/completions"), chat_body()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "m1");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["usage"]["completion_tokens"], 16);
    let total = v["usage"]["prompt_tokens"].as_u64().unwrap() + 16;
    assert_eq!(v["usage"]["total_tokens"], total);
}

#[tokio::test]
async fn stream_sends_role_content_usage_and_done() {
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
            serde_json::json!({"stream": true, "messages": []}).to_string(),
        ),
    ] {
        let r = post(&client, format!("{base}{path}"), body).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let events = sse_events(&r.text().await.unwrap());
        assert_eq!(events.last().unwrap(), "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let content = chunks
            .iter()
            .filter(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            })
            .count();
        assert_eq!(content, 5);
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk")
        );
        let usage = &chunks.last().unwrap()["usage"];
        assert_eq!(usage["completion_tokens"], 5);
    }
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
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2", "sub-second parts round up");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error");

    let r = post(
        &client,
        format!("{base}v1/chat/completions:error"),
        chat_body(),
    )
    .await;
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "server_error");

    let r = post(
        &client,
        format!("{base}v1/chat/completions:malformed"),
        chat_body(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    assert!(
        serde_json::from_slice::<Value>(&bytes).is_err(),
        "malformed must not parse"
    );
}

#[tokio::test]
async fn health_models_unknown_paths_and_bad_bodies() {
    let config = MockConfig {
        max_body_bytes: 300 * 1024,
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    assert_eq!(
        client
            .get(format!("{base}health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let models: Value = client
        .get(format!("{base}v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "mock-gpt");
    assert_eq!(
        post(&client, format!("{base}v1/nope"), chat_body())
            .await
            .status(),
        404
    );
    let r = post(
        &client,
        format!("{base}v1/chat/completions"),
        "not json".into(),
    )
    .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_json");
    let big =
        serde_json::json!({"messages": [{"role": "user", "content": "x".repeat(256 * 1024)}]})
            .to_string();
    assert_eq!(
        post(&client, format!("{base}v1/chat/completions"), big)
            .await
            .status(),
        200
    );
    let huge =
        serde_json::json!({"messages": [{"role": "user", "content": "x".repeat(400 * 1024)}]})
            .to_string();
    assert_eq!(
        post(&client, format!("{base}v1/chat/completions"), huge)
            .await
            .status(),
        413
    );
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
        statuses.push(
            post(
                &client,
                format!("{base}v1/chat/completions:rate"),
                chat_body(),
            )
            .await
            .status()
            .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429], "requests 3 and 6");
}

#[tokio::test]
async fn a_window_that_covers_the_whole_period_limits_everything() {
    let period = Duration::from_secs(3600);
    let config = MockConfig {
        rate_limit: RateLimit::Window {
            period,
            limited: period,
        },
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    assert_eq!(
        post(
            &client,
            format!("{base}v1/chat/completions:rate"),
            chat_body()
        )
        .await
        .status(),
        429
    );
}

#[tokio::test]
async fn truncate_ends_the_stream_without_done() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let r = client
        .post(format!("{base}v1/chat/completions:stream"))
        .header("x-mock-fault", "truncate")
        .body(chat_body())
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    let events = sse_events(&text);
    assert!(!text.contains("[DONE]"));
    assert_eq!(events.len(), 1 + 8, "role chunk and half of the 16 chunks");
}

#[tokio::test]
async fn reset_breaks_streams_and_json_answers() {
    let faults = Faults {
        reset: Some(ChunkFault {
            every: NonZeroU32::new(2).unwrap(),
            after_chunks: 3,
        }),
        ..Default::default()
    };
    let (_server, client, base) = start(MockConfig {
        faults,
        ..Default::default()
    })
    .await;
    // Every second chat request is reset: the first succeeds, the second breaks mid-stream.
    let ok = post(
        &client,
        format!("{base}v1/chat/completions:stream"),
        chat_body(),
    )
    .await;
    assert!(ok.text().await.unwrap().contains("[DONE]"));
    let broken = post(
        &client,
        format!("{base}v1/chat/completions:stream"),
        chat_body(),
    )
    .await;
    assert_eq!(broken.status(), 200);
    assert!(broken.text().await.is_err(), "the body read must fail");

    // Reset before the headers (after_chunks = 0) on a JSON answer.
    let faults = Faults {
        reset: Some(ChunkFault {
            every: NonZeroU32::MIN,
            after_chunks: 0,
        }),
        ..Default::default()
    };
    let (_server, client, base) = start(MockConfig {
        faults,
        ..Default::default()
    })
    .await;
    let err = client
        .post(format!("{base}v1/chat/completions"))
        .body(chat_body())
        .send()
        .await;
    assert!(
        err.is_err(),
        "a JSON answer reset before its headers is a request error"
    );
}

#[tokio::test]
async fn a_stall_holds_the_answer_past_a_short_client_timeout() {
    let (_server, client, base) = start(MockConfig::default()).await;
    let stalled = client
        .post(format!("{base}v1/chat/completions"))
        .header("x-mock-fault", "stall")
        .timeout(Duration::from_millis(200))
        .body(chat_body())
        .send()
        .await;
    assert!(stalled.unwrap_err().is_timeout());
}
