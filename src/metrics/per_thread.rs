//! Values kept per thread rather than per worker: each runtime thread that touches a
//! `PerThread` gets its own value on first use and, from then on, reaches it with no lock and
//! no atomic read-modify-write — a look into a four-entry thread-local cache. The measurements
//! of a phase (`ThreadRecorders`) and the live counters of the progress bar live this way, so
//! their memory grows with the runtime's threads (two on this project's machine), not with the
//! thousands of connections a point may hold, and the request path writes only lines its own
//! core owns.
//!
//! Why it is sound: a thread reaches only the value registered under its own `ThreadId` (found
//! in its own cache, or under the registry's lock on first use), so a value that is not `Sync`
//! — a `RefCell` — is only ever touched by one thread through `get_or`. Other threads see the
//! values through `iter` only when they are `Sync` (atomics), or through `iter_mut`, whose
//! `&mut self` proves no thread holds a reference from `get_or` any more: with a registry in
//! an `Arc`, `Arc::get_mut` succeeds only after every task that held a clone has dropped it,
//! and its acquiring read makes those tasks' writes visible.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use super::recorder::Recorder;

/// Registries a thread remembers its values in; a fifth one in use evicts the oldest (which is
/// then found again under the lock: slower, never wrong).
const CACHED: usize = 4;

/// Registry numbers handed out so far; 0 is never one, so an empty cache entry matches none.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The values this thread used last: registry number and the value's address.
    static RECENT: Cell<[(u64, usize); CACHED]> = const { Cell::new([(0, 0); CACHED]) };
}

/// One value per thread that used it.
#[derive(Debug)]
pub struct PerThread<T> {
    /// This registry's number, never reused by another: a cache entry bearing it points into
    /// this registry's boxes.
    id: u64,
    /// Every thread's value. Boxed, so that a value keeps its address when the list grows;
    /// never removed before the registry is dropped.
    values: Mutex<Vec<Box<(ThreadId, T)>>>,
}

impl<T: Send> Default for PerThread<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send> PerThread<T> {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            values: Mutex::new(Vec::new()),
        }
    }

    /// The calling thread's value, made by `make` on its first use.
    pub fn get_or(&self, make: impl FnOnce() -> T) -> &T {
        let id = self.id;
        let cached = RECENT.with(|recent| {
            recent
                .get()
                .iter()
                .find(|entry| entry.0 == id)
                .map(|entry| entry.1)
        });
        let address = cached.unwrap_or_else(|| self.register(make));
        // SAFETY: `address` was cached by this thread under this registry's number, which no
        // other registry bears, so it is the address of this thread's value in one of this
        // registry's boxes. A box is freed only when the registry is dropped or reached
        // through `&mut self`, neither of which can happen while `&self` is borrowed for the
        // returned reference. No other thread gets this value from `get_or`, and the others
        // see it through `iter` only when `T: Sync`.
        unsafe { &*(address as *const T) }
    }

    /// Find or make the calling thread's value under the lock, and cache its address.
    fn register(&self, make: impl FnOnce() -> T) -> usize {
        let me = std::thread::current().id();
        let mut values = self.lock();
        let index = match values.iter().position(|v| v.0 == me) {
            Some(i) => i,
            None => {
                values.push(Box::new((me, make())));
                values.len() - 1
            }
        };
        let address = &values[index].1 as *const T as usize;
        RECENT.with(|recent| {
            let mut entries = recent.get();
            entries.rotate_right(1);
            entries[0] = (self.id, address);
            recent.set(entries);
        });
        address
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Box<(ThreadId, T)>>> {
        // The lock guards only pushes of whole boxes: a panic elsewhere leaves the list sound.
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every thread's value, for reading while the threads may still write (atomics).
    pub fn iter(&self) -> impl Iterator<Item = &T>
    where
        T: Sync,
    {
        let values = self.lock();
        let all: Vec<*const T> = values.iter().map(|v| &v.1 as *const T).collect();
        drop(values);
        // SAFETY: each pointer is to a value in a box that lives until the registry is dropped
        // or reached through `&mut self`, which `&self` rules out for the returned lifetime;
        // `T: Sync` lets other threads share it.
        all.into_iter().map(|p| unsafe { &*p })
    }

    /// Every thread's value, with no thread using any.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.values
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .iter_mut()
            .map(|v| &mut v.1)
    }
}

/// A phase's measurements: one `Recorder` per runtime thread, each written by the workers
/// running on that thread, merged when the phase's tasks have all ended. A closed loop's
/// 10,000 workers on two threads share two recorders.
#[derive(Debug, Default)]
pub struct ThreadRecorders(PerThread<RefCell<Recorder>>);

impl ThreadRecorders {
    /// No recorder yet: each thread makes its own on its first record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record into the calling thread's recorder. `f` must not record again (it is handed the
    /// recorder, not the set): the recorder is borrowed for the call.
    pub fn with<R>(&self, f: impl FnOnce(&mut Recorder) -> R) -> R {
        let cell = self.0.get_or(|| RefCell::new(Recorder::new()));
        f(&mut cell.borrow_mut())
    }

    /// Every thread's measurements merged into one; each thread's recorder is cleared for the
    /// next phase (its memory kept).
    pub fn take_merged(&mut self) -> Recorder {
        let mut merged = Recorder::new();
        for recorder in self.0.iter_mut() {
            let recorder = recorder.get_mut();
            merged.merge(recorder);
            recorder.clear();
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::Arc;

    #[test]
    fn each_thread_keeps_its_own_value() {
        let mut counts = Arc::new(PerThread::<RefCell<u64>>::new());
        let threads: Vec<_> = (1..=3u64)
            .map(|n| {
                let counts = Arc::clone(&counts);
                std::thread::spawn(move || {
                    for _ in 0..n * 1000 {
                        *counts.get_or(|| RefCell::new(0)).borrow_mut() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let counts = Arc::get_mut(&mut counts).expect("the threads are gone");
        let mut seen: Vec<u64> = counts.iter_mut().map(|c| *c.get_mut()).collect();
        seen.sort();
        assert_eq!(seen, [1000, 2000, 3000]);
    }

    #[test]
    fn a_thread_finds_its_value_among_more_registries_than_it_caches() {
        let registries: Vec<PerThread<AtomicU64>> =
            (0..CACHED + 2).map(|_| PerThread::new()).collect();
        for round in 1..=3u64 {
            for r in &registries {
                r.get_or(|| AtomicU64::new(0))
                    .fetch_add(1, Ordering::Relaxed);
                assert_eq!(r.iter().count(), 1, "one thread, one value");
                assert_eq!(r.iter().next().unwrap().load(Ordering::Relaxed), round);
            }
        }
    }

    #[test]
    fn values_of_a_dropped_registry_are_not_reached_from_a_new_one() {
        for i in 0..10u64 {
            let r = PerThread::<AtomicU64>::new();
            assert_eq!(r.get_or(|| AtomicU64::new(i)).load(Ordering::Relaxed), i);
        }
    }
}
