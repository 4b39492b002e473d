//! The process signals that end a run — SIGINT (Ctrl-C), SIGTERM (`kill`, `timeout`, a CI
//! cancel, `docker stop`, Kubernetes) and SIGHUP (the terminal went away) — watched on a
//! thread of their own for the rest of the process. The first raises a [`Stop`]: the run ends
//! cleanly and writes its partial reports. The second runs the last words set with
//! [`SignalWatch::before_exit`] and exits with 128 + its number, promptly, whatever the rest
//! of the process is doing: shutting the runtime down, or rendering a slow user template.
//!
//! A thread rather than a task, because the load runtime is gone before the reports are
//! written, and the second signal must still be heard then.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::signal::unix::{self, SignalKind};

use super::Stop;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C at the terminal.
    Interrupt,
    /// SIGTERM: `kill`, `timeout`, a CI cancel, `docker stop`, Kubernetes.
    Terminate,
    /// SIGHUP: the terminal closed.
    Hangup,
}

impl Signal {
    /// Its number.
    fn number(self) -> libc::c_int {
        match self {
            Self::Interrupt => libc::SIGINT,
            Self::Terminate => libc::SIGTERM,
            Self::Hangup => libc::SIGHUP,
        }
    }

    /// How messages and reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "Ctrl-C",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        }
    }

    /// The exit code of a run it ended: 128 + its number (130, 143, 129), what a shell reports
    /// for a process the signal killed — so a supervisor sees the signal it sent, and the
    /// reports are written all the same.
    pub fn exit_code(self) -> u8 {
        // Signal numbers 1, 2 and 15: the sum fits.
        128 + self.number() as u8
    }

    /// Whether the process inherited this signal as ignored (`nohup`, a background job of a
    /// script): then it is left ignored, as the caller asked.
    fn inherited_ignored(self) -> bool {
        // SAFETY: sigaction with a null new action only reads the current one into `old`.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(self.number(), std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    }
}

/// What to do before a second signal exits the process.
type LastWords = Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>;

/// The process's watch on SIGINT, SIGTERM and SIGHUP; see the module docs. Start it once.
pub struct SignalWatch {
    stop: Stop,
    last_words: LastWords,
}

impl std::fmt::Debug for SignalWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalWatch")
            .field("stop", &self.stop)
            .finish_non_exhaustive()
    }
}

impl SignalWatch {
    /// Catch the signals from now on and start the thread that watches them; it lives until
    /// the process exits. Before this, they end the process at once (nothing is measured yet).
    pub fn start() -> io::Result<Self> {
        let stop = Stop::new();
        let last_words = LastWords::default();
        let (ready, started) = std::sync::mpsc::channel();
        let watch = Watch {
            stop: stop.clone(),
            last_words: Arc::clone(&last_words),
        };
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || watch.run(&ready))?;
        // Returns once the handlers are in place: a signal sent right after is caught.
        started
            .recv()
            .map_err(|_| io::Error::other("the signal thread ended before it started"))??;
        Ok(Self { stop, last_words })
    }

    /// The stop the first signal raises.
    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// Run `last_words` (on the watching thread) when a second signal arrives, before the
    /// process exits — for what must not be lost even then, such as the request log's buffer.
    /// It should bound its own time: "promptly" is the promise. Replaces earlier last words.
    pub fn before_exit(&self, last_words: impl FnOnce() + Send + 'static) {
        *self
            .last_words
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Box::new(last_words));
    }
}

/// What the watching thread owns.
struct Watch {
    stop: Stop,
    last_words: LastWords,
}

impl Watch {
    /// Install the handlers, say so on `ready`, then watch until the second signal.
    fn run(self, ready: &std::sync::mpsc::Sender<io::Result<()>>) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(err) => {
                let _ = ready.send(Err(err));
                return;
            }
        };
        runtime.block_on(async {
            let mut listeners = match Listeners::install() {
                Ok(listeners) => listeners,
                Err(err) => {
                    let _ = ready.send(Err(err));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            let Some(first) = listeners.next().await else {
                return;
            };
            // The runner says what happens next, above its progress bars.
            self.stop.raise(first);
            let Some(second) = listeners.next().await else {
                return;
            };
            let last_words = self
                .last_words
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(last_words) = last_words {
                last_words();
            }
            std::process::exit(second.exit_code().into());
        });
    }
}

/// One stream per watched signal; `None` for a signal left ignored.
struct Listeners {
    interrupt: Option<unix::Signal>,
    terminate: Option<unix::Signal>,
    hangup: Option<unix::Signal>,
}

impl Listeners {
    fn install() -> io::Result<Self> {
        let listen = |signal: Signal, kind: SignalKind| {
            if signal.inherited_ignored() {
                Ok(None)
            } else {
                unix::signal(kind).map(Some)
            }
        };
        Ok(Self {
            interrupt: listen(Signal::Interrupt, SignalKind::interrupt())?,
            terminate: listen(Signal::Terminate, SignalKind::terminate())?,
            hangup: listen(Signal::Hangup, SignalKind::hangup())?,
        })
    }

    /// The next signal; `None` if no signal can arrive any more.
    async fn next(&mut self) -> Option<Signal> {
        tokio::select! {
            Some(()) = recv(&mut self.interrupt) => Some(Signal::Interrupt),
            Some(()) = recv(&mut self.terminate) => Some(Signal::Terminate),
            Some(()) = recv(&mut self.hangup) => Some(Signal::Hangup),
            else => None,
        }
    }
}

/// The next delivery of `signal`; never, for a signal not watched.
async fn recv(signal: &mut Option<unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Hangup.exit_code(), 129);
    }

    #[tokio::test]
    async fn the_first_signal_raises_the_stop_and_names_itself() {
        let watch = SignalWatch::start().unwrap();
        let stop = watch.stop();
        assert_eq!(stop.signal(), None);
        // Only one signal: a second would exit the test process. No other test sends SIGHUP.
        // SAFETY: kill(2) on our own pid.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGHUP);
        }
        tokio::time::timeout(std::time::Duration::from_secs(30), stop.requested())
            .await
            .expect("SIGHUP raised the stop");
        assert_eq!(stop.signal(), Some(Signal::Hangup));
    }
}
