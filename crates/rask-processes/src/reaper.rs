//! Ending every program a run started, however it was started: a child
//! subreaper and a sweep of the process tree.
//!
//! A program that a task starts can start others and leave them behind:
//! `sh -c 'sleep 300 &'` returns at once, `setsid` and double forks move a
//! program out of its parent's process group and session, so neither the
//! task's own wait nor a `killpg` finds it. On Linux a process can be a
//! *child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`): an orphan anywhere
//! below it is re-parented to it instead of to `init`, so the whole tree of
//! what it started stays its descendants, and [`end_descendants`] can find
//! (in `/proc`) and end all of them.
//!
//! The flag is process-wide and changes what the program must do with
//! orphans (reap them), so the library does not set it behind a user's
//! back: `rask run` sets it for the whole run, and every worker process of
//! [`Processes`](crate::Processes) sets it for itself (a worker is rask's
//! own process). A program embedding rask that owns its process can do as
//! `rask run` does:
//!
//! ```no_run
//! use std::time::Duration;
//! use rask::reaper;
//! reaper::set_subreaper().expect("Linux only");
//! // ... run graphs whose `shell` tasks start programs ...
//! let ended = reaper::end_descendants(Duration::from_millis(200));
//! println!("ended {ended} leftover program(s)");
//! ```
//!
//! Where a cgroup v2 hierarchy is writable, [`RunCgroup`] holds every
//! process of a run whatever its place in the tree, and ends them at once.
//!
//! Limits: a program that escapes the tree altogether is not found — one
//! that asks another process to start it (a service manager, `at`, an ssh
//! to elsewhere), or one below a subreaper of its own that is not rask's
//! descendant; and a process that forks without end can outrun the sweep
//! (it gives up after [`ROUNDS`] rounds). Where `/proc` or the prctl are
//! missing (not Linux), [`set_subreaper`] fails and the sweeps find
//! nothing.

use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

use rask_graph::programs::process_table;

pub use crate::cgroup::{CgroupError, RunCgroup};

/// How many times a sweep looks for descendants again and kills what it
/// finds, before it gives up on a process that forks faster than it kills.
pub const ROUNDS: usize = 200;

/// Makes this process a child subreaper: orphaned descendants (also those
/// that `setsid` or fork twice) are re-parented to it, not to `init`, so
/// [`end_descendants`] can end them. Linux only; elsewhere an error of
/// kind [`io::ErrorKind::Unsupported`].
pub fn set_subreaper() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a child subreaper needs Linux",
        ))
    }
}

/// Whether this process is a child subreaper (false where that cannot be
/// told).
pub fn is_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::get_child_subreaper().unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// The living descendants of process `root` (zombies, already dead, are
/// left out), parents before their children; empty where `/proc` is not
/// there to read.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<(u32, bool)>> = HashMap::new();
    for p in process_table() {
        children.entry(p.ppid).or_default().push((p.pid, p.zombie));
    }
    // breadth first, with a queue: no recursion on the depth of the tree
    let mut found = Vec::new();
    let mut next = 0;
    let mut queue = vec![root];
    while next < queue.len() {
        let pid = queue[next];
        next += 1;
        for &(child, zombie) in children.get(&pid).map_or(&[][..], Vec::as_slice) {
            queue.push(child);
            if !zombie {
                found.push(child);
            }
        }
    }
    found
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill only sends a signal to a process id found just now
        // as a descendant of this process; no memory is shared.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Reaps every child of this process that has ended, without waiting.
/// Only for moments when nothing else of the program waits for its own
/// children (this would take their exit status).
pub fn reap_ended() -> usize {
    let mut reaped = 0;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on any child, without blocking; `status` is a
        // valid place to write.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return reaped;
        }
        reaped += 1;
    }
}

/// Ends every descendant of this process: `SIGTERM` to each, up to
/// `grace` for them to go, then `SIGKILL` to whatever is left, sweeping
/// again until none is found (up to [`ROUNDS`] times); every child that
/// ended is reaped. Returns how many processes were found at first.
///
/// It reaps *any* ended child: call it when nothing else of the program
/// still waits for children of its own. With [`set_subreaper`], it also
/// finds the programs that left their parents (`setsid`, double forks).
pub fn end_descendants(grace: Duration) -> usize {
    let me = std::process::id();
    let first = descendants(me);
    if first.is_empty() {
        reap_ended();
        return 0;
    }
    for &pid in &first {
        signal(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    loop {
        reap_ended();
        if descendants(me).is_empty() {
            return first.len();
        }
        if Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    kill_descendants(me, &mut reap_ended);
    first.len()
}

/// Sends `SIGKILL` to every descendant of `root` and sweeps again until
/// none is left alive (up to [`ROUNDS`] times), calling `reap` after each
/// round (to reap what is this process's own child). Whatever a killed
/// process leaves is re-parented to the nearest subreaper: when that is
/// `root` (a worker, or this process), the next round finds it.
pub(crate) fn kill_descendants(root: u32, reap: &mut dyn FnMut() -> usize) {
    for _ in 0..ROUNDS {
        let left = descendants(root);
        if left.is_empty() {
            return;
        }
        for &pid in &left {
            signal(pid, libc::SIGKILL);
        }
        reap();
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_grandchild_is_a_descendant_until_it_is_killed() {
        // (only this test's own tree is swept: other tests run alongside)
        let mut sh = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while descendants(sh.id()).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(descendants(sh.id()).len(), 1);
        assert!(descendants(std::process::id()).contains(&sh.id()));
        kill_descendants(sh.id(), &mut || 0);
        // the killed `sleep` is a zombie until `sh` waits for it, and a
        // zombie is not listed; then `sh` ends of itself
        assert!(descendants(sh.id()).is_empty());
        assert!(sh.wait().unwrap().success());
    }
}
