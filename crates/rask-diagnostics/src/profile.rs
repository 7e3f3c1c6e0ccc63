//! The profiler: when each task started and ended, and on which worker.
//!
//! A [`Profiler`] is a [`Callback`]; after a run, [`Profiler::profile`]
//! gives a [`Profile`]: one [`TaskRecord`] per task that ran (finished
//! tasks, and the task that failed, if one did), times measured from the
//! start of the run. A profile is written as a Chrome trace (for Perfetto
//! and chrome://tracing, see [`crate::trace`]) or as a self-contained HTML
//! timeline (see [`crate::timeline`]); [`Profile::write`] picks the format
//! from the file name.
//!
//! ```
//! use rask::graph;
//! use rask::{get_with, Threads};
//! use rask::diagnostics::Profiler;
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (inc, "y") };
//! let profiler = Profiler::new();
//! get_with(&Threads::new(2), &g, "z", &[&profiler]).unwrap();
//! let profile = profiler.profile();
//! assert_eq!(profile.records.len(), 3);
//! let y = profile.records.iter().find(|r| r.key == "y".into()).unwrap();
//! assert_eq!(y.function.as_deref(), Some("inc"));
//! assert!(y.start <= y.end && y.end <= profile.wall);
//! ```
//!
//! Recording costs two uncontended locks per task (each worker has its
//! own list), so profiling tiny tasks slows them down a little.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rask_graph::{Key, Task, TaskId};
use rask_scheduler::{Callback, ComputeError, RunInfo, TaskEvent};

use crate::error::DiagnosticsError;
use crate::resources::Resources;

/// One task that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// The task's key.
    pub key: Key,
    /// The task's id in the plan.
    pub id: TaskId,
    /// The function of a call task; `None` for literals, aliases and lists.
    pub function: Option<Arc<str>>,
    /// The worker that ran it (`0..workers`; the thread of the `threads`
    /// executor).
    pub worker: usize,
    /// When it started, after the start of the run.
    pub start: Duration,
    /// When it ended, after the start of the run.
    pub end: Duration,
    /// Whether this task failed (its `end` is when it failed).
    pub failed: bool,
}

impl TaskRecord {
    /// How long the task ran.
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// What a [`Profiler`] measured during one run.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The tasks that ran, by start time.
    pub records: Vec<TaskRecord>,
    /// The executor's name.
    pub executor: String,
    /// Its number of workers.
    pub workers: usize,
    /// How many tasks the plan had.
    pub planned: usize,
    /// From the start to the end of the run.
    pub wall: Duration,
    /// The error that ended the run, if one did.
    pub error: Option<String>,
    /// When the run started (to line up resource samples).
    pub(crate) origin: Option<Instant>,
}

/// The file formats of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFormat {
    /// Chrome trace event JSON (`.json`), for Perfetto and chrome://tracing.
    ChromeTrace,
    /// A self-contained HTML timeline (`.html`, `.htm`).
    Html,
}

impl ProfileFormat {
    /// The format a file name asks for, by its extension; any other is an
    /// error naming the file.
    ///
    /// ```
    /// use std::path::Path;
    /// use rask::diagnostics::ProfileFormat;
    /// assert_eq!(ProfileFormat::from_path(Path::new("p.json")).unwrap(), ProfileFormat::ChromeTrace);
    /// assert_eq!(ProfileFormat::from_path(Path::new("p.HTML")).unwrap(), ProfileFormat::Html);
    /// assert!(ProfileFormat::from_path(Path::new("p.txt")).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<ProfileFormat, DiagnosticsError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => Ok(ProfileFormat::ChromeTrace),
            Some("html" | "htm") => Ok(ProfileFormat::Html),
            _ => Err(DiagnosticsError::Extension {
                path: path.to_path_buf(),
                what: "profile",
                expected: ".json (Chrome trace, for Perfetto) or .html (timeline)",
            }),
        }
    }
}

impl Profile {
    /// Writes the profile (with `resources`, if given) to `path`, as a
    /// Chrome trace or an HTML timeline by the file's extension. An
    /// unknown extension or an unwritable path is an error naming the file.
    ///
    /// ```
    /// use rask::graph;
    /// use rask::{get_with, Sync};
    /// use rask::diagnostics::{DiagnosticsError, Profiler};
    /// let g = graph! { "x" => 1 };
    /// let p = Profiler::new();
    /// get_with(&Sync, &g, "x", &[&p]).unwrap();
    /// let dir = tempfile::tempdir().unwrap();
    /// p.profile().write(&dir.path().join("trace.json"), None).unwrap();
    /// let e = p.profile().write(&dir.path().join("trace.txt"), None).unwrap_err();
    /// assert!(matches!(e, DiagnosticsError::Extension { .. }));
    /// assert!(e.to_string().contains("trace.txt"));
    /// ```
    pub fn write(
        &self,
        path: &Path,
        resources: Option<&Resources>,
    ) -> Result<(), DiagnosticsError> {
        let text = match ProfileFormat::from_path(path)? {
            ProfileFormat::ChromeTrace => crate::trace::chrome_trace(self, resources).to_string(),
            ProfileFormat::Html => {
                let title = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "rask profile".into());
                crate::timeline::html(self, resources, &title)
            }
        };
        std::fs::write(path, text).map_err(|e| DiagnosticsError::write(path, e))
    }

    /// Seconds from the start of this run to `t` (negative before it).
    pub(crate) fn seconds_at(&self, t: Instant) -> f64 {
        match self.origin {
            Some(o) if t >= o => t.duration_since(o).as_secs_f64(),
            Some(o) => -o.duration_since(t).as_secs_f64(),
            None => 0.0,
        }
    }
}

