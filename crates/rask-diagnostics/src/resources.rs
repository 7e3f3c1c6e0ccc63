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
//! Each sample reads `/proc/self/stat` (user and system CPU time, the
//! number of threads) and `/proc/self/status` (resident memory). CPU is
//! the CPU time used since the previous sample over the wall time between
//! them, in percent of one core (two busy cores: 200%). Where `/proc` does
//! not exist (not Linux) there are no samples.
//!
//! **Fork hazard**: the sampling thread must not run while a process pool
//! forks (only the forking thread survives in the child, see DESIGN). Do
//! not start a monitored computation on another thread while a pool is
//! being forked; a pool forks before its computation's callbacks start.
//!
//! ```
//! use std::time::Duration;
//! use rask_graph::graph;
//! use rask_scheduler::{get_with, Sync};
//! use rask_diagnostics::ResourceMonitor;
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
    /// The process's number of threads.
    pub threads: u64,
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
    /// let t = rask_diagnostics::Resources::default().table();
    /// assert!(t.starts_with("time_s"));
    /// ```
    pub fn table(&self) -> String {
        let mut s = String::from("time_s  cpu_percent  rss_mb  threads\n");
        for x in &self.samples {
            let _ = writeln!(
                s,
                "{:>6.3}  {:>11.1}  {:>6.1}  {:>7}",
                x.time.as_secs_f64(),
                x.cpu_percent,
                x.rss_bytes as f64 / 1048576.0,
                x.threads
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
    /// The previous reading: (when, CPU seconds).
    last: Option<(Instant, f64)>,
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
        let reading = read_proc();
        let now = Instant::now();
        let mut state = self.lock();
        let Some((cpu_s, rss_bytes, threads)) = reading else {
            return;
        };
        let origin = *state.origin.get_or_insert(now);
        let cpu_percent = match state.last {
            Some((t, c)) if now > t => {
                100.0 * (cpu_s - c).max(0.0) / now.duration_since(t).as_secs_f64()
            }
            _ => 0.0,
        };
        state.last = Some((now, cpu_s));
        state.samples.push(Sample {
            time: now.saturating_duration_since(origin),
            cpu_percent,
            rss_bytes,
            threads,
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

/// (CPU seconds used, resident bytes, threads) of this process, from
/// `/proc`; `None` where it cannot be read.
fn read_proc() -> Option<(f64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let (ticks, threads) = parse_stat(&stat)?;
    let rss = parse_rss(&status)?;
    Some((ticks as f64 / clock_ticks_per_second(), rss, threads))
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
fn clock_ticks_per_second() -> f64 {
    100.0
}

#[cfg(test)]
mod tests;
