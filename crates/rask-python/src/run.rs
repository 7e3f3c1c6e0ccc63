//! `_rask.run`: plan and execute a converted graph without holding the
//! GIL, and give back the values, or the error as Python expects it.
//!
//! The threads executor runs on a driver thread of its own; the calling
//! thread waits for it with the GIL released, and every few milliseconds
//! takes the GIL to let Python run its signal handlers. When one raises
//! (Ctrl-C: `KeyboardInterrupt`), the run is cancelled — no new task
//! starts — and the exception is raised at once in the caller; the
//! workers end as their current tasks return. The sync executor runs in
//! the calling thread, holding the GIL, so that tasks run exactly as
//! plain Python would run them.
//!
//! An interrupted run's threads outlive the call; the interpreter waits
//! for them at exit ([`wait_for_runs`], registered by the package as
//! `concurrent.futures` registers its own wait), as it waits for a thread
//! pool's tasks: a worker that woke up after the interpreter was
//! finalized would be ended by it in a way that aborts the process.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rask_graph::{CallError, EvalError, Graph, GraphError, Key, Plan, Value};
use rask_scheduler::{compute, Callback, ComputeError, Sync, Threads};

use crate::convert::{Converter, NodeTypes};
use crate::keys::Names;
use crate::values::{to_python, PyTaskError};
use crate::worker;

/// Dask's `(GraphNode, DataNode, Alias, TaskRef)` classes.
type NodeClasses<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
);

/// How often the waiting caller looks for signals.
const SIGNAL_CHECK: Duration = Duration::from_millis(20);

/// Runs the Dask graph `dsk` and returns the values of `keys` (a flat
/// list of keys, each in `dsk` or `cache`) as a list.
///
/// - `cache`: values to take as computed (a dict).
/// - `scheduler`: `"threads"` or `"sync"`.
/// - `node_types`: Dask's `(GraphNode, DataNode, Alias, TaskRef)` classes, if Dask
///   is installed.
/// - `runner`: for instrumented runs, `runner(key, data, worker_id)`
///   executes the task of `key` on its dependencies' values `data`.
/// - `context`: the caller's `contextvars.Context`, when it holds any
///   variable.
/// - `profile`: a path to write rask's profile of the run to (`.html`
///   timeline or `.json` Chrome trace).
#[pyfunction]
#[pyo3(signature = (dsk, keys, cache=None, num_workers=1, scheduler="threads", node_types=None, runner=None, context=None, profile=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<'py>(
    py: Python<'py>,
    dsk: Bound<'py, PyDict>,
    keys: Bound<'py, PyList>,
    cache: Option<Bound<'py, PyDict>>,
    num_workers: usize,
    scheduler: &str,
    node_types: Option<NodeClasses<'py>>,
    runner: Option<Bound<'py, PyAny>>,
    context: Option<Bound<'py, PyAny>>,
    profile: Option<std::path::PathBuf>,
) -> PyResult<Bound<'py, PyList>> {
    let nodes = node_types.map(|(graph_node, data_node, alias, task_ref)| NodeTypes {
        graph_node,
        data_node,
        alias,
        task_ref,
    });
    let mut converter = Converter::new(dsk, cache, nodes, runner, profile.is_some());
    let graph = converter.graph()?;
    let mut outputs = Vec::with_capacity(keys.len());
    for k in keys.iter() {
        match converter.keys.lookup(&k) {
            Some(rk) => outputs.push(rk),
            None => return Err(PyKeyError::new_err(k.unbind())),
        }
    }
    let names = converter.keys.into_names();

    let profiler = profile
        .as_ref()
        .map(|_| Arc::new(rask_diagnostics::Profiler::new()));
    let result = match scheduler {
        "sync" => {
            // in the calling thread, GIL held: tasks take it again for free
            let plan = Plan::for_keys(&graph, &outputs).map_err(ComputeError::from);
            plan.and_then(|plan| {
                let callbacks: Vec<&dyn Callback> =
                    profiler.iter().map(|p| &**p as &dyn Callback).collect();
                compute(&Sync, &graph, &plan, &callbacks)
            })
        }
        "threads" => {
            let threads = Threads::new(num_workers)
                .on_worker_thread(worker::attach_for_run(context.map(Bound::unbind)))
                .around_batch(worker::gil_per_batch());
            run_detached(py, graph, outputs, threads, profiler.clone())?
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown scheduler {other:?}: expected \"threads\" or \"sync\""
            )))
        }
    };
    if let (Some(path), Some(profiler)) = (&profile, &profiler) {
        profiler
            .profile()
            .write(path, None)
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))?;
    }
    match result {
        Ok(values) => {
            let list = PyList::empty(py);
            for v in &values {
                list.append(to_python(py, v)?)?;
            }
            Ok(list)
        }
        Err(e) => Err(python_error(py, &names, e)),
    }
}

/// The number of runs whose driver thread has not ended. An atomic, not
/// a lock, so that a child forked while a run was live (by a task, or a
/// profiler's tracker) can set it back to zero: it inherits the number,
/// not the threads ([`forget_runs`], called after a fork in the child).
static LIVE_RUNS: AtomicUsize = AtomicUsize::new(0);

/// One run's share of [`LIVE_RUNS`], from before its driver thread starts
/// until that thread ends (the thread drops it last).
struct LiveRun;

