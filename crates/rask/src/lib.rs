//! rask: dead simple task scheduling for Rust, in the spirit of Dask.
//!
//! A computation is a plain graph, a map from keys to tasks; collections
//! (such as [`delayed`](mod@delayed) values) build graphs, and executors run them.
//!
//! ```
//! use rask::{graph, get, Value};
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//! // x = 1; y = inc(x); z = add(y, 10)
//! let dsk = graph! {
//!     "x" => 1,
//!     "y" => (inc, "x"),
//!     "z" => (add, "y", 10),
//! };
//! assert_eq!(get(&dsk, "z").unwrap(), Value::Int(12));
//! ```
//!
//! One dependency gives all of it: the executors ([`Sync`], [`Threads`],
//! [`Processes`], and `Mpi` behind the cargo feature `mpi`), the
//! collections ([`array`](mod@array), [`bag`],
//! [`delayed`](mod@delayed)), the diagnostics and the result cache, and
//! the [`ndarray`] crate the arrays are made of (use `rask::ndarray`, not
//! a second copy, so that the types agree):
//!
//! ```
//! use rask::array::arange;
//! use rask::ndarray::s;
//! use rask::{Processes, Threads};
//! let x = arange(10, 5);
//! let y = x.compute(&Threads::new(2)).unwrap();
//! assert_eq!(y.slice(s![..3]).to_vec(), vec![0, 1, 2]);
//! # let _ = Processes::new(2);
//! ```
//!
//! The crates behind it: `rask-graph` (the graph, graph files and the pure
//! algorithms), `rask-scheduler` (the scheduler core and the `sync` and
//! `threads` executors), `rask-processes` (the pool of forked workers),
//! `rask-mpi` (the MPI executor), `rask-delayed` (typed lazy values),
//! `rask-array` and `rask-bag` (the collections), `rask-diagnostics`
//! (progress bar, profiler, resource monitor, pictures), `rask-cache` (the
//! result cache that loses no finished work).
#![deny(missing_docs, missing_debug_implementations)]

pub use rask_graph::{
    builtins, codec, deps, file, graph, optimize, order, programs, task, AnyValue, Arity,
    CallError, EvalError, Function, Graph, GraphError, IntoFallible, IntoFunction, Key, KeyPart,
    Plan, Registry, Task, TaskId, ToJsonError, Value, Visit,
};
pub use rask_processes::Processes;

/// Ending every program a run started (Linux): make the process a child
/// subreaper, find its descendants, end them all (what `rask run` does).
pub mod reaper {
    pub use rask_processes::reaper::*;
}

mod visualize;
pub use rask_scheduler::{
    compute, get, get_with, Callback, ComputeError, Executor, Keys, RunInfo, State, Sync,
    TaskEvent, Threads, Watch,
};
pub use visualize::{Visualize, VisualizeError};

/// The `ndarray` crate the arrays are made of: `use rask::ndarray::s;`.
///
/// Depend on this one rather than adding `ndarray` yourself, so that
/// [`array::Array::compute`]'s `ArrayD` and yours are the same type.
pub use rask_array::ndarray;

/// The scheduler core, for writing an executor: the state machine
/// ([`State`]) and [`run_task`](scheduler::run_task), which runs one task
/// as every executor does.
pub mod scheduler {
    pub use rask_scheduler::*;
}

/// The MPI executor (cargo feature `mpi`, which needs MPI to build):
/// rank 0 schedules, every rank runs tasks, values move rank to rank.
/// Without the feature, only the pure parts: `fingerprint` and
/// `approx_bytes`.
///
/// ```no_run
/// # #[cfg(feature = "mpi")] {
/// use rask::{graph, Executor};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let g = graph! { "x" => 1, "y" => (inc, "x") };
/// let mpi = rask::Mpi::new().unwrap();
/// let y = mpi.get(&g, "y").unwrap();
/// if mpi.is_root() {
///     println!("{y:?}");
/// }
/// # }
/// ```
pub mod mpi {
    pub use rask_mpi::*;
}
#[cfg(feature = "mpi")]
pub use rask_mpi::{Mpi, MpiBuilder};

/// Diagnostics: progress bar, profiler (Chrome trace, HTML timeline),
/// resource monitor, Graphviz pictures and graph summaries.
pub mod diagnostics {
    pub use rask_diagnostics::*;
}

/// The result cache: finished results stored on disk under tokens of
/// their tasks, loaded instead of recomputed by the next run.
pub mod cache {
    pub use rask_cache::*;
}

/// Typed lazy values: `Delayed<T>`, composed into one graph.
pub mod delayed {
    pub use rask_delayed::*;
}
pub use rask_delayed::{compute as compute_delayed, delayed, Delayed};

/// Chunked n-dimensional arrays that build graphs: `rask::array::arange(15, 5)`.
pub mod array {
    pub use rask_array::*;
}

/// Bags: partitioned sequences of records from memory or from globs of
/// plain or gzip'd text, with `map`, `filter`, `frequencies`, `foldby` and
/// a `groupby` that spills to disk: `rask::bag::read_text("logs/*.gz")`.
pub mod bag {
    pub use rask_bag::*;
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Rust examples of the docs pages, compiled and run as doc tests.
#[doc = include_str!("../../../docs/graph.md")]
#[cfg(doctest)]
pub struct GraphDocDoctests;

#[doc = include_str!("../../../docs/cache.md")]
#[cfg(doctest)]
pub struct CacheDocDoctests;

#[doc = include_str!("../../../docs/diagnostics.md")]
#[cfg(doctest)]
pub struct DiagnosticsDocDoctests;

#[doc = include_str!("../../../docs/executors.md")]
#[cfg(doctest)]
pub struct ExecutorsDocDoctests;

/// The examples of the porting guide (`docs/dask.md`), compiled and run as
/// doc tests.
#[doc = include_str!("../../../docs/dask.md")]
#[cfg(doctest)]
pub struct DaskPortingDoctests;
