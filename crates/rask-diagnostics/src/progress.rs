//! A progress bar for a computation: tasks done of total, rate, elapsed
//! time and ETA.
//!
//! On a terminal it is an [`indicatif`] bar, redrawn a few times a second
//! by a ticker thread (so that elapsed time and ETA keep moving while long
//! tasks run). Anywhere else (a log file, a pipe, CI) it prints a plain
//! line now and then: each time another tenth of the tasks is done, or
//! when a line is [`every`](ProgressBar::every) interval old (checked as
//! tasks finish), once the run is [`minimum`](ProgressBar::minimum) old;
//! and always a last line: `N/N tasks (100%)` on success, or the key of
//! the task that failed.
//!
//! The count is of finished tasks against the plan's length (every key is
//! a task, as in Dask), kept in atomics because the `threads` executor
//! reports from its workers; it never exceeds the total, and on success it
//! ends at exactly 100%.
//!
//! ```
//! use std::io::Write;
//! use std::sync::{Arc, Mutex};
//! use rask::graph;
//! use rask::{get_with, Threads};
//! use rask::diagnostics::ProgressBar;
//!
//! /// A writer the test can read back.
//! #[derive(Clone, Default)]
//! struct Buffer(Arc<Mutex<Vec<u8>>>);
//! impl Write for Buffer {
//!     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
//!     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! }
//!
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (inc, "y") };
//! let out = Buffer::default();
//! let bar = ProgressBar::to_writer(out.clone());
//! get_with(&Threads::new(2), &g, "z", &[&bar]).unwrap();
//! let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
//! assert!(text.lines().last().unwrap().contains("3/3 tasks (100%)"), "{text}");
//! ```
//!
//! The terminal bar's ticker is a thread: it starts in `start` and is
//! joined in `finish`. Do not run a computation with a progress bar while
//! another thread forks a process pool (see DESIGN's fork hazard).

use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressState, ProgressStyle};
use rask_scheduler::{Callback, ComputeError, RunInfo, TaskEvent};

/// A progress bar [`Callback`]: a terminal bar, or plain lines.
pub struct ProgressBar {
    total: AtomicUsize,
    done: AtomicUsize,
    /// When this bar was made; times below are nanoseconds after it.
    origin: Instant,
    started_ns: AtomicU64,
    output: Output,
}

enum Output {
    /// An indicatif bar on stderr, made anew by every `start`.
    Terminal(Mutex<Option<indicatif::ProgressBar>>),
    /// Plain lines to a writer.
    Plain(Plain),
}

struct Plain {
    out: Mutex<Box<dyn Write + Send>>,
    /// The next tenth of the tasks (1..=9) whose completion prints a line.
    next_tenth: AtomicUsize,
    /// When the last line was printed (ns after `origin`).
    last_line_ns: AtomicU64,
    every: Duration,
    /// No line but the last before the run is this old.
    minimum: Duration,
}

impl fmt::Debug for ProgressBar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressBar")
            .field("done", &self.done.load(Ordering::Relaxed))
            .field("total", &self.total.load(Ordering::Relaxed))
            .field(
                "output",
                &match self.output {
                    Output::Terminal(_) => "terminal",
                    Output::Plain(_) => "plain",
                },
            )
            .finish()
    }
}

impl Default for ProgressBar {
    fn default() -> ProgressBar {
        ProgressBar::new()
    }
}

impl ProgressBar {
    /// A bar on stderr: drawn when stderr is a terminal, plain lines
    /// otherwise.
    pub fn new() -> ProgressBar {
        if std::io::stderr().is_terminal() {
            ProgressBar::with_output(Output::Terminal(Mutex::new(None)))
        } else {
            ProgressBar::to_writer(std::io::stderr())
        }
    }

    /// Plain progress lines written to `out` (a file, a buffer, a pipe).
    pub fn to_writer(out: impl Write + Send + 'static) -> ProgressBar {
        ProgressBar::with_output(Output::Plain(Plain {
            out: Mutex::new(Box::new(out)),
            next_tenth: AtomicUsize::new(1),
            last_line_ns: AtomicU64::new(0),
            every: Duration::from_secs(2),
            minimum: Duration::from_millis(500),
        }))
    }

