//! The native part of rask's Python package (`rask._rask`): Dask graphs
//! executed by rask's scheduler.
//!
//! The Python package (`python/rask`) follows Dask's `get` specification
//! and calls [`run`](run::run) with a plain dict graph; this crate turns
//! the graph into a rask graph ([`convert`]), plans it with rask's `order`
//! and runs it on rask's executors without holding the GIL ([`run`]),
//! each worker thread attached to the interpreter once for the run
//! ([`worker`]).

mod convert;
mod keys;
mod run;
mod values;
mod worker;

use pyo3::prelude::*;

/// The allocator of the extension's Rust allocations only (Python's own
/// objects keep Python's allocator): a run's graph, plan and values are
/// freed at its end, and the system allocator gave that memory back to the
/// OS, so the next run faulted it in again (about a tenth of a run of tiny
/// tasks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The extension module.
#[pymodule]
fn _rask(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(run::wait_for_runs, m)?)?;
    m.add_function(wrap_pyfunction!(run::forget_runs, m)?)?;
    Ok(())
}