impl LiveRun {
    fn start() -> LiveRun {
        LIVE_RUNS.fetch_add(1, Ordering::SeqCst);
        LiveRun
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        // never below zero, even for a run that started before a fork
        let _ = LIVE_RUNS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

/// How often [`wait_for_runs`] looks whether the runs have ended.
const EXIT_POLL: Duration = Duration::from_millis(2);

/// Waits, with the GIL released, until every run's threads have ended
/// (the runs a `KeyboardInterrupt` left behind end as their current
/// tasks return); checks for signals as it waits, so that a second
/// Ctrl-C ends the wait. The package calls it when the interpreter exits.
#[pyfunction]
pub(crate) fn wait_for_runs(py: Python<'_>) -> PyResult<()> {
    loop {
        let all_ended = py.detach(|| {
            let until = std::time::Instant::now() + SIGNAL_CHECK;
            while LIVE_RUNS.load(Ordering::SeqCst) > 0 {
                if std::time::Instant::now() >= until {
                    return false;
                }
                std::thread::sleep(EXIT_POLL);
            }
            true
        });
        if all_ended {
            return Ok(());
        }
        py.check_signals()?;
    }
}

/// Forgets the runs of the parent in a forked child: their threads were
/// not copied into it. The package calls it after every fork, in the
/// child (`os.register_at_fork`).
#[pyfunction]
pub(crate) fn forget_runs() {
    LIVE_RUNS.store(0, Ordering::SeqCst);
}

/// What the driver thread sends back: the values, and the graph to drop
/// in the caller, with the GIL (its Python objects' references).
type Outcome = (Result<Vec<Value>, ComputeError>, Graph);

/// Runs `graph` on `threads` from a driver thread, waiting for it with the
/// GIL released and Python's signals checked.
fn run_detached(
    py: Python<'_>,
    graph: Graph,
    outputs: Vec<Key>,
    threads: Threads,
    profiler: Option<Arc<rask_diagnostics::Profiler>>,
) -> PyResult<Result<Vec<Value>, ComputeError>> {
    let cancel = Arc::new(AtomicBool::new(false));
    let threads = threads.cancel_on(cancel.clone());
    let (tx, rx) = mpsc::channel::<Outcome>();
    let live = LiveRun::start();
    let driver = std::thread::Builder::new()
        .name("rask-driver".into())
        .spawn(move || {
            let result = Plan::for_keys(&graph, &outputs)
                .map_err(ComputeError::from)
                .and_then(|plan| {
                    let callbacks: Vec<&dyn Callback> = profiler
                        .as_deref()
                        .map(|p| p as &dyn Callback)
                        .into_iter()
                        .collect();
                    compute(&threads, &graph, &plan, &callbacks)
                });
            drop(threads);
            // if the caller is gone (interrupted), the graph drops here
            let _ = tx.send((result, graph));
            drop(live);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start rask's driver thread: {e}")))?;
    let mut rx = rx;
    loop {
        let (back, received) = py.detach(move || {
            let received = rx.recv_timeout(SIGNAL_CHECK);
            (rx, received)
        });
        rx = back;
        match received {
            Ok((result, graph)) => {
                drop(graph);
                // the driver has nothing left to do but end: waiting for
                // it would only wait for the OS to schedule it
                drop(driver);
                return Ok(result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = driver.join();
                return Err(PyRuntimeError::new_err("rask's driver thread died"));
            }
        }
    }
}

/// A rask error as the Python exception Dask's users expect.
fn python_error(py: Python<'_>, names: &Names, e: ComputeError) -> PyErr {
    let name = |k: &Key| {
        names
            .python(py, k)
            .and_then(|o| o.repr().map(|r| r.to_string()))
            .unwrap_or_else(|_| k.to_string())
    };
    match e {
        ComputeError::Task {
            error:
                EvalError::Call {
                    error: CallError::Failed(cause),
                    ..
                },
            key,
        } => match cause.downcast::<PyTaskError>() {
            Ok(py_error) => py_error.0,
            Err(other) => PyRuntimeError::new_err(format!("task {} failed: {other}", name(&key))),
        },
        ComputeError::Graph(GraphError::Cycle { keys }) => {
            let path: Vec<String> = keys
                .iter()
                .chain(keys.first())
                .map(|k| {
                    names
                        .python(py, k)
                        .and_then(|o| o.str().map(|s| s.to_string()))
                        .unwrap_or_else(|_| k.to_string())
                })
                .collect();
            PyRuntimeError::new_err(format!("Cycle detected in Dask: {}", path.join("->")))
        }
        ComputeError::Graph(GraphError::MissingKey { key, needed_by }) => match needed_by {
            Some(by) => PyValueError::new_err(format!(
                "Missing dependency {} for dependent {}",
                name(&key),
                name(&by)
            )),
            None => match names.python(py, &key) {
                Ok(k) => PyKeyError::new_err(k.unbind()),
                Err(e) => e,
            },
        },
        ComputeError::Panic { key, message } => {
            PyRuntimeError::new_err(format!("task {} panicked: {message}", name(&key)))
        }
        ComputeError::Cancelled => {
            pyo3::exceptions::PyKeyboardInterrupt::new_err("the computation was cancelled")
        }
        other => PyRuntimeError::new_err(other.to_string()),
    }
}
