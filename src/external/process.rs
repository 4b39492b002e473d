//! Starting a client and watching it. A dedicated thread spawns the client in a process group
//! of its own, samples its tree's memory every [`SAMPLE_EVERY`] until it exits (woken at
//! once by a pidfd), then reaps it with `wait4` for its exit status and resource use. The
//! caller signals the whole group to stop it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{ChildStderr, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::memory::{self, TreePeak, TreeSampler};
use super::outcome::ExitInfo;
use super::spec::Launch;

/// Time between two memory samples of the client's tree.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// A client that started.
#[derive(Debug)]
pub(crate) struct Started {
    /// Its process id, which is also its process group's id.
    pub(crate) pgid: libc::pid_t,
    pub(crate) stdout: ChildStdout,
    pub(crate) stderr: ChildStderr,
    /// When `spawn` returned (the program was executing).
    pub(crate) at: Instant,
    /// Fires once the client is reaped; dropped unsent only if the watcher thread died.
    pub(crate) exit: oneshot::Receiver<Reaped>,
}

/// A reaped client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reaped {
    /// When it was seen to exit.
    pub(crate) at: Instant,
    /// How it ended; `None` if something else in this process reaped it first.
    pub(crate) exit: Option<ExitInfo>,
    /// `wait4`'s figures for it and the descendants it reaped; `None` as `exit`.
    pub(crate) usage: Option<Usage>,
    /// The memory sampled while it ran.
    pub(crate) tree: TreePeak,
    /// Our own high-water mark when it was spawned, bytes.
    pub(crate) spawner_hwm_bytes: u64,
}

/// `wait4`'s resource figures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    pub(crate) user: Duration,
    pub(crate) system: Duration,
    pub(crate) max_rss_bytes: u64,
}

/// Spawn `launch` from a new watcher thread and hand back its pipes; the thread then
/// watches it until it is reaped.
pub(crate) async fn start(launch: Launch) -> io::Result<Started> {
    let (started_tx, started_rx) = oneshot::channel();
    let (exit_tx, exit) = oneshot::channel();
    std::thread::Builder::new()
        .name("client-watch".into())
        .spawn(move || {
            let spawner_hwm_bytes = memory::own_hwm_bytes();
            // Spawned from this thread: the parent-death signal fires when the thread that
            // forked ends, and this one ends only after the client is reaped.
            let mut child = match command(&launch).spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                    return;
                }
            };
            let at = Instant::now();
            let pgid = child.id() as libc::pid_t;
            let pipes = child.stdout.take().zip(child.stderr.take());
            let Some((stdout, stderr)) = pipes else {
                signal_group(pgid, libc::SIGKILL);
                let _ = watch(pgid, spawner_hwm_bytes);
                let _ = started_tx.send(Err(io::Error::other("no stdout or stderr pipe")));
                return;
            };
            let started = Started {
                pgid,
                stdout,
                stderr,
                at,
                exit,
            };
            if let Err(Ok(_)) = started_tx.send(Ok(started)) {
                // Nobody waits for it any more: stop it rather than let it run unwatched.
                signal_group(pgid, libc::SIGKILL);
            }
            let _ = exit_tx.send(watch(pgid, spawner_hwm_bytes));
        })?;
    started_rx
        .await
        .unwrap_or_else(|_| Err(io::Error::other("the watcher thread ended early")))
}

