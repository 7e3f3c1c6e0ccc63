//! The `threads` executor (the default): a pool of worker threads that
//! share one [`State`] behind a mutex.
//!
//! There is no scheduler thread. A worker that finishes a task takes the
//! lock once to record the result and to take the next ready task, which
//! is usually a dependent its own result just made ready, so a chain runs
//! on one warm core without any hand-off. Idle workers sleep on a condition
//! variable and are woken only when more than one task is ready. Values
//! are `Arc` handles shared between threads; nothing is copied.
//!
//! The threads are scoped to one computation: they are started by
//! [`Executor::execute`] and joined before it returns, on success, on a
//! task error and on a panic, so no thread outlives a call. On the first
//! error no new task starts; the running ones finish, then the error is
//! returned.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use rask_graph::{Graph, Plan, TaskId, Value};

use crate::callbacks::{Callback, TaskEvent};
use crate::error::ComputeError;
use crate::executor::Executor;
use crate::run::run_task;
use crate::state::State;

/// Runs tasks on a pool of threads.
///
/// ```
/// use rask_graph::{graph, Value};
/// use rask_scheduler::{Executor, Threads};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let g = graph! { "x" => 1, "y" => (inc, "x") };
/// assert_eq!(Threads::new(4).get(&g, "y").unwrap(), Value::Int(2));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Threads {
    workers: usize,
}

impl Threads {
    /// A pool of `workers` threads (at least one).
    pub fn new(workers: usize) -> Threads {
        Threads {
            workers: workers.max(1),
        }
    }
}

impl Default for Threads {
    /// As many workers as the machine has cores.
    fn default() -> Threads {
        Threads::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

struct Shared<'p> {
    state: State<'p, Value>,
    sleeping: usize,
    error: Option<ComputeError>,
}

struct Pool<'p, 'c> {
    shared: Mutex<Shared<'p>>,
    wake: Condvar,
    graph: &'p Graph,
    plan: &'p Plan,
    callbacks: &'c [&'c dyn Callback],
}

impl<'p> Pool<'p, '_> {
    fn lock(&self) -> MutexGuard<'_, Shared<'p>> {
        // a poisoned lock means a callback panicked in another worker; the
        // state itself is never left half-updated, so carry on
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn worker(&self, worker: usize) {
        let mut inputs: Vec<Value> = Vec::new();
        let mut shared = self.lock();
        loop {
            if shared.state.is_over() {
                break;
            }
            let Some(id) = shared.state.pop_ready() else {
                shared.sleeping += 1;
                shared = self.wake.wait(shared).unwrap_or_else(|e| e.into_inner());
                shared.sleeping -= 1;
                continue;
            };
            // more work for the sleepers: wake one, which wakes the next
            if shared.sleeping > 0 && shared.state.ready_len() > 0 {
                self.wake.notify_one();
            }
            inputs.clear();
            inputs.extend(shared.state.inputs(id).cloned());
            drop(shared);
            let guard = Unwinding { pool: self, id };
            let result = self.run(worker, id, &mut inputs);
            std::mem::forget(guard);
            shared = self.lock();
            match result {
                Ok(value) => shared.state.complete(id, value, &mut |_| {}),
                Err(e) => {
                    shared.state.fail(id);
                    if shared.error.is_none() {
                        shared.error = Some(e);
                    }
                }
            }
            if shared.state.is_over() {
                self.wake.notify_all();
            }
        }
        drop(shared);
        self.wake.notify_all();
    }

    fn run(
        &self,
        worker: usize,
        id: TaskId,
        inputs: &mut Vec<Value>,
    ) -> Result<Value, ComputeError> {
        if self.callbacks.is_empty() {
            return run_task(self.graph, self.plan, id, inputs.drain(..));
        }
        let key = self.graph.key(self.plan.graph_id(id));
        let start = Instant::now();
        let ev = TaskEvent {
            id,
            key,
            worker,
            start,
            end: start,
        };
        self.callbacks.iter().for_each(|c| c.task_started(&ev));
        let result = run_task(self.graph, self.plan, id, inputs.drain(..));
        if result.is_ok() {
            let ev = TaskEvent {
                end: Instant::now(),
                ..ev
            };
            self.callbacks.iter().for_each(|c| c.task_finished(&ev));
        }
        result
    }
}

/// Fails the run if a worker unwinds while it runs task `id` (a panicking
/// callback: task panics are caught), so that the other workers stop
/// instead of waiting for a task that will never complete. Forgotten when
/// the task returns normally.
struct Unwinding<'a, 'p, 'c> {
    pool: &'a Pool<'p, 'c>,
    id: TaskId,
}

impl Drop for Unwinding<'_, '_, '_> {
    fn drop(&mut self) {
        let mut shared = self.pool.lock();
        shared.state.fail(self.id);
        if shared.error.is_none() {
            shared.error = Some(ComputeError::Panic {
                key: self
                    .pool
                    .graph
                    .key(self.pool.plan.graph_id(self.id))
                    .clone(),
                message: "a callback panicked while the task ran".into(),
            });
        }
        drop(shared);
        self.pool.wake.notify_all();
    }
}

impl Executor for Threads {
    fn name(&self) -> &str {
        "threads"
    }

    fn workers(&self) -> usize {
        self.workers
    }

    fn execute(
        &self,
        graph: &Graph,
        plan: &Plan,
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<Value>, ComputeError> {
        let pool = Pool {
            shared: Mutex::new(Shared {
                state: State::new(plan),
                sleeping: 0,
                error: None,
            }),
            wake: Condvar::new(),
            graph,
            plan,
            callbacks,
        };
        let workers = self.workers.min(plan.len().max(1));
        let spawned = std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(workers);
            for w in 1..workers {
                let pool = &pool;
                let handle = std::thread::Builder::new()
                    .name(format!("rask-worker-{w}"))
                    .spawn_scoped(scope, move || pool.worker(w));
                match handle {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        pool.lock().state.stop();
                        pool.wake.notify_all();
                        return Err(e);
                    }
                }
            }
            pool.worker(0);
            Ok(())
        });
        let shared = pool.shared.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = spawned {
            return Err(ComputeError::Executor {
                executor: "threads".into(),
                message: format!("cannot start a worker thread: {e}"),
            });
        }
        if let Some(e) = shared.error {
            return Err(e);
        }
        Ok(shared.state.into_outputs())
    }
}
