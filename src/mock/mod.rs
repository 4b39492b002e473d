//! The built-in OpenAI-compatible mock server: the seed framework's five routes plus
//! `/health` and `/v1/models`, with latency, stream shape, rate limits and faults from
//! `MockConfig`. Runs in-process (tests) or as a child process of the same binary (`run`).

pub mod config;

use std::net::SocketAddr;

use url::Url;

pub use config::{ChunkFault, Faults, MockConfig, RateLimit, StallFault, StreamShape};

/// The mock could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Binding or serving failed.
    #[error("mock server: {0}")]
    Io(#[from] std::io::Error),
    /// The child process did not come up.
    #[error("mock server child: {0}")]
    Child(String),
}

/// A mock server running in this process.
#[derive(Debug)]
pub struct MockServer {}

impl MockServer {
    /// Bind `addr` (port 0 picks a free one) and serve in the background on the current runtime.
    pub async fn start(_config: MockConfig, _addr: SocketAddr) -> Result<Self, MockError> {
        todo!("mock helper")
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        todo!("mock helper")
    }

    /// `http://ADDR`, the base URL to send requests to.
    pub fn base_url(&self) -> Url {
        todo!("mock helper")
    }

    /// Stop accepting, let open connections finish briefly, return.
    pub async fn shutdown(self) {
        todo!("mock helper")
    }
}

/// The mock running as a child process (`current_exe() mock --port 0`), so the client's
/// own CPU and memory are measured alone. Killed on drop if not stopped.
#[derive(Debug)]
pub struct MockChild {}

impl MockChild {
    /// Start the child with `config`, read its bound address, wait until `/health` answers.
    pub async fn spawn(_config: &MockConfig) -> Result<Self, MockError> {
        todo!("mock helper")
    }

    /// `http://ADDR` of the child.
    pub fn base_url(&self) -> Url {
        todo!("mock helper")
    }

    /// Stop the child (SIGTERM, then kill after a grace period) and reap it.
    pub async fn stop(self) {
        todo!("mock helper")
    }
}

/// `nitro-scenario mock`: serve on `127.0.0.1:port`, print the bound address on one line of
/// stdout, return on Ctrl-C or SIGTERM.
pub async fn serve_until_signal(_config: MockConfig, _port: u16) -> Result<(), MockError> {
    todo!("mock helper")
}
