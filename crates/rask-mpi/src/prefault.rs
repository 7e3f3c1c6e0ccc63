//! Page faults of fresh memory, taken on a thread of their own while MPI
//! fills the memory.
//!
//! A large value that arrives lands in memory allocated for it, whose
//! pages the kernel maps (and zeroes) on first touch: inside the receive,
//! on the communication thread, serially with the copy. The [`Prefaulter`]
//! thread asks the kernel to map them beforehand
//! (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14 and later), from the last
//! page backwards while the receive fills the buffer from the first, so
//! that on a machine with an idle core the two meet halfway. This changes
//! no byte of memory (the advice maps pages as a write would, without
//! writing), so it cannot race with the receive; the landing waits, before
//! it becomes a value, until the thread no longer touches its range (at
//! most one 2 MiB step). Where the advice is not supported the thread
//! stops trying.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

/// The prefaulting thread of a rank.
#[derive(Debug)]
pub(crate) struct Prefaulter {
    jobs: Option<Sender<Arc<Job>>>,
    thread: Option<JoinHandle<()>>,
}

/// A range to prefault, shared by its landing and the thread.
#[derive(Debug)]
pub(crate) struct Job {
    start: usize,
    end: usize,
    state: AtomicU8,
}

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
/// Running, and asked to stop.
const STOPPING: u8 = 2;
const DONE: u8 = 3;

/// A landing's claim on its job: dropping it waits until the thread no
/// longer touches the range.
#[derive(Debug)]
pub(crate) struct Ticket(Arc<Job>);

impl Drop for Ticket {
    fn drop(&mut self) {
        let state = &self.0.state;
        // not started: the thread will skip it
        if state
            .compare_exchange(QUEUED, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return;
        }
        let _ = state.compare_exchange(RUNNING, STOPPING, Ordering::AcqRel, Ordering::Acquire);
        while state.load(Ordering::Acquire) != DONE {
            std::thread::yield_now();
        }
    }
}

/// The step of the thread: one huge page.
const STEP: usize = 2 << 20;

impl Prefaulter {
    /// Starts the thread (`None` where the advice does not exist).
    pub(crate) fn start() -> Option<Prefaulter> {
        if !SUPPORTED {
            return None;
        }
        let (tx, rx) = crossbeam_channel::unbounded::<Arc<Job>>();
        let thread = std::thread::Builder::new()
            .name("rask-mpi-prefault".into())
            .spawn(move || {
                let mut works = true;
                for job in rx {
                    if job
                        .state
                        .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                    {
                        continue;
                    }
                    let mut at = job.end;
                    while works && at > job.start && job.state.load(Ordering::Acquire) == RUNNING {
                        let from = at.saturating_sub(STEP).max(job.start);
                        works = populate(from, at - from);
                        at = from;
                    }
                    job.state.store(DONE, Ordering::Release);
                }
            })
            .ok()?;
        Some(Prefaulter {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Prefaults the whole pages of `[addr, addr + len)`, memory of a live
    /// allocation that only the returned ticket's holder writes, and which
    /// it frees only after dropping the ticket.
    pub(crate) fn prefault(&self, addr: usize, len: usize) -> Option<Ticket> {
        let start = addr.div_ceil(PAGE) * PAGE;
        let end = (addr + len) / PAGE * PAGE;
        if end <= start {
            return None;
        }
        let job = Arc::new(Job {
            start,
            end,
            state: AtomicU8::new(QUEUED),
        });
        self.jobs.as_ref()?.send(job.clone()).ok()?;
        Some(Ticket(job))
    }
}

impl Drop for Prefaulter {
    fn drop(&mut self) {
        self.jobs = None; // the thread ends
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const PAGE: usize = 4096;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
const SUPPORTED: bool = true;
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
const SUPPORTED: bool = false;

/// `madvise(2)` on whole pages of an allocation the caller owns and keeps
/// alive, with an advice that changes no byte of it (Linux); the OS error
/// when the kernel refuses, `Unsupported` where there is no such call.
pub(crate) fn advise(addr: usize, len: usize, advice: std::ffi::c_int) -> std::io::Result<()> {
    #[cfg(all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )
    ))]
    {
        extern "C" {
            fn madvise(
                addr: *mut std::ffi::c_void,
                len: usize,
                advice: std::ffi::c_int,
            ) -> std::ffi::c_int;
        }
        // SAFETY: the range is whole pages of a live allocation (the
        // callers' contract), and the advice given by this crate changes
        // no byte
        if unsafe { madvise(addr as *mut std::ffi::c_void, len, advice) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
    #[cfg(not(all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )
    )))]
    {
        let _ = (addr, len, advice);
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// Whether the kernel took the advice (false: it does not know it).
fn populate(addr: usize, len: usize) -> bool {
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);
    if UNSUPPORTED.load(Ordering::Relaxed) {
        return false;
    }
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        /// `MADV_POPULATE_WRITE` (Linux 5.14).
        const MADV_POPULATE_WRITE: std::ffi::c_int = 23;
        const EINVAL: i32 = 22;
        // the caller keeps the allocation alive (see
        // `Prefaulter::prefault`); MADV_POPULATE_WRITE maps pages without
        // writing any byte
        match advise(addr, len, MADV_POPULATE_WRITE) {
            Err(e) if e.raw_os_error() == Some(EINVAL) => {
                UNSUPPORTED.store(true, Ordering::Relaxed);
                false
            }
            _ => true,
        }
    }
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        let _ = (addr, len);
        UNSUPPORTED.store(true, Ordering::Relaxed);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefaulting_changes_no_byte_and_tickets_wait() {
        let Some(p) = Prefaulter::start() else {
            return;
        };
        let mut v: Vec<u8> = Vec::with_capacity(16 << 20);
        v.extend((0..8 << 20).map(|i| i as u8));
        let t = p.prefault(v.as_ptr() as usize, v.capacity());
        // the receive writes while the thread prefaults
        v.extend((0..8 << 20).map(|i| (i * 3) as u8));
        drop(t);
        assert!(v[..8 << 20].iter().enumerate().all(|(i, &b)| b == i as u8));
        assert!(v[8 << 20..]
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i * 3) as u8));
        // tickets of jobs never started or long done
        for _ in 0..100 {
            drop(p.prefault(v.as_ptr() as usize, 1 << 20));
        }
        assert!(p.prefault(v.as_ptr() as usize, 10).is_none());
    }
}
