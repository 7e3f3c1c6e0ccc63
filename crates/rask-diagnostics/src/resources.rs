//! The resource monitor: CPU and memory of this process, sampled at a
//! fixed interval while a computation runs.
//!
//! A [`ResourceMonitor`] is a [`Callback`]. Its `start` takes a first
//! sample and starts one sampling thread; its `finish` stops that thread,
//! joins it and takes a last sample, so the thread never outlives the run
//! (and dropping the monitor stops it too). The samples are a table,
//! [`Resources::samples`], and go under the task bars of the HTML
//! timeline.
//!
//! Each sample reads `/proc/PID/stat` (user and system CPU time, the
//! number of threads) and `/proc/PID/status` (resident memory) of this
//! process and of its descendants (found through
//! `/proc/PID/task/TID/children`: the workers of a process pool), and
//! adds them up, as Dask's `ResourceProfiler` does. CPU is the CPU time
//! used since the previous sample over the wall time between them, in
//! percent of one core (two busy cores: 200%); memory is the sum of the
//! resident sets, which counts a page that forked workers share once per
//! process. Where `/proc` does not exist (not Linux) there are no samples.
//!
//! **Fork hazard**: the sampling thread must not run while a process pool
//! forks (only the forking thread survives in the child, see DESIGN). Do
//! not start a monitored computation on another thread while a pool is
//! being forked; a pool forks before its computation's callbacks start.
//!
//! ```
//! use std::time::Duration;
//! use rask::graph;
//! use rask::{get_with, Sync};
//! use rask::diagnostics::ResourceMonitor;
//! let g = graph! { "x" => 1 };
//! let monitor = ResourceMonitor::new(Duration::from_millis(10));
//! get_with(&Sync, &g, "x", &[&monitor]).unwrap();
//! let res = monitor.resources();
//! if cfg!(target_os = "linux") {
//!     assert!(res.samples().len() >= 2); // one at start, one at finish
//!     assert!(res.samples()[0].rss_bytes > 0);
//! }
//! assert!(!monitor.is_sampling());
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rask_scheduler::{Callback, ComputeError, RunInfo};

/// One sample of the process's resources.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When it was taken, after the monitor's start.
    pub time: Duration,
    /// CPU used since the previous sample, in percent of one core.
    pub cpu_percent: f64,
    /// Resident memory (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// The number of threads.
    pub threads: u64,
    /// The number of processes: this one and its descendants.
    pub processes: u64,
}

/// The samples of one run, with the instant they count from.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    origin: Option<Instant>,
    interval: Duration,
    samples: Vec<Sample>,
}

impl Resources {
    /// The samples, oldest first.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The sampling interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the first sample was taken.
    pub(crate) fn origin(&self) -> Option<Instant> {
        self.origin
    }

    /// The samples as a text table: time, CPU, memory, threads.
    ///
    /// ```
    /// let t = rask::diagnostics::Resources::default().table();
    /// assert!(t.starts_with("time_s"));
    /// ```
    pub fn table(&self) -> String {
        let mut s = String::from("time_s  cpu_percent  rss_mb  threads  processes\n");
        for x in &self.samples {
            let _ = writeln!(
                s,
                "{:>6.3}  {:>11.1}  {:>6.1}  {:>7}  {:>9}",
                x.time.as_secs_f64(),
                x.cpu_percent,
                x.rss_bytes as f64 / 1048576.0,
                x.threads,
                x.processes
            );
        }
        s
    }
}

/// A [`Callback`] that samples CPU and memory on its own thread during a
/// run.
#[derive(Debug)]
pub struct ResourceMonitor {
    interval: Duration,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    stop: bool,
    origin: Option<Instant>,
    samples: Vec<Sample>,
    /// When the previous reading was taken, and the CPU time of each
    /// thread then (see [`Tree::cpu_ns`]).
    last: Option<(Instant, HashMap<u64, u64>)>,
}