    fn with_output(output: Output) -> ProgressBar {
        ProgressBar {
            total: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            origin: Instant::now(),
            started_ns: AtomicU64::new(0),
            output,
        }
    }

    /// Plain lines also come when the last one is `interval` old (default
    /// 2 s), not only at each tenth of the tasks.
    ///
    /// ```
    /// use std::time::Duration;
    /// let bar = rask::diagnostics::ProgressBar::to_writer(std::io::sink())
    ///     .every(Duration::from_millis(500));
    /// assert_eq!(bar.done(), 0);
    /// ```
    pub fn every(mut self, interval: Duration) -> ProgressBar {
        if let Output::Plain(p) = &mut self.output {
            p.every = interval;
        }
        self
    }

    /// Plain lines other than the last wait until the run is `minimum`
    /// old (default 0.5 s, as Dask's `minimum`), so a quick run prints one
    /// line.
    ///
    /// ```
    /// use std::time::Duration;
    /// let bar = rask::diagnostics::ProgressBar::to_writer(std::io::sink())
    ///     .minimum(Duration::ZERO);
    /// assert_eq!(bar.total(), 0);
    /// ```
    pub fn minimum(mut self, minimum: Duration) -> ProgressBar {
        if let Output::Plain(p) = &mut self.output {
            p.minimum = minimum;
        }
        self
    }

    /// How many tasks have finished in the current (or last) run; never
    /// more than [`total`](ProgressBar::total).
    pub fn done(&self) -> usize {
        self.done
            .load(Ordering::Relaxed)
            .min(self.total.load(Ordering::Relaxed))
    }

    /// How many tasks the current (or last) run has.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn ns_since_origin(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.origin).as_nanos() as u64
    }

    fn elapsed_at(&self, t: Instant) -> Duration {
        let started = self.started_ns.load(Ordering::Relaxed);
        Duration::from_nanos(self.ns_since_origin(t).saturating_sub(started))
    }

    /// The plain line for `done` tasks at `elapsed`.
    fn line(&self, done: usize, elapsed: Duration) -> String {
        let total = self.total();
        let mut s = format!("[rask] {done}/{total} tasks ({}%)", percent(done, total));
        let secs = elapsed.as_secs_f64();
        if done < total {
            let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
            let _ = write!(
                s,
                " | {} | elapsed {}",
                rate_text(rate),
                duration_text(elapsed)
            );
            if rate > 0.0 {
                let eta = Duration::from_secs_f64((total - done) as f64 / rate);
                let _ = write!(s, " | eta {}", duration_text(eta));
            }
        }
        s
    }

    fn print(&self, plain: &Plain, line: &str) {
        let mut out = plain.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// `done` of `total` in whole percent, rounded down (so 100% means all).
fn percent(done: usize, total: usize) -> usize {
    if total == 0 {
        100
    } else {
        (done.min(total) as u128 * 100 / total as u128) as usize
    }
}

/// `1.5s`, `2m03s`, `1h02m`.
pub(crate) fn duration_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

/// `12 tasks/s`, `3.4k tasks/s`, `1.2M tasks/s`.
fn rate_text(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.1}M tasks/s", rate / 1e6)
    } else if rate >= 1e4 {
        format!("{:.1}k tasks/s", rate / 1e3)
    } else if rate >= 10.0 {
        format!("{rate:.0} tasks/s")
    } else {
        format!("{rate:.2} tasks/s")
    }
}

/// The terminal bar's style: `running` with rate and ETA, else the
/// finished one, with the message (`in 1.2s`, `failed at task "k"`).
fn terminal_style(running: bool) -> ProgressStyle {
    let template = if running {
        "{elapsed_precise} {wide_bar:.cyan/blue} {pos}/{len} tasks ({percent}%) {rate} eta {eta}"
    } else {
        "{elapsed_precise} {wide_bar:.cyan/blue} {pos}/{len} tasks ({percent}%) {msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |s: &ProgressState, w: &mut dyn fmt::Write| {
            let _ = w.write_str(&rate_text(s.per_sec()));
        })
        .progress_chars("=> ")
}

