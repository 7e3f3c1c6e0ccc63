//! What `rask run` does so that every program its tasks start ends with the
//! run: it is a child subreaper (see [`rask::reaper`]) for the whole run,
//! so that programs that `setsid` or fork twice stay its descendants; where
//! a cgroup v2 hierarchy is writable, the run also gets a cgroup of its own
//! ([`RunCgroup`]), which holds every process the run starts wherever it
//! goes in the tree; a thread of its own waits for `SIGINT`, `SIGTERM` and
//! `SIGHUP`; and at the end of the run — success, failure, `--timeout`, or
//! one of those signals — every descendant still alive is sent `SIGTERM`,
//! given [`GRACE`], then `SIGKILL`ed and reaped, and then whatever is left
//! in the run's cgroup is killed (`cgroup.kill`) and the cgroup removed.
//!
//! After a signal, rask ends as that signal ends a program (a shell reports
//! 130 for `SIGINT`, 143 for `SIGTERM`), as it did before it caught them.
//!
//! The signals are blocked in every thread but the one that waits for them
//! (the mask is set before any thread starts, and threads inherit it); the
//! programs `shell` starts get an empty mask (the standard library resets
//! it), and the workers of `--scheduler processes` unblock every signal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rask::reaper::{self, RunCgroup};

/// How long the programs left at the end of a run get to end after
/// `SIGTERM` before they are killed.
pub(crate) const GRACE: Duration = Duration::from_millis(200);

/// Set when a signal came: the run's end is then the signal thread's.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The run's cgroup, where one could be made; taken by whoever ends it.
static CGROUP: Mutex<Option<RunCgroup>> = Mutex::new(None);

/// How long the processes left in the run's cgroup get to go once killed.
const CGROUP_WAIT: Duration = Duration::from_secs(2);

/// Held by whoever ends the process: the signal thread while it ends the
/// programs, or the main thread from the moment it is done, so that
/// neither cuts the other's sweep short.
static ENDING: Mutex<()> = Mutex::new(());

/// Called by the main thread when it is about to exit: waits for a sweep
/// of the signal thread to end the process, or keeps it from starting one
/// (the run's programs are already ended).
pub(crate) fn finish() {
    let held = ENDING.lock().unwrap_or_else(|e| e.into_inner());
    std::mem::forget(held);
}

/// Waits for the end of the process when a signal came: the signal thread
/// is ending the programs and then the process, and the run's own outcome
/// (tasks failed because their programs were killed) is not to be told.
pub(crate) fn wait_if_interrupted() {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::park_timeout(Duration::from_secs(1));
    }
}

/// Makes this process a subreaper and starts the thread that waits for
/// signals. Called before any other thread starts (so that they inherit the
/// blocked signals). Where the subreaper cannot be had (not Linux),
/// programs that leave the process tree are not followed.
pub(crate) fn start() {
    if let Err(e) = reaper::set_subreaper() {
        if e.kind() != std::io::ErrorKind::Unsupported {
            eprintln!(
                "rask: warning: cannot become a subreaper ({e}): programs that tasks start \
                 with setsid may outlive the run"
            );
        }
    }
    // (where the hierarchy is missing or read-only, as in most
    // containers, the subreaper alone does the work: nothing to say)
    if let Ok(cgroup) = RunCgroup::enter() {
        *CGROUP.lock().unwrap_or_else(|e| e.into_inner()) = Some(cgroup);
    }
    #[cfg(unix)]
    watch_signals();
}

/// Ends every program the run left behind (after the executor is done:
/// it reaps any child that ended): the descendants, gently, then what is
/// left in the run's cgroup; this process leaves the cgroup, which is
/// removed.
pub(crate) fn end_programs() {
    reaper::end_descendants(GRACE);
    let cgroup = CGROUP.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(cgroup) = cgroup {
        if let Err(e) = cgroup.end(CGROUP_WAIT) {
            eprintln!("rask: warning: the run's cgroup: {e}");
        }
        reaper::reap_ended();
    }
}

#[cfg(unix)]
fn watch_signals() {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).is_err() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("rask-signals".into())
        .spawn(move || {
            let Ok(signal) = set.wait() else { return };
            INTERRUPTED.store(true, Ordering::SeqCst);
            // (blocks for good when the main thread is exiting already)
            let held = ENDING.lock().unwrap_or_else(|e| e.into_inner());
            end_programs();
            std::mem::forget(held);
            die_of(signal);
        });
    if spawned.is_err() {
        // no thread: the signals end rask as they did, unblocked again
        let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    }
}

/// Ends the process as `signal` ends a program that does not catch it, so
/// that the shell sees the usual status; `exit(128 + n)` if that fails.
#[cfg(unix)]
fn die_of(signal: nix::sys::signal::Signal) -> ! {
    use nix::sys::signal::{SigHandler, SigSet, SigmaskHow};
    // SAFETY: restoring the default disposition installs no handler.
    let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
    let mut only = SigSet::empty();
    only.add(signal);
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&only), None);
    let _ = nix::sys::signal::raise(signal);
    std::process::exit(128 + signal as i32)
}