impl Default for ResourceMonitor {
    /// Samples every 20 ms (reading `/proc` takes some 20 us, so that is
    /// about 0.1% of a core).
    fn default() -> ResourceMonitor {
        ResourceMonitor::new(Duration::from_millis(20))
    }
}

impl ResourceMonitor {
    /// A monitor that samples every `interval` (at least 1 ms).
    pub fn new(interval: Duration) -> ResourceMonitor {
        ResourceMonitor {
            interval: interval.max(Duration::from_millis(1)),
            shared: Arc::default(),
            thread: Mutex::new(None),
        }
    }

    /// The samples of the last run (or of the one going on).
    pub fn resources(&self) -> Resources {
        let state = self.shared.lock();
        Resources {
            origin: state.origin,
            interval: self.interval,
            samples: state.samples.clone(),
        }
    }

    /// The table of samples of the last run, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        self.shared.lock().samples.clone()
    }

    /// Whether the sampling thread runs (only between `start` and
    /// `finish`).
    pub fn is_sampling(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    fn stop(&self) {
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            self.shared.lock().stop = true;
            self.shared.wake.notify_all();
            // the sampler only reads files; a panic there loses samples only
            let _ = handle.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one sample now.
    fn sample(&self) {
        let tree = read_tree();
        let now = Instant::now();
        let mut state = self.lock();
        let readings = tree.processes;
        if readings.is_empty() {
            return;
        }
        let origin = *state.origin.get_or_insert(now);
        let cpu_percent = match &state.last {
            Some((t, before)) if now > *t => {
                // a thread born since the last sample used all its CPU
                // time since then; one that ended took its last slice along
                let used_ns: u64 = tree
                    .cpu_ns
                    .iter()
                    .map(|(k, &ns)| ns.saturating_sub(before.get(k).copied().unwrap_or(0)))
                    .sum();
                100.0 * used_ns as f64 / now.duration_since(*t).as_nanos() as f64
            }
            _ => 0.0,
        };
        state.last = Some((now, tree.cpu_ns));
        state.samples.push(Sample {
            time: now.saturating_duration_since(origin),
            cpu_percent,
            rss_bytes: readings.iter().map(|r| r.rss_bytes).sum(),
            threads: readings.iter().map(|r| r.threads).sum(),
            processes: readings.len() as u64,
        });
    }
}

impl Callback for ResourceMonitor {
    fn start(&self, _info: &RunInfo<'_>) {
        self.stop();
        {
            let mut state = self.shared.lock();
            *state = State {
                origin: Some(Instant::now()),
                ..State::default()
            };
        }
        self.shared.sample();
        let shared = Arc::clone(&self.shared);
        let interval = self.interval;
        let spawned = std::thread::Builder::new()
            .name("rask-resources".into())
            .spawn(move || {
                let mut next = Instant::now() + interval;
                loop {
                    let mut state = shared.lock();
                    loop {
                        if state.stop {
                            return;
                        }
                        let now = Instant::now();
                        if now >= next {
                            break;
                        }
                        state = shared
                            .wake
                            .wait_timeout(state, next - now)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                    drop(state);
                    shared.sample();
                    next += interval;
                    let now = Instant::now();
                    if next < now {
                        // fell behind (a slow machine): skip missed ticks
                        next = now + interval;
                    }
                }
            });
        // without a thread there are just the first and last samples
        if let Ok(handle) = spawned {
            *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        }
    }

    fn finish(&self, _error: Option<&ComputeError>) {
        self.stop();
        self.shared.sample();
    }
}

impl Drop for ResourceMonitor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One process's reading.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// (read by the tests)
    #[cfg_attr(not(test), allow(dead_code))]
    pid: u32,
    rss_bytes: u64,
    threads: u64,
}

/// What one sample reads: each process, and the CPU time so far of each
/// thread (keyed by thread id) or, where a thread's is not available, of
/// its process (keyed by `FALLBACK | pid`), in nanoseconds.
#[derive(Debug, Default)]
struct Tree {
    processes: Vec<Reading>,
    cpu_ns: HashMap<u64, u64>,
}

/// The key of a whole process's CPU time in [`Tree::cpu_ns`].
const FALLBACK: u64 = 1 << 32;

/// The most descendants read per sample (a fork bomb must not make the
/// monitor the bottleneck).
const MAX_PROCESSES: usize = 1024;

/// This process and its descendants, from `/proc`; empty where this
/// process cannot be read. Processes and threads that end while they are
/// read are left out.
///
/// CPU time comes from each thread's `schedstat` (nanoseconds), else from
/// the process's `stat` (in ticks of 10 ms, too coarse for samples 20 ms
/// apart).
fn read_tree() -> Tree {
    let me = std::process::id();
    let mut tree = Tree::default();
    let mut queue = vec![me];
    while let Some(pid) = queue.pop() {
        let Some((reading, ticks)) = read_process(pid) else {
            if pid == me {
                return Tree::default();
            }
            continue;
        };
        tree.processes.push(reading);
        let mut per_thread: Vec<(u64, u64)> = Vec::new();
        let mut precise = true;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let Some(tid) = task
                    .file_name()
                    .to_str()
                    .and_then(|t| t.parse::<u64>().ok())
                else {
                    continue;
                };
                match std::fs::read_to_string(task.path().join("schedstat")) {
                    Ok(text) => match text.split_whitespace().next().and_then(|n| n.parse().ok()) {
                        Some(ns) => per_thread.push((tid, ns)),
                        None => precise = false,
                    },
                    // a thread gone since the listing is left out; one
                    // still there has no schedstat in this kernel
                    Err(_) => {
                        if task.path().exists() {
                            precise = false;
                        }
                    }
                }
                if tree.processes.len() + queue.len() < MAX_PROCESSES {
                    if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                        queue.extend(
                            children
                                .split_whitespace()
                                .filter_map(|c| c.parse::<u32>().ok()),
                        );
                    }
                }
            }
        }
        if precise && !per_thread.is_empty() {
            tree.cpu_ns.extend(per_thread);
        } else {
            let ns = (ticks as f64 / CLOCK_TICKS_PER_SECOND * 1e9) as u64;
            tree.cpu_ns.insert(FALLBACK | pid as u64, ns);
        }
    }
    tree
}