fn terminal_bar(total: usize) -> indicatif::ProgressBar {
    let style = terminal_style(true);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        ProgressDrawTarget::stderr_with_hz(10),
    )
    .with_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

impl Callback for ProgressBar {
    fn start(&self, info: &RunInfo<'_>) {
        let total = info.plan.len();
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        let now = self.ns_since_origin(Instant::now());
        self.started_ns.store(now, Ordering::Relaxed);
        match &self.output {
            Output::Terminal(slot) => {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(old) = slot.take() {
                    old.disable_steady_tick();
                }
                *slot = Some(terminal_bar(total));
            }
            Output::Plain(p) => {
                p.next_tenth.store(1, Ordering::Relaxed);
                p.last_line_ns.store(now, Ordering::Relaxed);
            }
        }
    }

    fn task_finished(&self, event: &TaskEvent<'_>) {
        let total = self.total.load(Ordering::Relaxed);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if done > total {
            // more reports than tasks (an executor that retries): the bar
            // stays at 100% until `finish` says how it ended
            return;
        }
        match &self.output {
            Output::Terminal(slot) => {
                if let Some(bar) = &*slot.lock().unwrap_or_else(|e| e.into_inner()) {
                    bar.inc(1);
                }
            }
            Output::Plain(p) => {
                if done == total {
                    return; // `finish` prints the last line
                }
                let now = self.ns_since_origin(event.end);
                let started = self.started_ns.load(Ordering::Relaxed);
                if now.saturating_sub(started) < p.minimum.as_nanos() as u64 {
                    return;
                }
                let tenth = done * 10 / total.max(1);
                let next = p.next_tenth.load(Ordering::Relaxed);
                let by_count = tenth >= next
                    && p.next_tenth
                        .compare_exchange(next, tenth + 1, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok();
                let last = p.last_line_ns.load(Ordering::Relaxed);
                let by_time = !by_count
                    && now.saturating_sub(last) >= p.every.as_nanos() as u64
                    && p.last_line_ns
                        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok();
                if by_count || by_time {
                    p.last_line_ns.store(now, Ordering::Relaxed);
                    let mut out = p.out.lock().unwrap_or_else(|e| e.into_inner());
                    // counted under the writer's lock, so lines never go back
                    let done = self.done.load(Ordering::Relaxed);
                    if done < total {
                        let line = self.line(done, self.elapsed_at(Instant::now()));
                        // progress output is best effort: a closed pipe must
                        // not fail the run
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                    }
                }
            }
        }
    }

    fn finish(&self, error: Option<&ComputeError>) {
        let total = self.total();
        if error.is_none() {
            // success means every task ran, whatever was reported
            self.done.store(total, Ordering::Relaxed);
        }
        let done = self.done();
        let elapsed = self.elapsed_at(Instant::now());
        let failure = error.map(|e| match e.key() {
            Some(key) => format!("failed at task {key:?}"),
            None => format!("failed: {e}"),
        });
        match &self.output {
            Output::Terminal(slot) => {
                let bar = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(bar) = bar {
                    bar.set_style(terminal_style(false));
                    bar.set_position(done as u64);
                    match failure {
                        None => bar.finish_with_message(format!("in {}", duration_text(elapsed))),
                        Some(f) => bar.abandon_with_message(f),
                    }
                    bar.disable_steady_tick();
                }
            }
            Output::Plain(p) => {
                let summary = format!(
                    "{done}/{total} tasks ({}%) in {}",
                    percent(done, total),
                    duration_text(elapsed)
                );
                let line = match failure {
                    None => format!("[rask] {summary}"),
                    Some(f) => format!("[rask] {f} after {summary}"),
                };
                self.print(p, &line);
            }
        }
    }
}

#[cfg(test)]
mod tests;
