//! The scheduler's side of the process pool: forking workers, handing
//! them batches of ready tasks, reading results, noticing deaths, and
//! making sure no process outlives the pool.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getpid, pipe, setpgid, ForkResult, Pid};
use rask_graph::{Graph, Plan, TaskId};

use crate::frame;
use crate::reaper;
use crate::worker;

/// One worker process, as the scheduler sees it.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) pid: Pid,
    pub(crate) to: File,
    pub(crate) from: File,
    /// The tasks it is running (empty: idle).
    pub(crate) batch: Vec<TaskId>,
    pub(crate) sent: Instant,
    /// Which task of its batch it is running, written by the worker.
    pub(crate) running: Running,
}

/// A word of memory shared with one worker process (mapped before the
/// fork): the id of the task the worker is running, plus one (0: none
/// yet). When the worker dies, it tells which task it was running, with
/// no message per task on the pipe.
#[derive(Debug)]
pub(crate) struct Running {
    word: std::ptr::NonNull<AtomicU32>,
}

// SAFETY: the mapping is owned by this value and only accessed atomically.
unsafe impl Send for Running {}
// SAFETY: as above: every access is an atomic operation.
unsafe impl Sync for Running {}

impl Running {
    fn new() -> io::Result<Running> {
        // SAFETY: a fresh anonymous shared mapping of one page; it is
        // unmapped in `drop` and nothing else frees it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<AtomicU32>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let word = std::ptr::NonNull::new(ptr.cast::<AtomicU32>())
            .ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Running { word })
    }

    fn word(&self) -> &AtomicU32 {
        // SAFETY: the mapping is page aligned, zero filled (a valid
        // `AtomicU32`) and lives as long as `self`.
        unsafe { self.word.as_ref() }
    }

    /// Records (in the worker) that task `id` starts; `None`: a new batch.
    pub(crate) fn set(&self, id: Option<TaskId>) {
        self.word()
            .store(id.map_or(0, |id| id.wrapping_add(1)), Ordering::SeqCst);
    }

    /// The task the worker said it started last in this batch.
    pub(crate) fn get(&self) -> Option<TaskId> {
        self.word().load(Ordering::SeqCst).checked_sub(1)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.word.as_ptr().cast(), std::mem::size_of::<AtomicU32>());
        }
    }
}

/// The worker processes of one computation.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) workers: Vec<Worker>,
    /// Identity of the graph and plan the workers were forked with.
    pub(crate) made_for: (usize, usize),
}

pub(crate) fn identity(graph: &Graph, plan: &Plan) -> (usize, usize) {
    (graph as *const Graph as usize, plan as *const Plan as usize)
}

impl Pool {
    /// Forks `n` workers holding `graph` and `plan`.
    pub(crate) fn start(graph: &Graph, plan: &Plan, n: usize) -> io::Result<Pool> {
        let mut pool = Pool {
            workers: Vec::with_capacity(n),
            made_for: identity(graph, plan),
        };
        for _ in 0..n {
            let w = pool.fork_worker(graph, plan)?;
            pool.workers.push(w);
        }
        Ok(pool)
    }

    /// The descriptors of every worker's pipes, which a new child closes.
    fn inherited(&self) -> Vec<RawFd> {
        self.workers
            .iter()
            .flat_map(|w| [w.to.as_raw_fd(), w.from.as_raw_fd()])
            .collect()
    }

    /// Forks one worker.
    pub(crate) fn fork_worker(&self, graph: &Graph, plan: &Plan) -> io::Result<Worker> {
        let (child_in, parent_out) = pipe()?;
        let (parent_in, child_out) = pipe()?;
        let inherited = self.inherited();
        let running = Running::new()?;
        let parent = getpid();
        // SAFETY: the child only runs the worker loop (task code and
        // encoding) and then `_exit`s; DESIGN.md and the crate docs say
        // what other threads of the program must not hold at this point.
        match unsafe { fork() }? {
            ForkResult::Child => {
                drop(parent_out);
                drop(parent_in);
                worker::run_child(
                    graph, plan, parent, child_in, child_out, &inherited, &running,
                )
            }
            ForkResult::Parent { child } => {
                // also from here, so the group exists before any kill
                let _ = setpgid(child, child);
                drop(child_in);
                drop(child_out);
                Ok(Worker {
                    pid: child,
                    to: File::from(parent_out),
                    from: File::from(parent_in),
                    batch: Vec::new(),
                    sent: Instant::now(),
                    running,
                })
            }
        }
    }

