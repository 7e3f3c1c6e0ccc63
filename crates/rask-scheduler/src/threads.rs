//! The `threads` executor (the default): a pool of worker threads that
//! share one [`State`] behind a mutex.
//!
//! There is no scheduler thread. A worker that finishes a task takes the
//! lock once to record the result and to take the next ready task, which
//! is usually a dependent its own result just made ready, so a chain runs
//! on one warm core without any hand-off. Idle workers sleep on a condition
//! variable; a worker that takes a task while more are ready wakes one
//! sleeper, which wakes the next. Values are `Arc` handles shared between
//! threads; nothing is copied. An input that its task is the last to need
//! is moved to it rather than shared, so the worker that consumes it drops
//! it, outside the lock.
//!
//! Tiny tasks (under 20 us on average) are taken in batches of up to
//! [`Threads::MAX_BATCH`] (64) when there are several workers: a share of
//! the ready tasks, shrinking as the ready set does (guided
//! self-scheduling), so that two workers do not spend their time handing
//! the lock back and forth. The price is a
//! few more live values: up to 64 per worker beyond what the priorities
//! alone would keep. Longer tasks are taken one at a time, so that their
//! results reach their dependents at once.
//!
//! The lock is built for critical sections of about a microsecond: the
//! state sits on cache lines of its own, away from the lock word, and a
//! worker waiting for the lock reads a `held` flag (on its own line too)
//! before it tries it, rather than sleeping in the kernel at once. Without
//! that, two workers of tiny tasks fell into a convoy in some runs (each
//! unlock a system call, each wake-up a scheduling delay) and took twice
//! as long.
//!
//! The threads are scoped to one computation: they are started by
//! [`Executor::execute`] and joined before it returns, on success, on a
//! task error and on a panic, so no thread outlives a call. On the first
//! error (or a cancel) no new task starts; the programs that running
//! `shell` tasks started are ended (their process groups get `SIGTERM`,
//! see [`rask_graph::programs`]), so those tasks end too; the running ones
//! finish, then the error is returned. What programs left in their groups
//! is ended when the run is over.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use rask_graph::programs::{self, Programs};
use rask_graph::{Graph, Plan, TaskId, Value};

use crate::callbacks::{Callback, TaskEvent};
use crate::error::ComputeError;
use crate::executor::Executor;
use crate::run::run_task;
use crate::state::State;

/// Runs tasks on a pool of threads.
///
/// ```
/// use rask::{graph, Value};
/// use rask::{Executor, Threads};
/// fn inc(x: i64) -> i64 { x + 1 }
/// let g = graph! { "x" => 1, "y" => (inc, "x") };
/// assert_eq!(Threads::new(4).get(&g, "y").unwrap(), Value::Int(2));
/// ```
#[derive(Clone)]
pub struct Threads {
    workers: usize,
    cancel: Option<Arc<AtomicBool>>,
    hook: Option<WorkerHook>,
    batch_hook: Option<BatchHook>,
}

/// Wraps the whole life of each worker thread of a run: called on the
/// worker's thread with its number and the worker's loop, which it must
/// call once. A runtime that a thread must join before it runs tasks (an
/// interpreter, say) is joined here once per thread, not once per task.
pub type WorkerHook = Arc<dyn Fn(usize, &mut dyn FnMut()) + Send + std::marker::Sync>;

/// Wraps each batch of tasks a worker takes at once (one task, or up to
/// [`Threads::MAX_BATCH`] tiny ones): called on the worker's thread with
/// the batch, which it must call once. A lock that every task takes (an
/// interpreter's) is taken here once per batch, so that two workers of
/// tiny tasks do not hand it back and forth after every task.
pub type BatchHook = Arc<dyn Fn(&mut dyn FnMut()) + Send + std::marker::Sync>;

impl fmt::Debug for Threads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Threads")
            .field("workers", &self.workers)
            .field("cancellable", &self.cancel.is_some())
            .field("hooked", &self.hook.is_some())
            .field("batch_hooked", &self.batch_hook.is_some())
            .finish()
    }
}

