//! What the mock's wire tests share: an in-process server on an OS-picked port with a client
//! that never goes through a proxy, and the chat body they send.

use nitro_scenario::mock::{MockConfig, MockServer};

/// A mock with `config` on `127.0.0.1:0`, a client for it, and its base URL.
pub async fn start(config: MockConfig) -> (MockServer, reqwest::Client, String) {
    let server = MockServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = server.base_url().to_string();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    (server, client, base)
}

/// A small chat request naming model `m1`.
pub fn chat_body() -> String {
    r#"{"model":"m1","messages":[{"role":"user","content":"Hello, world!"}]}"#.to_string()
}
