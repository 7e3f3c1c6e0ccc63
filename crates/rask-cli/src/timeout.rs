//! `rask run --timeout SECONDS`: a callback that watches the run from its
//! first task and, when the time is up, names the tasks still running and
//! ends the process with exit status 1.
//!
//! A task is a Rust call that cannot be interrupted, so the run is stopped
//! by ending the process: the workers of `--scheduler processes` go with it
//! (they ask the kernel to end them when the scheduler dies), and the
//! programs that `shell` tasks of `sync` or `threads` started are sent
//! `SIGTERM` first (on Linux; what those programs started in turn is not
//! followed). The watch
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
            end_children();
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

/// Sends `SIGTERM` to the child processes of this process: the programs
/// `shell` tasks are running, or the workers of a process pool.
fn end_children() {
    #[cfg(target_os = "linux")]
    {
        let me = std::process::id();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            // the parent is the second field after the command, which is
            // in parentheses and may hold anything
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(me) {
                // SAFETY: kill only sends a signal to a process id read
                // just now as a child of this process; no memory is shared.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
        }
    }
}
