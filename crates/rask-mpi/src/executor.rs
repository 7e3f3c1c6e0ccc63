//! [`Mpi`]: the executor handle, one per process.

use std::sync::{Arc, Mutex, Weak};

use mpi::topology::SimpleCommunicator;
use rask_graph::{Graph, Plan, Value};
use rask_scheduler::{Callback, ComputeError, Executor, Threads};

use crate::comm::{Comm, FINALIZED};
use crate::rank::{self, Session, TransferStats};

/// Why MPI could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Something else in this process initialized MPI already.
    #[error("MPI is already initialized in this process by something other than rask: let rask initialize it (Mpi::new) and use Mpi::with_world for your own MPI calls")]
    AlreadyInitialized,
    /// The MPI library does not support `MPI_THREAD_FUNNELED`.
    #[error("this MPI library does not provide MPI_THREAD_FUNNELED, which rask needs (one communication thread beside the task threads)")]
    Threading,
    /// MPI ran and was finalized: it cannot start again in one process.
    #[error("MPI was finalized when the last Mpi handle was dropped and cannot start again in this process: keep one Mpi for the whole program")]
    Finalized,
    /// The communication thread could not start.
    #[error("cannot start the MPI communication thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The communication thread died while MPI started.
    #[error("the MPI communication thread died while MPI started")]
    Died,
}

/// The MPI executor (see the crate docs). Cheap to clone: every clone is
/// the same handle; MPI is finalized when the last one is dropped.
///
/// Every rank must call `compute` (or `get`) on the same graph and keys,
/// in the same order: the ranks check it, and a rank that does not take
/// part leaves the others waiting.
#[derive(Debug, Clone)]
pub struct Mpi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    comm: Comm,
    session: Mutex<Session>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // a rank that unwinds must not leave the others waiting for
            // it: end the whole job, as MPI does when a rank dies
            eprintln!(
                "rask-mpi: rank {} panicked; aborting the MPI job",
                self.comm.info.rank
            );
            self.comm.abort(1);
        }
    }
}

/// The handle of the MPI executor while one lives.
static LIVE: Mutex<Weak<Inner>> = Mutex::new(Weak::new());

/// Options of [`Mpi`], from [`Mpi::builder`].
#[derive(Debug, Clone)]
pub struct MpiBuilder {
    threads: Option<usize>,
    max_message: usize,
}

impl MpiBuilder {
    /// Task threads on this rank (default: the cores of this machine
    /// divided among the ranks that run on it).
    pub fn threads(mut self, n: usize) -> MpiBuilder {
        self.threads = Some(n.max(1));
        self
    }

    /// The largest single MPI message, in bytes (default 1 GiB; MPI counts
    /// are 32-bit): larger values travel in fragments of this size.
    pub fn max_message(mut self, bytes: usize) -> MpiBuilder {
        self.max_message = bytes.max(1);
        self
    }

    /// Initializes MPI (once per process) and returns the executor. While
    /// an `Mpi` lives, this returns another handle on it, whatever the
    /// options.
    pub fn init(self) -> Result<Mpi, InitError> {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inner) = live.upgrade() {
            return Ok(Mpi { inner });
        }
        if FINALIZED.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(InitError::Finalized);
        }
        let comm = Comm::start(self.threads, self.max_message)?;
        let inner = Arc::new(Inner {
            comm,
            session: Mutex::new(Session::default()),
        });
        *live = Arc::downgrade(&inner);
        Ok(Mpi { inner })
    }
}

impl Mpi {
    /// Initializes MPI with the default options (see [`MpiBuilder`]).
    pub fn new() -> Result<Mpi, InitError> {
        Mpi::builder().init()
    }

    /// Options before initializing MPI.
    pub fn builder() -> MpiBuilder {
        MpiBuilder {
            threads: None,
            max_message: 1 << 30,
        }
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.inner.comm.info.rank as usize
    }

    /// How many ranks the job has.
    pub fn size(&self) -> usize {
        self.inner.comm.info.size as usize
    }

    /// Whether this is rank 0, the one that schedules and gets the results.
    pub fn is_root(&self) -> bool {
        self.rank() == 0
    }

    /// The task threads of this rank.
    pub fn threads(&self) -> usize {
        self.inner.comm.info.threads
    }

    /// The values this rank received from other ranks so far.
    pub fn transfer_stats(&self) -> TransferStats {
        self.session().stats
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.inner.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with `MPI_COMM_WORLD` on the communication thread (the only
    /// thread that may call MPI) and returns its result: for a program's
    /// own MPI calls, such as a collective that every rank makes at the
    /// same point of the program. rask's own messages use a duplicate of
    /// the world communicator, so they never mix with these.
    ///
    /// # Panics
    ///
    /// When `f` panics (the panic is reported on the communication thread,
    /// which then ends: MPI cannot be used afterwards).
    pub fn with_world<R: Send + 'static>(
        &self,
        f: impl FnOnce(&SimpleCommunicator) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.inner.comm.call(Box::new(move |world| {
            let _ = tx.send(f(world));
        }));
        rx.recv()
            .expect("the MPI communication thread ended while running with_world")
    }
}

impl Executor for Mpi {
    fn name(&self) -> &str {
        "mpi"
    }

    /// The task threads of all ranks.
    fn workers(&self) -> usize {
        self.inner.comm.info.total_threads
    }

    fn execute(
        &self,
        graph: &Graph,
        plan: &Plan,
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<Value>, ComputeError> {
        if self.size() == 1 {
            return Threads::new(self.threads()).execute(graph, plan, callbacks);
        }
        let mut session = self.session();
        rank::run(
            &self.inner.comm,
            &mut session,
            graph,
            plan,
            self.threads(),
            callbacks,
        )
    }
}
