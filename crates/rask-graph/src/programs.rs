//! The programs a run's `shell` tasks started, so that the run can end
//! them: each program leads a process group of its own, and the groups are
//! recorded in the [`Programs`] of the run the task belongs to (the
//! executor makes it current on the threads that run the tasks), so that
//! the executor can end them when the run is cancelled, fails or is over —
//! the programs still running, and what they left behind in their group
//! (`sleep 300 &`). A program that leaves its group (`setsid`) is out of
//! reach here: that is what a subreaper is for (`rask::reaper`).
//!
//! Also the process table of `/proc` (Linux) that the sweeps read.
//!
//! ```
//! use rask::programs::Programs;
//! use rask::{Registry, Value};
//! let shell = Registry::with_builtins().get("shell").cloned().unwrap();
//! let programs = Programs::new();
//! let out = programs.scope(|| {
//!     shell.call(&[Value::from("sh"), Value::from("-c"), Value::from("sleep 30 >/dev/null 2>&1 & echo hi")])
//! });
//! # #[cfg(target_os = "linux")] {
//! assert_eq!(out.unwrap(), Value::from("hi\n"));
//! assert_eq!(programs.groups().len(), 1);
//! // the `sleep` left in the background ends with the run
//! assert_eq!(programs.end(std::time::Duration::from_millis(100)), 1);
//! # }
//! ```

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the executors give a run's programs to end after `SIGTERM`,
/// before `SIGKILL`.
pub const GRACE: Duration = Duration::from_millis(200);

/// The process groups of the programs one run's `shell` tasks started.
#[derive(Debug, Default)]
pub struct Programs {
    record: Mutex<Record>,
}

#[derive(Debug, Default)]
struct Record {
    groups: Vec<u32>,
    /// Set by [`Programs::end`]: a program started after it (by a task
    /// that was starting it meanwhile) is ended at once.
    ended: bool,
}

thread_local! {
    /// The run whose tasks this thread is running now.
    static CURRENT: RefCell<Option<Arc<Programs>>> = const { RefCell::new(None) };
}

/// Puts the thread's previous run back when dropped (also on a panic).
struct Restore(Option<Arc<Programs>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

impl Programs {
    /// A new, empty record, for one run.
    pub fn new() -> Arc<Programs> {
        Arc::default()
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with this record as the current thread's: the programs
    /// `shell` starts in `f` are recorded here.
    pub fn scope<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        let _restore = Restore(previous);
        f()
    }

    /// The process groups recorded.
    pub fn groups(&self) -> Vec<u32> {
        self.lock().groups.clone()
    }

    /// Ends the recorded process groups that still have living members:
    /// `SIGTERM`, up to `grace` for them to go, then `SIGKILL`. Only
    /// members in this process's session are counted (so a group id that
    /// was freed and taken again elsewhere is left alone). Returns how many
    /// groups had members. Nothing on systems without `/proc`. A program
    /// that a task of the run starts later is sent `SIGTERM` at once.
    pub fn end(&self, grace: Duration) -> usize {
        let groups = {
            let mut record = self.lock();
            record.ended = true;
            record.groups.clone()
        };
        if groups.is_empty() {
            return 0;
        }
        let living = || -> Vec<u32> {
            let session = own_session();
            let table = process_table();
            groups
                .iter()
                .copied()
                .filter(|&g| {
                    table
                        .iter()
                        .any(|p| p.pgrp == g && p.session == session && !p.zombie)
                })
                .collect()
        };
        let first = living();
        for &g in &first {
            signal_group(g, Signal::Term);
        }
        let deadline = Instant::now() + grace;
        let mut left = first.clone();
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
            left = living();
        }
        for &g in &left {
            signal_group(g, Signal::Kill);
        }
        first.len()
    }
}

/// Records (in the current thread's run, if any) the process group of a
/// program `shell` started.
pub(crate) fn started(group: u32) {
    CURRENT.with(|c| {
        if let Some(programs) = c.borrow().as_ref() {
            let mut record = programs.lock();
            record.groups.push(group);
            if record.ended {
                signal_group(group, Signal::Term);
            }
        }
    });
}

/// One line of the process table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its process id.
    pub pid: u32,
    /// Its parent's.
    pub ppid: u32,
    /// Its process group.
    pub pgrp: u32,
    /// Its session.
    pub session: u32,
    /// Whether it has ended and waits to be reaped.
    pub zombie: bool,
}

/// Every process of `/proc` (empty where there is none to read). A process
/// that ends while the table is read may be missing.
pub fn process_table() -> Vec<ProcessInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            parse_stat(pid, &stat)
        })
        .collect()
}

/// A `/proc/PID/stat` line. The command name is in parentheses and may
/// hold anything, spaces and `)` included, so the fields are counted from
/// the last `)`.
fn parse_stat(pid: u32, stat: &str) -> Option<ProcessInfo> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let mut number = || fields.next()?.parse::<u32>().ok();
    Some(ProcessInfo {
        pid,
        ppid: number()?,
        pgrp: number()?,
        session: number()?,
        zombie: state == "Z" || state == "X",
    })
}

enum Signal {
    Term,
    Kill,
}

#[cfg(unix)]
fn signal_group(group: u32, signal: Signal) {
    let sig = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    if let Ok(group) = libc::pid_t::try_from(group) {
        // SAFETY: killpg only sends a signal to a process group that a
        // `shell` task of this run started; no memory is shared.
        unsafe {
            libc::killpg(group, sig);
        }
    }
}

#[cfg(not(unix))]
fn signal_group(_: u32, _: Signal) {}

#[cfg(unix)]
fn own_session() -> u32 {
    // SAFETY: getsid(0) only reads this process's session id.
    let sid = unsafe { libc::getsid(0) };
    u32::try_from(sid).unwrap_or(0)
}

#[cfg(not(unix))]
fn own_session() -> u32 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let p = parse_stat(12, "12 (a) b) (c) S 7 12 5 0").unwrap();
        assert_eq!((p.ppid, p.pgrp, p.session, p.zombie), (7, 12, 5, false));
        assert!(parse_stat(12, "12 (sh) Z 1 12 12 0").unwrap().zombie);
        assert_eq!(parse_stat(12, "12 (sh"), None);
        assert_eq!(parse_stat(12, "12 (sh) S x 1 1"), None);
    }

    #[test]
    fn only_the_current_run_records_a_group() {
        // (above Linux's largest process id: no such group can exist)
        let [a, b, c, d] = [4_194_400, 4_194_401, 4_194_402, 4_194_403];
        started(a);
        let outer = Programs::new();
        let inner = Programs::new();
        outer.scope(|| {
            started(b);
            inner.scope(|| started(c));
            started(d);
        });
        assert_eq!(outer.groups(), vec![b, d]);
        assert_eq!(inner.groups(), vec![c]);
        // groups without members are left alone
        assert_eq!(outer.end(Duration::from_millis(1)), 0);
        outer.scope(|| started(a));
        assert_eq!(outer.groups(), vec![b, d, a]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_in_the_table() {
        let me = std::process::id();
        let table = process_table();
        let mine = table.iter().find(|p| p.pid == me).unwrap();
        assert_eq!(mine.session, own_session());
        assert!(!mine.zombie);
    }
}
