//! The worker process: forked from the scheduler with the graph already in
//! memory, it reads batches of task ids and input values from a pipe, runs
//! the tasks and writes their results back, until the pipe closes.
//!
//! A worker leads its own process group, so the programs its tasks start
//! can be killed with it, and is a child subreaper (see [`crate::reaper`]),
//! so the programs that leave that group (`setsid`, double forks) stay its
//! descendants: the scheduler ends the worker's whole tree when it kills
//! it, and a worker that ends normally (the scheduler closed its pipe)
//! ends its descendants first. It asks the kernel for a `SIGTERM` when the
//! scheduler's process dies (`PR_SET_PDEATHSIG`), and on that signal kills
//! its whole group (only async-signal-safe calls are possible there: what
//! left the group is then the business of the scheduler's process, which
//! `rask run` makes a subreaper too).

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Instant;

use nix::sys::signal::{self, SigHandler, Signal};
use nix::unistd::{getppid, setpgid, Pid};
use rask_graph::{codec, EvalError, Graph, Plan, Value};
use rask_scheduler::{run_task, ComputeError};

use crate::frame::{self, Cursor, Outcome, Span};
use crate::pool::Running;
use crate::reaper;

/// How long the programs a worker leaves behind get to end after
/// `SIGTERM`, when the worker ends normally, before `SIGKILL`.
const GRACE: std::time::Duration = std::time::Duration::from_millis(100);

extern "C" fn kill_group(_: libc::c_int) {
    // SAFETY: killpg and _exit are async-signal-safe.
    unsafe {
        libc::killpg(0, libc::SIGKILL);
        libc::_exit(1);
    }
}

/// Sets the worker up in the child right after `fork`, then serves tasks
/// until the scheduler closes the pipe. Never returns.
pub(crate) fn run_child(
    graph: &Graph,
    plan: &Plan,
    parent: Pid,
    input: OwnedFd,
    output: OwnedFd,
    inherited: &[RawFd],
    running: &Running,
) -> ! {
    for &fd in inherited {
        // SAFETY: these descriptors belong to other workers' pipes, which
        // this process must not hold open; nothing else in the child uses
        // them.
        unsafe {
            libc::close(fd);
        }
    }
    for fd in [input.as_raw_fd(), output.as_raw_fd()] {
        // programs started by tasks must not inherit the pipes, or the
        // scheduler could not see this worker die
        // SAFETY: fcntl on descriptors this process owns.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // orphans below the worker (`setsid`, double forks) come to it
    let _ = reaper::set_subreaper();
    // SAFETY: the handler only calls async-signal-safe functions.
    let _ = unsafe { signal::signal(Signal::SIGTERM, SigHandler::Handler(kill_group)) };
    // the signals a program blocked (`rask run` waits for Ctrl-C on a
    // thread of its own, with them blocked elsewhere) reach the worker
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_SETMASK,
        Some(&signal::SigSet::empty()),
        None,
    );
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    if getppid() != parent {
        // the scheduler died before the death signal was armed
        exit(1);
    }
    let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        serve(graph, plan, File::from(input), File::from(output), running)
    })) {
        Ok(()) => 0,
        Err(_) => 101,
    };
    // the run is over: nothing its tasks started outlives the worker
    reaper::end_descendants(GRACE);
    exit(code)
}

fn exit(code: i32) -> ! {
    // SAFETY: `_exit` ends the forked child without running the parent's
    // atexit handlers or destructors, which belong to the parent.
    unsafe { libc::_exit(code) }
}

fn serve(graph: &Graph, plan: &Plan, mut input: File, mut output: File, running: &Running) {
    let mut frame_in = Vec::new();
    let mut frame_out = Vec::new();
    let mut inputs: Vec<Value> = Vec::new();
    // results of this batch's tasks, for the tasks after them that use them
    let mut earlier: Vec<Value> = Vec::new();
    loop {
        // between batches no task waits for a child of its own: orphans
        // that came to the worker and ended are reaped here
        reaper::reap_ended();
        if !matches!(frame::receive(&mut input, &mut frame_in), Ok(Some(()))) {
            return;
        }
        let received = Instant::now();
        running.set(None);
        earlier.clear();
        frame_out.clear();
        frame_out.extend_from_slice(&0_u32.to_le_bytes());
        let mut written = 0_u32;
        let mut c = Cursor::new(&frame_in);
        let Ok(count) = c.u32() else { return };
        for _ in 0..count {
            let (Ok(id), Ok(n)) = (c.u32(), c.u32()) else {
                return;
            };
            running.set(Some(id));
            inputs.clear();
            let mut bad_input = None;
            for _ in 0..n {
                let Ok(len) = c.u64() else { return };
                if len == frame::EARLIER {
                    let Ok(item) = c.u32() else { return };
                    match earlier.get(item as usize) {
                        Some(v) => inputs.push(v.clone()),
                        None => return,
                    }
                    continue;
                }
                let Ok(len) = usize::try_from(len) else {
                    return;
                };
                match c.take(len).map(codec::from_bytes) {
                    Ok(Ok(v)) => inputs.push(v),
                    Ok(Err(e)) => bad_input = Some(format!("an input does not decode: {e}")),
                    Err(_) => return,
                }
            }
            let start_ns = received.elapsed().as_nanos() as u64;
            let (outcome, value) = match bad_input {
                Some(message) => (Outcome::Codec(message), Value::Null),
                None => outcome(run_task(graph, plan, id, inputs.drain(..))),
            };
            earlier.push(value);
            let span = Span {
                start_ns,
                end_ns: received.elapsed().as_nanos() as u64,
            };
            frame::push_outcome(&mut frame_out, id, span, &outcome);
            written += 1;
            if !matches!(outcome, Outcome::Value(_)) {
                break;
            }
        }
        frame_out[..4].copy_from_slice(&written.to_le_bytes());
        if frame::send(&mut output, &frame_out).is_err() {
            return;
        }
    }
}

/// The outcome to send back, and the value for later tasks of the batch.
fn outcome(result: Result<Value, ComputeError>) -> (Outcome, Value) {
    let outcome = match result {
        Ok(v) => {
            let o = match codec::to_bytes(&v) {
                Ok(bytes) => Outcome::Value(bytes),
                Err(e) => Outcome::Codec(format!("its value cannot leave the worker process: {e}")),
            };
            return (o, v);
        }
        Err(ComputeError::Task {
            error: EvalError::Call { function, error },
            ..
        }) => Outcome::Failed {
            function,
            message: error.to_string(),
        },
        Err(ComputeError::Panic { message, .. }) => Outcome::Panicked(message),
        Err(other) => Outcome::Failed {
            function: String::new(),
            message: other.to_string(),
        },
    };
    (outcome, Value::Null)
}