    /// Waits up to `timeout` for results: the indexes of busy workers with
    /// something to read (or whose pipe closed).
    pub(crate) fn wait(&self, timeout: Duration) -> io::Result<Vec<usize>> {
        let busy: Vec<usize> = (0..self.workers.len())
            .filter(|&i| !self.workers[i].batch.is_empty())
            .collect();
        let mut fds: Vec<PollFd<'_>> = busy
            .iter()
            .map(|&i| PollFd::new(self.workers[i].from.as_fd(), PollFlags::POLLIN))
            .collect();
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        }
        Ok(busy
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(&i, _)| i)
            .collect())
    }

    /// Sends worker `i` its batch.
    pub(crate) fn send(&mut self, i: usize, bytes: &[u8]) -> io::Result<()> {
        let w = &mut self.workers[i];
        w.sent = Instant::now();
        frame::send(&mut w.to, bytes)
    }

    /// Whether worker `i` has exited, and how (without waiting).
    pub(crate) fn exited(&self, i: usize) -> Option<String> {
        match waitpid(self.workers[i].pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => None,
            Ok(status) => Some(describe(status)),
            Err(e) => Some(format!("cannot be waited for: {e}")),
        }
    }

    /// Ends worker `i` for good: kills its process group and reaps it;
    /// returns how it ended.
    pub(crate) fn reap(&self, i: usize) -> String {
        let pid = self.workers[i].pid;
        let deadline = Instant::now() + Duration::from_millis(200);
        loop {
            match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(WaitStatus::StillAlive) => {
                    end_tree(pid);
                    let status = waitpid(pid, None);
                    return status.map_or_else(|e| e.to_string(), describe);
                }
                Ok(status) => {
                    // programs its tasks started may still run in its group
                    let _ = killpg(pid, Signal::SIGKILL);
                    return describe(status);
                }
                Err(e) => return format!("cannot be waited for: {e}"),
            }
        }
    }

    /// Kills worker `i` now, with every program its tasks started.
    pub(crate) fn kill(&self, i: usize) {
        end_tree(self.workers[i].pid);
    }
}

impl Drop for Pool {
    /// Closes every pipe (idle workers exit on their own), then reaps every
    /// worker, killing what is left of its process group.
    fn drop(&mut self) {
        for w in &self.workers {
            if !w.batch.is_empty() {
                end_tree(w.pid);
            }
        }
        let workers = std::mem::take(&mut self.workers);
        let pids: Vec<Pid> = workers.iter().map(|w| w.pid).collect();
        drop(workers);
        for pid in pids {
            let deadline = Instant::now() + Duration::from_millis(500);
            loop {
                match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Ok(WaitStatus::StillAlive) => {
                        end_tree(pid);
                        let _ = waitpid(pid, None);
                        break;
                    }
                    _ => break,
                }
            }
            let _ = killpg(pid, Signal::SIGKILL);
        }
    }
}

/// Kills a living worker and everything below it. The worker is stopped
/// first, so that its task starts nothing more; then every descendant is
/// killed, also the programs that left its process group (`setsid`),
/// which the worker, a child subreaper, holds on to; then its group.
fn end_tree(pid: Pid) {
    let _ = nix::sys::signal::kill(pid, Signal::SIGSTOP);
    if let Ok(root) = u32::try_from(pid.as_raw()) {
        // (the stopped worker reaps nothing: its killed children stay
        // zombies until it is killed too, and zombies are not swept)
        reaper::kill_descendants(root, &mut || 0);
    }
    let _ = killpg(pid, Signal::SIGKILL);
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with status {code}"),
        WaitStatus::Signaled(_, sig, _) => format!("killed by signal {}", sig.as_str()),
        other => format!("{other:?}"),
    }
}