impl Threads {
    /// The most tasks a worker takes at once (tiny tasks only: see the
    /// module docs). Each worker may keep up to this many values alive
    /// beyond what the priorities alone would keep.
    pub const MAX_BATCH: usize = 64;

    /// A pool of `workers` threads (at least one).
    pub fn new(workers: usize) -> Threads {
        Threads {
            workers: workers.max(1),
            cancel: None,
            hook: None,
            batch_hook: None,
        }
    }

    /// Stops the run when `flag` is set: no task starts after that, the
    /// running ones finish, and the run returns
    /// [`ComputeError::Cancelled`]. Another thread sets the flag (a
    /// timeout, an interrupt).
    ///
    /// ```
    /// use std::sync::{atomic::AtomicBool, Arc};
    /// use rask_graph::graph;
    /// use rask_scheduler::{ComputeError, Executor, Threads};
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let g = graph! { "x" => 1, "y" => (inc, "x") };
    /// let stop = Arc::new(AtomicBool::new(true));
    /// let err = Threads::new(2).cancel_on(stop).get(&g, "y").unwrap_err();
    /// assert!(matches!(err, ComputeError::Cancelled));
    /// ```
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Threads {
        self.cancel = Some(flag);
        self
    }

    /// Runs each worker's loop inside `hook` (see [`WorkerHook`]), on the
    /// worker's own thread; worker 0 runs on the calling thread.
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
    /// use rask_graph::{graph, Value};
    /// use rask_scheduler::{Executor, Threads};
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let g = graph! { "x" => 1, "y" => (inc, "x") };
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let seen = started.clone();
    /// let pool = Threads::new(2).on_worker_thread(Arc::new(move |_worker, run: &mut dyn FnMut()| {
    ///     seen.fetch_add(1, Ordering::Relaxed);
    ///     run();
    /// }));
    /// assert_eq!(pool.get(&g, "y").unwrap(), Value::Int(2));
    /// assert_eq!(started.load(Ordering::Relaxed), 2);
    /// ```
    pub fn on_worker_thread(mut self, hook: WorkerHook) -> Threads {
        self.hook = Some(hook);
        self
    }

    /// Runs each batch of tasks inside `hook` (see [`BatchHook`]), on the
    /// worker's thread.
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
    /// use rask_graph::{graph, Value};
    /// use rask_scheduler::{Executor, Threads};
    /// fn inc(x: i64) -> i64 { x + 1 }
    /// let g = graph! { "x" => 1, "y" => (inc, "x") };
    /// let batches = Arc::new(AtomicUsize::new(0));
    /// let seen = batches.clone();
    /// let pool = Threads::new(1).around_batch(Arc::new(move |run: &mut dyn FnMut()| {
    ///     seen.fetch_add(1, Ordering::Relaxed);
    ///     run();
    /// }));
    /// assert_eq!(pool.get(&g, "y").unwrap(), Value::Int(2));
    /// assert!(batches.load(Ordering::Relaxed) >= 1);
    /// ```
    pub fn around_batch(mut self, hook: BatchHook) -> Threads {
        self.batch_hook = Some(hook);
        self
    }
}

impl Default for Threads {
    /// As many workers as the machine has cores.
    fn default() -> Threads {
        Threads::new(cores())
    }
}

/// The number of cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[repr(align(128))]
struct Shared<'p> {
    state: State<'p, Value>,
    sleeping: usize,
    error: Option<ComputeError>,
}

/// A flag on a cache line of its own.
#[repr(align(128))]
struct Padded(AtomicBool);

