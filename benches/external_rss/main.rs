//! `cargo bench --bench external_rss -- COMMAND [ARGS...]`: run COMMAND as an external client
//! through `external::run_client`, `ROUNDS` times (default 5), and print one line of memory
//! figures per run, in KiB — for `benches/external_rss.sh`, which sets them beside
//! `/usr/bin/time -v` for the same command.
//!
//! `BALLAST_MIB=N` first makes this process touch N MiB of its own: the kernel then starts
//! each child's `ru_maxrss` at that size, and the module must not report it as the client's.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use nitro_scenario::external::{ClientPoint, ClientSpec, run_client};
use nitro_scenario::stop::Stop;

fn env_number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("`{name}`: `{v}` is not a number")),
        Err(_) => Ok(default),
    }
}

fn main() -> Result<()> {
    // `cargo bench` adds `--bench`; everything else is the command.
    let command: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if command.is_empty() {
        bail!("usage: cargo bench --bench external_rss -- COMMAND [ARGS...]");
    }
    let rounds = env_number("ROUNDS", 5)?;
    let ballast = vec![1u8; env_number("BALLAST_MIB", 0)? << 20];
    let spec = ClientSpec::new("bench", command, std::env::current_dir()?);
    let point = ClientPoint {
        base: "http://127.0.0.1:9".into(),
        route: "/".into(),
        concurrency: 1,
        warmup: Duration::ZERO,
        measure: Duration::ZERO,
        payload_name: String::new(),
        payload: Vec::new(),
        model: None,
        stream: false,
        headers: Default::default(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let kib = |b: u64| b / 1024;
    for _ in 0..rounds {
        let run = runtime.block_on(run_client(&spec, &point, &Stop::new()));
        let Some(r) = run.resources else {
            bail!("the client did not run: {:?}", run.outcome);
        };
        println!(
            "peak_kib={} sampled_tree_kib={} process_hwm_kib={} kernel_kib={} samples={} \
             client_cpu_ms={:.0} parent_cpu_ms={:.1} wall_s={:.3} outcome={}",
            kib(r.peak_rss_bytes),
            kib(r.sampled_tree_rss_bytes),
            kib(r.process_hwm_bytes),
            r.kernel_max_rss_bytes
                .map_or("ignored".to_string(), |b| kib(b).to_string()),
            r.rss_samples,
            r.cpu_secs * 1000.0,
            run.parent_cpu_secs * 1000.0,
            run.wall_secs,
            if run.figures().is_some() {
                "completed"
            } else {
                "failed"
            },
        );
    }
    std::hint::black_box(&ballast);
    Ok(())
}