/// One process's reading, and its CPU time in clock ticks.
fn read_process(pid: u32) -> Option<(Reading, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let (ticks, threads) = parse_stat(&stat)?;
    let reading = Reading {
        pid,
        // a zombie has no VmRSS line
        rss_bytes: parse_rss(&status).unwrap_or(0),
        threads,
    };
    Some((reading, ticks))
}

/// (utime + stime in clock ticks, number of threads) from the text of
/// `/proc/PID/stat`. The command name (field 2) is in parentheses and may
/// hold spaces and parentheses, so fields are counted after the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<(u64, u64)> {
    let after = &text[text.rfind(')')? + 1..];
    // after the name: field 3 (state) is index 0
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?; // field 14
    let stime: u64 = fields.get(12)?.parse().ok()?; // field 15
    let threads: u64 = fields.get(17)?.parse().ok()?; // field 20
    Some((utime + stime, threads))
}

/// `VmRSS` in bytes from the text of `/proc/PID/status`.
pub(crate) fn parse_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next() {
        Some("kB") | None => 1024,
        Some("mB") | Some("MB") => 1024 * 1024,
        Some(_) => 1,
    };
    Some(n * unit)
}

/// The unit of CPU times in `/proc/PID/stat`: Linux's `USER_HZ`, which
/// is 100 on every architecture (x86, ARM, RISC-V, POWER) whatever the
/// kernel's own tick rate.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

#[cfg(test)]
mod tests;
