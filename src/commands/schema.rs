//! `nitro-scenario schema [--out FILE]`: the JSON Schema of the scenario language
//! (`scenario::schema`), on stdout or into a file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::SchemaArgs;
use crate::scenario::schema;

/// Carry out `schema`.
pub(super) fn schema(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let text = schema::text();
    match args.out {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => match std::io::stdout().write_all(text.as_bytes()) {
            // A reader that has seen enough (`| head`) is no failure.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.context("cannot write to stdout")?,
        },
    }
    Ok(ExitCode::SUCCESS)
}