struct Pool<'p, 'c> {
    shared: Mutex<Shared<'p>>,
    /// Whether a worker holds `shared`: waiting workers read it before
    /// they try the lock (see [`Pool::lock`]).
    held: Padded,
    /// How many times to read `held` before sleeping on the lock: none
    /// when there are more workers than cores (a spinning worker could
    /// then keep the holder from running).
    spins: usize,
    wake: Condvar,
    graph: &'p Graph,
    plan: &'p Plan,
    callbacks: &'c [&'c dyn Callback],
    workers: usize,
    /// Set on the first error, so that batches stop between tasks.
    failed: AtomicBool,
    /// Set from outside to stop the run.
    cancel: Option<&'p AtomicBool>,
    /// Wraps each batch of tasks.
    batch_hook: Option<&'p BatchHook>,
    /// The programs the run's `shell` tasks started.
    programs: Arc<Programs>,
    /// Set when they were ended because the run failed or was cancelled.
    programs_ended: AtomicBool,
}

/// The `held` flag, set: cleared when dropped.
struct Held<'a>(&'a AtomicBool);

impl<'a> Held<'a> {
    fn set(flag: &'a AtomicBool) -> Held<'a> {
        flag.store(true, Ordering::Relaxed);
        Held(flag)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// The state lock, held. Dropping it clears the `held` flag and then
/// releases the lock (fields drop in order), so the flag cannot be left
/// set by a path that forgets it.
struct Locked<'g, 'p> {
    held: Held<'g>,
    guard: MutexGuard<'g, Shared<'p>>,
}

impl<'p> std::ops::Deref for Locked<'_, 'p> {
    type Target = Shared<'p>;

    fn deref(&self) -> &Shared<'p> {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked<'_, '_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

/// How many times a worker reads the `held` flag before it sleeps on the
/// lock (some tens of microseconds), when each worker has a core.
const SPINS: usize = 2000;

/// Tasks shorter than this on average are taken in batches.
const BATCH_BELOW_NS: f64 = 20_000.0;

impl<'p> Pool<'p, '_> {
    /// Takes the state lock. The critical sections are short (a batch of
    /// tiny tasks is completed and the next one taken in about a
    /// microsecond), so a worker first waits for the `held` flag to clear,
    /// reading it without writing (test-and-test-and-set): sleeping in
    /// the kernel at once makes every later unlock a system call and
    /// every wake-up a scheduling delay, which, once it starts, keeps two
    /// workers of tiny tasks taking turns asleep.
    fn lock(&self) -> Locked<'_, 'p> {
        for _ in 0..self.spins {
            if !self.held.0.load(Ordering::Relaxed) {
                if let Ok(guard) = self.shared.try_lock() {
                    let held = Held::set(&self.held.0);
                    return Locked { held, guard };
                }
            }
            std::hint::spin_loop();
        }
        // a poisoned lock means a callback panicked in another worker; the
        // state itself is never left half-updated, so carry on
        let guard = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let held = Held::set(&self.held.0);
        Locked { held, guard }
    }

    /// Releases the state lock until another worker wakes this one.
    fn sleep<'g>(&'g self, locked: Locked<'g, 'p>) -> Locked<'g, 'p> {
        let Locked { held, guard } = locked;
        drop(held);
        // a cancellable run wakes now and then to see the flag, which is
        // set from outside, where no one can signal the condition variable
        let guard = match self.cancel {
            None => self.wake.wait(guard).unwrap_or_else(|e| e.into_inner()),
            Some(_) => {
                self.wake
                    .wait_timeout(guard, std::time::Duration::from_millis(5))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
        let held = Held::set(&self.held.0);
        Locked { held, guard }
    }

    fn worker(&self, worker: usize) {
        let mut ids: Vec<TaskId> = Vec::new();
        let mut inputs: Vec<Value> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut results: Vec<Result<Value, ComputeError>> = Vec::new();
        // a running average of this worker's task duration; batches
        // start only once its tasks are measured to be tiny
        let mut task_ns = BATCH_BELOW_NS;
        let mut shared = self.lock();
        loop {
            if self.cancelled() && !shared.state.is_over() {
                self.stop(&mut shared);
            }
            if shared.state.is_over() {
                break;
            }
            // tiny tasks are taken in batches (guided self-scheduling: a
            // share of what is ready, shrinking as the ready set does), so
            // they cost one lock per batch; tasks that take long enough for
            // a lock not to matter are taken one at a time, so that their
            // results reach their dependents at once
            let want = if self.workers > 1 && task_ns < BATCH_BELOW_NS {
                (shared.state.ready_len() / (2 * self.workers)).clamp(1, Threads::MAX_BATCH)
            } else {
                1
            };
            ids.clear();
            inputs.clear();
            ends.clear();
            while ids.len() < want {
                let Some(id) = shared.state.pop_ready() else {
                    break;
                };
                shared.state.take_inputs(id, &mut inputs);
                ends.push(inputs.len());
                ids.push(id);
            }
            if ids.is_empty() {
                shared.sleeping += 1;
                shared = self.sleep(shared);
                shared.sleeping -= 1;
                continue;
            }
            // more work for the sleepers: wake one, which wakes the next
            if shared.sleeping > 0 && shared.state.ready_len() > 0 {
                self.wake.notify_one();
            }
            drop(shared);
            let guard = Unwinding {
                pool: self,
                ids: &ids,
            };
            results.clear();
            let mut begin = 0;
            // only batching needs the durations (and reading the clock
            // costs as much as a tiny task)
            let batch_start = (self.workers > 1).then(Instant::now);
            let mut run_batch = || {
                for (&id, &end) in ids.iter().zip(&ends) {
                    if self.failed.load(Ordering::Relaxed) || self.cancelled() {
                        break;
                    }
                    let result = self.run(
                        worker,
                        id,
                        inputs[begin..end].iter_mut().map(std::mem::take),
                    );
                    begin = end;
                    let failed = result.is_err();
                    results.push(result);
                    if failed {
                        self.failed.store(true, Ordering::Relaxed);
                        break;
                    }
                }
            };
            match self.batch_hook {
                Some(hook) => hook(&mut run_batch),
                None => run_batch(),
            }
            std::mem::forget(guard);
            if let Some(start) = batch_start {
                let per_task = start.elapsed().as_nanos() as f64 / results.len().max(1) as f64;
                task_ns = 0.5 * task_ns + 0.5 * per_task;
            }
            shared = self.lock();
            let ran = results.len();
            for (k, result) in results.drain(..).enumerate() {
                match result {
                    Ok(value) => shared.state.complete(ids[k], value, &mut |_| {}),
                    Err(e) => {
                        shared.state.fail(ids[k]);
                        if shared.error.is_none() {
                            shared.error = Some(e);
                        }
                    }
                }
            }
            // tasks of the batch left unrun after a failure
            for &id in &ids[ran..] {
                shared.state.fail(id);
            }
            if shared.state.is_over() {
                self.wake.notify_all();
            }
            if self.failed.load(Ordering::Relaxed) && !self.programs_ended.load(Ordering::Relaxed) {
                // the error is recorded (the first one wins): the running
                // tasks' programs end, so that those tasks end too
                drop(shared);
                self.end_programs();
                shared = self.lock();
            }
        }
        drop(shared);
        self.wake.notify_all();
    }

    /// Stops the run from outside (the cancel flag): no task starts, the
    /// error is [`ComputeError::Cancelled`] unless one came first, and the
    /// programs of the running tasks are ended (so that they end).
    fn stop(&self, shared: &mut Locked<'_, 'p>) {
        shared.state.stop();
        if shared.error.is_none() {
            shared.error = Some(ComputeError::Cancelled);
        }
        self.failed.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }

    /// Watches the cancel flag while workers run tasks (which see it only
    /// between tasks): when it is set, stops the run and ends the programs
    /// of the running tasks, so that a long `shell` task does not hold the
    /// run. Returns when the run is over.
    fn watch_cancel(&self) {
        loop {
            let mut shared = self.lock();
            if shared.state.is_over() {
                return;
            }
            if self.cancelled() {
                self.stop(&mut shared);
                drop(shared);
                self.end_programs();
                return;
            }
            drop(shared);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Ends the programs the run's `shell` tasks are running (once): the
    /// run failed or was cancelled, and its running tasks are to end.
    fn end_programs(&self) {
        if !self.programs_ended.swap(true, Ordering::Relaxed) {
            self.programs.end(programs::GRACE);
        }
    }

    /// A worker's loop, inside the worker hook if there is one.
    fn work(&self, worker: usize, hook: Option<&WorkerHook>) {
        // the programs `shell` starts on this thread are the run's
        self.programs.scope(|| match hook {
            Some(hook) => hook(worker, &mut || self.worker(worker)),
            None => self.worker(worker),
        })
    }

    fn run(
        &self,
        worker: usize,
        id: TaskId,
        inputs: impl Iterator<Item = Value>,
    ) -> Result<Value, ComputeError> {
        if self.callbacks.is_empty() {
            return run_task(self.graph, self.plan, id, inputs);
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
        let result = run_task(self.graph, self.plan, id, inputs);
        let ev = TaskEvent {
            end: Instant::now(),
            ..ev
        };
        match &result {
            Ok(_) => self.callbacks.iter().for_each(|c| c.task_finished(&ev)),
            Err(_) => self.callbacks.iter().for_each(|c| c.task_failed(&ev)),
        }
        result
    }
}

/// Fails the run if a worker unwinds while it runs a batch (a panicking
/// callback: task panics are caught), so that the other workers stop
/// instead of waiting for tasks that will never complete. Forgotten when
/// the batch returns normally.
struct Unwinding<'a, 'p, 'c> {
    pool: &'a Pool<'p, 'c>,
    ids: &'a [TaskId],
}

impl Drop for Unwinding<'_, '_, '_> {
    fn drop(&mut self) {
        self.pool.failed.store(true, Ordering::Relaxed);
        self.pool.end_programs();
        let mut shared = self.pool.lock();
        for &id in self.ids {
            shared.state.fail(id);
        }
        if let (None, Some(&id)) = (&shared.error, self.ids.first()) {
            let key = self.pool.graph.key(self.pool.plan.graph_id(id)).clone();
            shared.error = Some(ComputeError::Panic {
                key,
                message: "a callback panicked while a batch of tasks ran".into(),
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
        let workers = self.workers.min(plan.len().max(1));
        let pool = Pool {
            shared: Mutex::new(Shared {
                state: State::new(plan),
                sleeping: 0,
                error: None,
            }),
            held: Padded(AtomicBool::new(false)),
            spins: if workers <= cores() { SPINS } else { 0 },
            wake: Condvar::new(),
            graph,
            plan,
            callbacks,
            workers,
            failed: AtomicBool::new(false),
            cancel: self.cancel.as_deref(),
            batch_hook: self.batch_hook.as_ref(),
            programs: Programs::new(),
            programs_ended: AtomicBool::new(false),
        };
        let hook = self.hook.as_ref();
        let spawned = std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(workers);
            for w in 1..workers {
                let pool = &pool;
                let handle = std::thread::Builder::new()
                    .name(format!("rask-worker-{w}"))
                    .spawn_scoped(scope, move || pool.work(w, hook));
                match handle {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        pool.lock().state.stop();
                        pool.wake.notify_all();
                        return Err(e);
                    }
                }
            }
            if pool.cancel.is_some() {
                let pool = &pool;
                let watch = std::thread::Builder::new()
                    .name("rask-cancel".into())
                    .spawn_scoped(scope, move || pool.watch_cancel());
                if let Err(e) = watch {
                    pool.lock().state.stop();
                    pool.wake.notify_all();
                    return Err(e);
                }
            }
            pool.work(0, hook);
            Ok(())
        });
        // what the run's programs left in their groups ends with the run
        pool.programs.end(programs::GRACE);
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
