//! Facts about the client machine for the report header, read from /proc and uname.

use super::HostFacts;

impl HostFacts {
    /// Read the facts of this machine (unknown parts stay empty or zero).
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get() as u32);
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map_or(0, |kb| kb * 1024);
        let pretty = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|r| {
                r.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_string())
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_string())
            .ok();
        let os = match (pretty, kernel) {
            (Some(p), Some(k)) => format!("{p}, Linux {k}"),
            (Some(p), None) => p,
            (None, Some(k)) => format!("Linux {k}"),
            (None, None) => std::env::consts::OS.to_string(),
        };
        Self {
            cpu_model,
            cores,
            os,
            memory_bytes,
        }
    }
}