/// A [`Callback`] that records every task's start, end and worker.
#[derive(Debug, Default)]
pub struct Profiler {
    run: RwLock<Option<Run>>,
}

#[derive(Debug)]
struct Run {
    origin: Instant,
    executor: String,
    workers: usize,
    planned: usize,
    /// The function-name index of each plan task (`u32::MAX`: no call).
    function_of: Vec<u32>,
    functions: Vec<Arc<str>>,
    /// One list per worker, so that workers do not wait on each other.
    shards: Vec<Mutex<Shard>>,
    wall: Option<Duration>,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct Shard {
    done: Vec<Raw>,
    running: Option<Raw>,
}

#[derive(Debug, Clone)]
struct Raw {
    id: TaskId,
    key: Key,
    worker: usize,
    start: Duration,
    end: Duration,
    failed: bool,
}

const NO_FUNCTION: u32 = u32::MAX;

impl Profiler {
    /// A profiler with nothing recorded.
    pub fn new() -> Profiler {
        Profiler::default()
    }

    /// What the last run (or the one going on) recorded.
    pub fn profile(&self) -> Profile {
        let guard = self.run.read().unwrap_or_else(|e| e.into_inner());
        let Some(run) = guard.as_ref() else {
            return Profile::default();
        };
        let mut records: Vec<TaskRecord> = Vec::new();
        for shard in &run.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            records.extend(shard.done.iter().map(|r| {
                TaskRecord {
                    key: r.key.clone(),
                    id: r.id,
                    function: run
                        .function_of
                        .get(r.id as usize)
                        .and_then(|&f| run.functions.get(f as usize))
                        .cloned(),
                    worker: r.worker,
                    start: r.start,
                    end: r.end,
                    failed: r.failed,
                }
            }));
        }
        records.sort_by_key(|r| (r.start, r.worker));
        Profile {
            records,
            executor: run.executor.clone(),
            workers: run.workers,
            planned: run.planned,
            wall: run.wall.unwrap_or_else(|| run.origin.elapsed()),
            error: run.error.clone(),
            origin: Some(run.origin),
        }
    }

    fn with_shard(&self, worker: usize, f: impl FnOnce(&Run, &mut Shard)) {
        let guard = self.run.read().unwrap_or_else(|e| e.into_inner());
        if let Some(run) = guard.as_ref() {
            if let Some(shard) = run.shards.get(worker % run.shards.len().max(1)) {
                f(run, &mut shard.lock().unwrap_or_else(|e| e.into_inner()));
            }
        }
    }
}

impl Profiler {
    /// Records a task that ended, successfully or not.
    fn record_end(&self, ev: &TaskEvent<'_>, failed: bool) {
        self.with_shard(ev.worker, |run, shard| {
            shard.running = None;
            shard.done.push(Raw {
                id: ev.id,
                key: ev.key.clone(),
                worker: ev.worker,
                start: ev.start.saturating_duration_since(run.origin),
                end: ev.end.saturating_duration_since(run.origin),
                failed,
            });
        });
    }
}

impl Callback for Profiler {
    fn start(&self, info: &RunInfo<'_>) {
        let mut functions: Vec<Arc<str>> = Vec::new();
        let mut function_of = Vec::with_capacity(info.plan.len());
        for id in 0..info.plan.len() as TaskId {
            let f = match info.graph.task(info.plan.graph_id(id)) {
                Task::Call(f, _) => {
                    let name = f.name();
                    // few distinct functions: a linear search is fastest
                    match functions.iter().position(|n| &**n == name) {
                        Some(i) => i as u32,
                        None => {
                            functions.push(Arc::from(name));
                            (functions.len() - 1) as u32
                        }
                    }
                }
                _ => NO_FUNCTION,
            };
            function_of.push(f);
        }
        let workers = info.workers.max(1);
        let run = Run {
            // time 0 is the end of this setup, not its start
            origin: Instant::now(),
            executor: info.executor.to_string(),
            workers,
            planned: info.plan.len(),
            function_of,
            functions,
            shards: (0..workers).map(|_| Mutex::new(Shard::default())).collect(),
            wall: None,
            error: None,
        };
        *self.run.write().unwrap_or_else(|e| e.into_inner()) = Some(run);
    }

    fn task_started(&self, ev: &TaskEvent<'_>) {
        self.with_shard(ev.worker, |run, shard| {
            let start = ev.start.saturating_duration_since(run.origin);
            shard.running = Some(Raw {
                id: ev.id,
                key: ev.key.clone(),
                worker: ev.worker,
                start,
                end: start,
                failed: false,
            });
        });
    }

    fn task_finished(&self, ev: &TaskEvent<'_>) {
        self.record_end(ev, false);
    }

    fn task_failed(&self, ev: &TaskEvent<'_>) {
        self.record_end(ev, true);
    }

    fn finish(&self, error: Option<&ComputeError>) {
        let mut guard = self.run.write().unwrap_or_else(|e| e.into_inner());
        let Some(run) = guard.as_mut() else {
            return;
        };
        let wall = run.origin.elapsed();
        run.wall = Some(wall);
        run.error = error.map(|e| e.to_string());
        let failed_key = error.and_then(ComputeError::key);
        for shard in &run.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            // a task that started and was never reported as finished or
            // failed (an executor that lost it, such as a dead worker) is
            // recorded with no length
            if let Some(mut raw) = shard.running.take() {
                if failed_key == Some(&raw.key) {
                    raw.failed = true;
                    shard.done.push(raw);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
