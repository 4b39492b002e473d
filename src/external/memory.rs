//! The memory of a client's process tree, sampled from `/proc`: the client and every
//! descendant found through `/proc/PID/task/TID/children`, each one's resident set
//! (`statm`) summed, and the highest sum kept. Each process's own high-water mark (`VmHWM`)
//! is read too, every [`HWM_EVERY`] samples (`status` costs three times `statm` to read), so a
//! spike between two samples still counts for the process that had it.
//!
//! The kernel's `ru_maxrss` from `wait4` is not enough alone: at `exec` a child inherits,
//! as its starting maximum, the resident set of the process that spawned it (ours), so a
//! small client of a large runner would report the runner's size. See `trusted_max_rss`.

use std::fs::File;
use std::io::Read;

/// Processes looked at per sample, at most (a fork bomb must not stall the watcher).
const MAX_PROCESSES: usize = 4096;
/// High-water marks are read at every this many samples.
const HWM_EVERY: u64 = 5;

/// The highest memory figures of a process tree so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TreePeak {
    /// Highest sum of the tree's resident sets at one sample, bytes.
    pub(crate) sum_bytes: u64,
    /// Highest high-water mark any one process of the tree reported, bytes.
    pub(crate) process_hwm_bytes: u64,
    /// Samples that found the client alive.
    pub(crate) samples: u64,
}

/// Samples the tree under one root.
#[derive(Debug)]
pub(crate) struct TreeSampler {
    root: libc::pid_t,
    peak: TreePeak,
    text: String,
    pending: Vec<libc::pid_t>,
    seen: Vec<libc::pid_t>,
}

impl TreeSampler {
    pub(crate) fn new(root: libc::pid_t) -> Self {
        Self {
            root,
            peak: TreePeak::default(),
            text: String::new(),
            pending: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Take one sample.
    pub(crate) fn sample(&mut self) {
        self.pending.clear();
        self.seen.clear();
        self.pending.push(self.root);
        let read_hwm = self.peak.samples % HWM_EVERY == 0;
        let mut sum = 0;
        let mut found = false;
        while let Some(pid) = self.pending.pop() {
            if self.seen.len() >= MAX_PROCESSES || self.seen.contains(&pid) {
                continue;
            }
            self.seen.push(pid);
            if let Some(rss) = resident_bytes(pid, &mut self.text) {
                found = true;
                sum += rss;
            }
            if let Some(hwm) = read_hwm
                .then(|| high_water_bytes(pid, &mut self.text))
                .flatten()
            {
                self.peak.process_hwm_bytes = self.peak.process_hwm_bytes.max(hwm);
            }
            self.push_children(pid);
        }
        if found {
            self.peak.samples += 1;
            self.peak.sum_bytes = self.peak.sum_bytes.max(sum);
        }
    }

    /// The peaks so far.
    pub(crate) fn peak(&self) -> TreePeak {
        self.peak
    }

    /// Queue the children of every thread of `pid`.
    fn push_children(&mut self, pid: libc::pid_t) {
        let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        for thread in threads.flatten() {
            let tid = thread.file_name();
            let path = format!("/proc/{pid}/task/{}/children", tid.to_string_lossy());
            if read_into(&path, &mut self.text) {
                let children = self
                    .text
                    .split_whitespace()
                    .filter_map(|c| c.parse::<libc::pid_t>().ok());
                self.pending.extend(children);
            }
        }
    }
}

/// The resident set of `pid`, bytes; `None` once it has exited (a zombie has none).
fn resident_bytes(pid: libc::pid_t, text: &mut String) -> Option<u64> {
    if !read_into(&format!("/proc/{pid}/statm"), text) {
        return None;
    }
    // `size resident shared text lib data dt`, in pages.
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    // A zombie's counts are all zero.
    (pages > 0).then(|| pages * page_size())
}

/// The high-water mark of `pid`'s resident set (`VmHWM`), bytes.
fn high_water_bytes(pid: libc::pid_t, text: &mut String) -> Option<u64> {
    if !read_into(&format!("/proc/{pid}/status"), text) {
        return None;
    }
    let kib = text.lines().find_map(|l| {
        l.strip_prefix("VmHWM:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<u64>()
            .ok()
    })?;
    Some(kib * 1024)
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// Read the file at `path` into `text`, reusing its buffer; false if it cannot be read.
fn read_into(path: &str, text: &mut String) -> bool {
    text.clear();
    File::open(path)
        .and_then(|mut f| f.read_to_string(text))
        .is_ok()
}

/// This process's own high-water mark, bytes (0 when `/proc` cannot tell).
pub(crate) fn own_hwm_bytes() -> u64 {
    high_water_bytes(std::process::id() as libc::pid_t, &mut String::new()).unwrap_or(0)
}

/// The kernel's `ru_maxrss` of a reaped client, when it can be the client's own: a child
/// starts with the resident set of its spawner (`spawner_hwm_bytes`, ours when it was
/// started) as its maximum, so a figure no higher than that may be ours and says nothing.
pub(crate) fn trusted_max_rss(max_rss_bytes: u64, spawner_hwm_bytes: u64) -> Option<u64> {
    (max_rss_bytes > spawner_hwm_bytes).then_some(max_rss_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_of_this_process_finds_its_memory_and_its_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mut sampler = TreeSampler::new(std::process::id() as libc::pid_t);
        sampler.sample();
        let peak = sampler.peak();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(peak.samples, 1);
        assert!(sampler.seen.contains(&(child.id() as libc::pid_t)));
        assert!(peak.sum_bytes > 0);
        assert!(peak.process_hwm_bytes > 0);
        assert!(own_hwm_bytes() > 0);
    }

    #[test]
    fn a_process_that_is_gone_gives_no_sample() {
        let mut sampler = TreeSampler::new(i32::MAX);
        sampler.sample();
        assert_eq!(sampler.peak(), TreePeak::default());
    }

    #[test]
    fn the_kernel_figure_counts_only_above_the_spawners_mark() {
        assert_eq!(trusted_max_rss(100, 40), Some(100));
        assert_eq!(trusted_max_rss(40, 40), None);
    }
}
