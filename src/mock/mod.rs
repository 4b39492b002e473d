//! The built-in OpenAI-compatible mock server: the seed framework's five routes plus
//! `/health` and `/v1/models`, with latency, stream shape, rate limits and faults from
//! `MockConfig`. Runs in-process (tests) or as a child process of the same binary (`run`).

mod bodies;
mod child;
pub mod config;
mod conn;
mod lateness;
mod pacer;
mod policy;
mod request;
mod routes;
mod server;
mod stream;

pub use child::MockChild;
pub use config::{ChunkFault, Faults, MockConfig, RateLimit, StallFault, StreamShape};
pub use server::{MockServer, SHUTDOWN_GRACE};

/// The mock could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Binding or serving failed.
    #[error("mock server: {0}")]
    Io(#[from] std::io::Error),
    /// The child process did not come up or did not stop cleanly.
    #[error("mock server child: {0}")]
    Child(String),
}

/// `nitro-scenario mock`: serve on `127.0.0.1:port`, print `listening on http://ADDR/` on
/// stdout, return on Ctrl-C or SIGTERM (after [`MockServer::shutdown`]).
pub async fn serve_until_signal(config: MockConfig, port: u16) -> Result<(), MockError> {
    use std::io::Write;
    use tokio::signal::unix::{SignalKind, signal};

    // Handlers first: whoever reads the address line may signal at once, and until a handler
    // is installed SIGTERM's default action kills the process.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let server = MockServer::start(config, ([127, 0, 0, 1], port).into()).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}{}", child::LISTENING, server.base_url())?;
    stdout.flush()?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    server.shutdown().await;
    Ok(())
}
