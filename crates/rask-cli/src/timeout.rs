//! `rask run --timeout SECONDS`: a callback that watches the run from its
//! first task and, when the time is up, names the tasks still running and
//! ends the process with exit status 1.
//!
//! A task is a Rust call that cannot be interrupted, so the run is stopped
//! by ending the process, after every descendant of it — the workers of
//! `--scheduler processes`, the programs `shell` tasks started and what
//! those started, `setsid` or not (rask is a subreaper: see
//! [`crate::interrupt`]) — is ended. The watch
//! starts in [`Callback::start`], after a process pool forked its workers,
//! so no fork sees its thread; [`Callback::finish`] stops it before
//! anything is printed, so a run that ends at the deadline prints either
//! its whole result or nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rask::{Callback, ComputeError, Key, RunInfo, TaskEvent, TaskId};

/// What the watch thread and the workers share.
#[derive(Debug, Default)]
struct Shared {
    /// The tasks running now, by id.
    running: Mutex<BTreeMap<TaskId, Key>>,
    /// Whether the run is over (set by `finish`).
    done: Mutex<bool>,
    wake: Condvar,
}

/// The `--timeout` of a run.
#[derive(Debug)]
pub(crate) struct Timeout {
    limit: Duration,
    /// Where the run's file is, for the message.
    file: String,
    shared: Arc<Shared>,
    watch: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Timeout {
    pub(crate) fn new(limit: Duration, file: String) -> Timeout {
        Timeout {
            limit,
            file,
            shared: Arc::default(),
            watch: Mutex::new(None),
        }
    }
}

impl Callback for Timeout {
    fn start(&self, _: &RunInfo<'_>) {
        let (shared, limit, file) = (self.shared.clone(), self.limit, self.file.clone());
        let watch = std::thread::spawn(move || {
            let done = lock(&shared.done);
            let (done, _) = shared
                .wake
                .wait_timeout_while(done, limit, |done| !*done)
                .unwrap_or_else(|e| e.into_inner());
            if *done {
                return;
            }
            // `done` stays locked: `finish` cannot let the result print
            let running = lock(&shared.running);
            let keys: Vec<String> = running.values().map(|k| format!("{k:?}")).collect();
            eprintln!(
                "rask: error: {file}: the run took longer than --timeout {} s: stopped with {} \
                 task(s) still running: {}",
                limit.as_secs_f64(),
                keys.len(),
                keys.join(", ")
            );
            crate::interrupt::end_programs();
            std::process::exit(1);
        });
        *lock(&self.watch) = Some(watch);
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        lock(&self.shared.running).insert(event.id, event.key.clone());
    }

    fn task_finished(&self, event: &TaskEvent<'_>) {
        lock(&self.shared.running).remove(&event.id);
    }

    fn task_failed(&self, event: &TaskEvent<'_>) {
        lock(&self.shared.running).remove(&event.id);
    }

    fn finish(&self, _: Option<&ComputeError>) {
        *lock(&self.shared.done) = true;
        self.shared.wake.notify_all();
        if let Some(watch) = lock(&self.watch).take() {
            let _ = watch.join();
        }
    }
}
