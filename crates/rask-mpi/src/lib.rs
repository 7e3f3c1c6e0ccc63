//! rask's MPI executor: one program started on many ranks (`mpirun -np N
//! program`, or Slurm's `srun`), every rank building the same graph, rank
//! 0 scheduling and every rank running tasks on its own thread pool.
//!
//! ```no_run
//! # #[cfg(feature = "mpi")] {
//! use rask::graph;
//! use rask::Executor;
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x") };
//! let mpi = rask::mpi::Mpi::new().unwrap();
//! let y = mpi.get(&g, "y").unwrap();
//! if mpi.is_root() {
//!     println!("{y:?}"); // rank 0 has the value; other ranks get Null
//! }
//! # }
//! ```
//!
//! How it follows the design (DESIGN.md, "One scheduler core, many
//! executors"):
//!
//! - **Ship keys, not code.** Every rank runs the same program and builds
//!   the same graph; at `compute` time the ranks compare a
//!   [`fingerprint`] of the graph and plan (keys, task structure, function
//!   names, dependencies, priorities) and all fail with an error naming
//!   the differing ranks if they differ. Messages carry task ids and
//!   values (a string's bytes and a `Vec<f64>`'s or `Vec<i64>`'s words as
//!   they are in memory, other values through the codecs of
//!   `rask_graph::codec`), never code.
//! - **One scheduler core.** Rank 0 drives `rask_scheduler::State` over
//!   value *locations* (which rank holds a value, how large it is) in
//!   place of values: the ready order, the release of values nobody needs
//!   and the first-error stop are the core's (see `scheduler.rs`).
//! - **Values stay where they were made.** A ready task goes to the rank
//!   holding most of its input bytes (ties: the least loaded rank); the
//!   inputs held elsewhere are pushed by their holder straight to that
//!   rank when rank 0 orders it; released values are freed on every rank
//!   holding a copy; outputs are pushed to rank 0 as soon as they exist.
//! - **MPI threads.** MPI is initialized with `MPI_THREAD_FUNNELED` by one
//!   communication thread per rank, which makes every MPI call of the
//!   process; task threads and the caller's thread never call MPI.
//! - **Errors.** A task error or panic on any rank fails the computation
//!   on every rank with the same error naming the key; every rank waits
//!   for its running tasks before `compute` returns.
//!
//! What `execute` returns: on rank 0 the outputs; on every other rank an
//! empty `Vec` once the computation is over (so `get` returns `Null` in
//! the nesting of the keys asked): use [`Mpi::is_root`] to print or
//! save results once. A one-rank world (the program started without
//! mpirun) runs the plan on the local thread pool.
//!
//! Without the cargo feature `mpi` this crate builds without MPI and holds
//! only the pure parts: [`fingerprint`] and [`approx_bytes`] (and, inside,
//! the wire format and the scheduler's bookkeeping, tested over in-process
//! channels).
#![deny(missing_docs, missing_debug_implementations)]
// without the executor, the rank loop is only driven by the tests
#![cfg_attr(not(feature = "mpi"), allow(dead_code))]

mod bytes;
mod fingerprint;
mod prefault;
mod rank;
mod scheduler;
mod size;
mod store;
mod wire;

#[cfg(feature = "mpi")]
mod comm;
#[cfg(feature = "mpi")]
mod executor;

pub use fingerprint::fingerprint;
pub use rank::TransferStats;
pub use size::approx_bytes;

#[cfg(feature = "mpi")]
pub use executor::{InitError, Mpi, MpiBuilder};
/// The `mpi` crate (rsmpi), for [`Mpi::with_world`].
#[cfg(feature = "mpi")]
pub use mpi;