fn command(launch: &Launch) -> Command {
    let mut command = Command::new(&launch.program);
    command
        .args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&launch.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a Ctrl-C at the terminal reaches the runner, which stops the client
        // itself; and the group is what gets signalled, descendants included.
        .process_group(0);
    for key in &launch.env_remove {
        command.env_remove(key);
    }
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid) and no
    // allocation: errors are built from errno values.
    unsafe {
        command.pre_exec(move || {
            // Die with the runner even when it is killed outright.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            // A runner that died before prctl will never send the signal: stop here.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    command
}

/// Sample the tree of `pid` until it exits, then reap it.
fn watch(pid: libc::pid_t, spawner_hwm_bytes: u64) -> Reaped {
    let pidfd = open_pidfd(pid);
    let mut tree = TreeSampler::new(pid);
    loop {
        tree.sample();
        match pidfd.as_ref() {
            Some(fd) => wait_readable(fd, SAMPLE_EVERY),
            None => std::thread::sleep(SAMPLE_EVERY),
        }
        if let Some((exit, usage)) = try_reap(pid) {
            return Reaped {
                at: Instant::now(),
                exit,
                usage,
                tree: tree.peak(),
                spawner_hwm_bytes,
            };
        }
    }
}

/// A pidfd for `pid`: readable once it exits. `None` on kernels before 5.3.
fn open_pidfd(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: a non-negative result is a descriptor we now own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Wait up to `wait` for `fd` to become readable (or for a signal).
fn wait_readable(fd: &OwnedFd, wait: Duration) {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    unsafe {
        libc::poll(&mut poll, 1, wait.as_millis() as libc::c_int);
    }
}

/// Reap `pid` if it has exited: its exit and usage, both `None` when it is no longer our
/// child to reap. `None` while it runs.
fn try_reap(pid: libc::pid_t) -> Option<(Option<ExitInfo>, Option<Usage>)> {
    let mut status = 0;
    // SAFETY: wait4 fills the zeroed rusage and the status it is given.
    let (reaped, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let r = libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage);
        (r, usage)
    };
    if reaped == pid {
        return Some((Some(exit_info(status)), Some(usage_of(&usage))));
    }
    if reaped < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
        return Some((None, None));
    }
    None
}

fn exit_info(status: libc::c_int) -> ExitInfo {
    if libc::WIFSIGNALED(status) {
        ExitInfo {
            code: None,
            signal: Some(libc::WTERMSIG(status)),
        }
    } else {
        ExitInfo {
            code: Some(libc::WEXITSTATUS(status)),
            signal: None,
        }
    }
}

fn usage_of(u: &libc::rusage) -> Usage {
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Usage {
        user: time(u.ru_utime),
        system: time(u.ru_stime),
        // Linux reports kibibytes.
        max_rss_bytes: u.ru_maxrss.max(0) as u64 * 1024,
    }
}

/// Send `signal` to every process of group `pgid`; true if any was there to receive it.
pub(crate) fn signal_group(pgid: libc::pid_t, signal: libc::c_int) -> bool {
    // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Whether any process of group `pgid` still runs. Zombies do not count: they are gone but
/// for their exit status, and an init that does not reap (as in some containers) keeps them.
pub(crate) fn group_running(pgid: libc::pid_t) -> bool {
    if !signal_group(pgid, 0) {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .any(|pid| matches!(state_and_group(pid), Some((state, group)) if group == pgid && state != 'Z' && state != 'X'))
}

/// The state letter and process group of `pid`, from `/proc/PID/stat`.
fn state_and_group(pid: libc::pid_t) -> Option<(char, libc::pid_t)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let group = fields.nth(1)?.parse().ok()?;
    Some((state, group))
}

/// User + system CPU time of this whole process so far.
pub(crate) fn own_cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let u = usage_of(&usage);
    u.user + u.system
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_codes_and_signals() {
        assert_eq!(
            exit_info(3 << 8),
            ExitInfo {
                code: Some(3),
                signal: None
            }
        );
        assert_eq!(
            exit_info(libc::SIGKILL),
            ExitInfo {
                code: None,
                signal: Some(libc::SIGKILL)
            }
        );
    }

    #[test]
    fn a_group_runs_until_its_last_process_is_gone() {
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id() as libc::pid_t;
        assert!(group_running(pgid));
        assert_eq!(state_and_group(pgid).map(|(_, g)| g), Some(pgid));
        assert!(signal_group(pgid, libc::SIGKILL));
        child.wait().unwrap();
        assert!(!group_running(pgid));
    }
}
