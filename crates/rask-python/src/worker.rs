//! What a worker thread of a Python run holds: its attachment to the
//! interpreter, its number, and a copy of the caller's `contextvars`.
//!
//! Attaching a thread to the interpreter costs microseconds; taking the
//! GIL on a thread that is already attached costs tens of nanoseconds.
//! So each worker attaches once, for the whole run ([`attach_for_run`],
//! the executor's worker hook), detaches while it schedules, and each
//! task only takes the GIL. The caller's context is copied once per
//! worker (a context can be entered by one thread at a time), and tasks
//! run inside it, as `dask.threaded.get` runs them.
//!
//! The GIL is taken once per batch of tasks ([`gil_per_batch`]): a worker
//! of tiny tasks takes up to 64 at once, and taking the GIL for each would
//! hand it to the other worker after every task, each hand-off a sleep and
//! a wake-up of some microseconds.

use std::cell::RefCell;
use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;
use rask_scheduler::{BatchHook, WorkerHook};
use smallvec::SmallVec;

thread_local! {
    /// The `run` method of this worker's copy of the caller's context.
    static CONTEXT_RUN: RefCell<Option<Py<PyAny>>> = const { RefCell::new(None) };
    /// This worker's number in its run.
    static WORKER: RefCell<usize> = const { RefCell::new(0) };
}

/// The number of the worker running on this thread (0 off a worker).
pub(crate) fn worker_id() -> usize {
    WORKER.with(|w| *w.borrow())
}

/// Calls `f(*args)`, inside this worker's copy of the caller's context
/// if there is one.
pub(crate) fn call<'py>(
    f: &Bound<'py, PyAny>,
    args: &[Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    let py = f.py();
    let run = CONTEXT_RUN.with(|c| c.borrow().as_ref().map(|r| r.clone_ref(py)));
    match run {
        None => call_args(f, args),
        Some(run) => {
            let mut all: SmallVec<[Bound<'py, PyAny>; 5]> = SmallVec::with_capacity(args.len() + 1);
            all.push(f.clone());
            all.extend(args.iter().cloned());
            call_args(run.bind(py), &all)
        }
    }
}

/// `f(*args)`. Up to four arguments are passed without a tuple (the
/// variadic call of the stable ABI hands them to the callee as an array),
/// so a task's call allocates nothing that Python's collector tracks.
fn call_args<'py>(
    f: &Bound<'py, PyAny>,
    args: &[Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    let py = f.py();
    let end = std::ptr::null_mut::<ffi::PyObject>();
    let fp = f.as_ptr();
    // SAFETY: the GIL is held; `f` and every argument are live objects we
    // hold references to for the whole call; the argument list ends with
    // NULL, as the variadic call requires; the result is a new reference
    // or NULL with an exception set, which `from_owned_ptr_or_err` takes.
    unsafe {
        let result = match args {
            [] => ffi::PyObject_CallFunctionObjArgs(fp, end),
            [a] => ffi::PyObject_CallFunctionObjArgs(fp, a.as_ptr(), end),
            [a, b] => ffi::PyObject_CallFunctionObjArgs(fp, a.as_ptr(), b.as_ptr(), end),
            [a, b, c] => {
                ffi::PyObject_CallFunctionObjArgs(fp, a.as_ptr(), b.as_ptr(), c.as_ptr(), end)
            }
            [a, b, c, d] => ffi::PyObject_CallFunctionObjArgs(
                fp,
                a.as_ptr(),
                b.as_ptr(),
                c.as_ptr(),
                d.as_ptr(),
                end,
            ),
            _ => return f.call1(pyo3::types::PyTuple::new(py, args)?),
        };
        Bound::from_owned_ptr_or_err(py, result)
    }
}

/// A `Send` wrapper for the worker loop, which runs on the thread that
/// owns it: `detach` asks for `Send` only because it cannot know that.
struct OnThisThread<'a>(&'a mut dyn FnMut());
// SAFETY: the closure is called on the thread that created the wrapper,
// inside `Python::detach`, which runs it synchronously on that thread.
unsafe impl Send for OnThisThread<'_> {}

/// The worker hook of a Python run: attach once, copy `context` (the
/// caller's `contextvars.Context`, if it holds any variable), and run the
/// worker's loop detached.
pub(crate) fn attach_for_run(context: Option<Py<PyAny>>) -> WorkerHook {
    let context = context.map(Arc::new);
    Arc::new(move |worker, run: &mut dyn FnMut()| {
        Python::attach(|py| {
            let run_method = context.as_ref().and_then(|ctx| {
                let copy = ctx.bind(py).call_method0("copy").ok()?;
                copy.getattr("run").ok().map(Bound::unbind)
            });
            CONTEXT_RUN.with(|c| *c.borrow_mut() = run_method);
            WORKER.with(|w| *w.borrow_mut() = worker);
            let wrapped = OnThisThread(run);
            py.detach(move || {
                let wrapped = wrapped;
                (wrapped.0)()
            });
            CONTEXT_RUN.with(|c| c.borrow_mut().take());
        })
    })
}

/// The batch hook of a Python run: the GIL held while a batch runs.
pub(crate) fn gil_per_batch() -> BatchHook {
    Arc::new(|run: &mut dyn FnMut()| Python::attach(|_| run()))
}
