//! Open files: every connection is a file descriptor. A run raises its soft `RLIMIT_NOFILE`
//! to the hard limit, and refuses — before any traffic, with the numbers — a point whose
//! connections cannot fit, rather than measuring a stream of "too many open files" connect
//! errors.

use std::time::Duration;

use crate::scenario::{LoadModel, Point};

use super::RunError;

/// Descriptors kept free beyond the connections and those already open: name lookups, the
/// report's files, the runtime's own.
const MARGIN: u64 = 32;

/// The open-file limit a run works within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenFiles {
    /// How many descriptors the process may have open.
    pub(crate) limit: u64,
    /// Whether `limit` is the hard limit (only a privileged process can go past it).
    pub(crate) hard: bool,
}

/// Raise the process's soft open-file limit to its hard limit, and return the limit in force
/// (`None` when it cannot be read). Children started afterwards inherit it.
pub(crate) fn raise_open_files() -> Option<OpenFiles> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives on this stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given. It may fail (a hard limit of
        // "unlimited" that the kernel caps lower): the soft limit then stays as it was.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    Some(OpenFiles {
        limit: limit.rlim_cur,
        hard: limit.rlim_cur == limit.rlim_max,
    })
}

/// Descriptors open now (standard streams, the request log, the mock child's pipes, the
/// runtime's), or a generous guess where they cannot be listed.
pub(crate) fn open_now() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .or_else(|_| std::fs::read_dir("/dev/fd"))
        .map_or(64, |entries| entries.count() as u64)
}

/// Refuse `points` when the largest (the first of them, in plan order) needs more descriptors
/// than `files` allows: one connection per request in flight, on top of the `open` ones and a
/// margin. `longest` is the longest a request can stay in flight (its attempts' timeouts and
/// the retry waits between them), which bounds how many an open loop can hold.
pub(crate) fn check(
    points: &[Point],
    longest: Duration,
    files: OpenFiles,
    open: u64,
) -> Result<(), RunError> {
    let connections = |p: &Point| connections(&p.load, longest);
    let Some(point) = points.iter().rev().max_by_key(|p| connections(p)) else {
        return Ok(());
    };
    let needed = open + connections(point) + MARGIN;
    if needed <= files.limit {
        return Ok(());
    }
    Err(RunError::OpenFiles {
        point: point.id.clone(),
        needed,
        limit: files.limit,
        hard: files.hard,
    })
}

/// The most connections `load` can hold open at once: a closed loop's workers; an open loop's
/// in-flight cap, or fewer when its peak rate cannot fill the cap within `longest` (a rate
/// point at 10 req/s whose requests last at most 30 s holds at most 300, however high its cap).
fn connections(load: &LoadModel, longest: Duration) -> u64 {
    match load {
        LoadModel::Closed { concurrency } => u64::from(concurrency.get()),
        LoadModel::Open { open_loop } => {
            let peak_rps = open_loop.rate.peak();
            let reachable = (peak_rps * longest.as_secs_f64()).ceil() as u64;
            u64::from(open_loop.max_in_flight.get()).min(reachable.max(1))
        }
    }
}

/// `n` with its thousands separated by commas: `100,040`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Overrides;

    /// How long a request may last in these tests.
    const LONGEST: Duration = Duration::from_secs(30);

    /// The points of a one-route plan at each of `concurrency`.
    fn points(concurrency: &[u32]) -> Vec<Point> {
        let levels: Vec<String> = concurrency.iter().map(u32::to_string).collect();
        plan(&format!("concurrency = [{}]\n", levels.join(", ")))
    }

    /// The points of a one-route plan whose `[matrix]` ends with `load` (and `extra` after it).
    fn plan(load: &str) -> Vec<Point> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        let text = format!(
            "[target]\nbase_url = \"http://127.0.0.1:9\"\n[routes.chat]\npath = \"/x\"\n\
             [matrix]\nroute = [\"chat\"]\n{load}"
        );
        std::fs::write(&file, text).unwrap();
        let s = crate::scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
        crate::scenario::expand(&s).unwrap()
    }

    #[test]
    fn the_largest_point_must_fit_with_what_is_open_and_a_margin() {
        let files = OpenFiles {
            limit: 65_536,
            hard: true,
        };
        let plan = points(&[8, 100_000, 32, 70_000]);
        let err = check(&plan, LONGEST, files, 8).unwrap_err();
        assert_eq!(
            err.to_string(),
            "point `chat-c100000` needs about 100,040 file descriptors; this process may open \
             65,536 (hard limit); raise it with `ulimit -n` or lower the concurrency"
        );
        let fits = 65_536 - 8 - MARGIN;
        assert!(check(&points(&[fits as u32]), LONGEST, files, 8).is_ok());
        assert!(check(&points(&[fits as u32 + 1]), LONGEST, files, 8).is_err());
        let soft = OpenFiles {
            limit: 1024,
            hard: false,
        };
        assert!(
            check(&points(&[2000]), LONGEST, soft, 8)
                .unwrap_err()
                .to_string()
                .contains("may open 1,024 (soft limit)")
        );
        assert!(check(&[], LONGEST, soft, 8).is_ok());
    }

    #[test]
    fn a_rate_point_needs_what_its_rate_can_hold_in_flight_up_to_its_cap() {
        let files = OpenFiles {
            limit: 1024,
            hard: true,
        };
        // 10 req/s lasting at most 30 s: 300 in flight at most, whatever the cap (10,000).
        assert!(check(&plan("rate = [10]\n"), LONGEST, files, 8).is_ok());
        // 100 req/s: 3,000 could be in flight.
        let err = check(&plan("rate = [100]\n"), LONGEST, files, 8).unwrap_err();
        assert!(err.to_string().contains("needs about 3,040"), "{err}");
        // The cap bounds it.
        let capped = "rate = [100]\n[run.arrival]\nmax_in_flight = 500\n";
        assert!(check(&plan(capped), LONGEST, files, 8).is_ok());
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        let shown: Vec<String> = [0, 999, 1000, 65_536, 100_040, 1_234_567]
            .into_iter()
            .map(grouped)
            .collect();
        assert_eq!(
            shown,
            ["0", "999", "1,000", "65,536", "100,040", "1,234,567"]
        );
    }
}
