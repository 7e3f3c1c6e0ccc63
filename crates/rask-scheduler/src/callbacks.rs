//! Callbacks: how diagnostics (progress bars, profilers, resource
//! monitors) watch a computation without being part of it.
//!
//! A [`Callback`] has five optional hooks: `start` (before the first
//! task), `task_started`, `task_finished` and `task_failed` (from the
//! worker that ran the task, so they must be cheap and thread-safe), and
//! `finish`. `finish`
//! runs for every callback whose `start` ran, on success, on error and on
//! panic: it is called from a drop guard ([`Watch`]).
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use rask::{get_with, Callback, Threads, TaskEvent};
//! use rask::graph;
//! #[derive(Default, Debug)]
//! struct Count(AtomicUsize);
//! impl Callback for Count {
//!     fn task_finished(&self, _: &TaskEvent<'_>) { self.0.fetch_add(1, Ordering::Relaxed); }
//! }
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x") };
//! let count = Count::default();
//! get_with(&Threads::new(2), &g, "y", &[&count]).unwrap();
//! assert_eq!(count.0.load(Ordering::Relaxed), 2);
//! ```

use std::time::Instant;

use rask_graph::{Graph, Key, Plan, TaskId};

use crate::error::ComputeError;

/// What a computation is about to run, for [`Callback::start`].
#[derive(Debug, Clone, Copy)]
pub struct RunInfo<'a> {
    /// The graph.
    pub graph: &'a Graph,
    /// The plan: the tasks that will run (`plan.len()` of them).
    pub plan: &'a Plan,
    /// The executor's name (`sync`, `threads`, ...).
    pub executor: &'a str,
    /// How many workers run tasks.
    pub workers: usize,
}

/// One task, as seen by [`Callback::task_started`] and
/// [`Callback::task_finished`].
#[derive(Debug, Clone, Copy)]
pub struct TaskEvent<'a> {
    /// The task's id in the plan.
    pub id: TaskId,
    /// The task's key.
    pub key: &'a Key,
    /// The worker running it (`0..workers`).
    pub worker: usize,
    /// When it started.
    pub start: Instant,
    /// When it ended (equal to `start` in `task_started`).
    pub end: Instant,
}

/// Hooks into a computation. Every method has a default that does nothing.
pub trait Callback: Send + Sync {
    /// Before the first task.
    fn start(&self, _info: &RunInfo<'_>) {}
    /// A worker starts a task.
    fn task_started(&self, _event: &TaskEvent<'_>) {}
    /// A worker finished a task successfully.
    fn task_finished(&self, _event: &TaskEvent<'_>) {}
    /// A task returned an error or panicked (`event.end` is when); the
    /// error itself reaches [`finish`](Callback::finish).
    fn task_failed(&self, _event: &TaskEvent<'_>) {}
    /// After the last task, or on the first error (`Some`): always called
    /// when `start` was.
    fn finish(&self, _error: Option<&ComputeError>) {}
}

/// Calls `start` on creation and `finish` when dropped (also on panic),
/// unless [`Watch::finish`] already did.
#[derive(Debug)]
pub struct Watch<'c, 'd> {
    callbacks: &'c [&'d dyn Callback],
    /// How many callbacks' `start` ran: only those get `finish`.
    started: usize,
    finished: bool,
}

impl std::fmt::Debug for dyn Callback + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Callback")
    }
}

impl<'c, 'd> Watch<'c, 'd> {
    /// Calls `start` on every callback.
    pub fn start(callbacks: &'c [&'d dyn Callback], info: &RunInfo<'_>) -> Watch<'c, 'd> {
        let mut watch = Watch {
            callbacks,
            started: 0,
            finished: false,
        };
        for c in callbacks {
            c.start(info);
            // if a later `start` panics, the drop guard finishes this one
            watch.started += 1;
        }
        watch
    }

    /// Calls `finish` on every callback with the outcome.
    pub fn finish(mut self, error: Option<&ComputeError>) {
        self.finished = true;
        for c in &self.callbacks[..self.started] {
            c.finish(error);
        }
    }
}

impl Drop for Watch<'_, '_> {
    fn drop(&mut self) {
        if !self.finished {
            let error = ComputeError::Executor {
                executor: "rask".into(),
                message: "the computation panicked".into(),
            };
            for c in &self.callbacks[..self.started] {
                c.finish(Some(&error));
            }
        }
    }
}
