//! The `processes` executor: a pool of worker processes forked from the
//! program after the graph is built, so every function and closure is
//! already in each worker's memory. Only task ids and values cross, values
//! in the binary form of [`rask_graph::codec`] over pipes ("ship keys, not
//! code").
//!
//! Use it for isolation: a task that crashes, aborts or leaks takes down
//! one worker, not the run. A worker that dies is noticed at once (its
//! pipe closes); the run fails with an error naming the task it was
//! running (a word of memory shared with the scheduler tells which, also
//! inside a batch) and how it died, and the other workers' tasks are ended
//! — or, when [`Processes::retries`] allows, its tasks run again on a
//! fresh worker, the results it held computed again. When
//! the run ends, errs or is interrupted (the workers get `SIGTERM` when the
//! program dies and kill their process group), no worker and no program a
//! task started is left behind: each worker is a child subreaper, so the
//! programs that leave its process group (`setsid`, double forks) stay in
//! its tree, which is ended with it (see [`reaper`], which also serves a
//! program that wants the same for its own process).
//!
//! ```no_run
//! use rask::{graph, Value};
//! use rask::Executor;
//! use rask::Processes;
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x") };
//! assert_eq!(Processes::new(2).get(&g, "y").unwrap(), Value::Int(2));
//! ```
//!
//! # Fork safety
//!
//! Only the forking thread exists in a worker, and a lock another thread
//! held at the fork stays locked there. [`Executor::prepare`] forks the
//! pool before any callback starts (progress bars and monitors start
//! threads), from the calling thread; a program's own threads must not
//! hold, at that moment, a lock that tasks take. Replacing a dead worker
//! forks again in the middle of the run, under the same rule.
//!
//! Tasks that call no function (literals, aliases, lists) are evaluated by
//! the scheduler itself: they run no user code and would cost a round trip
//! each. Tiny tasks are sent in batches (a share of the ready tasks,
//! shrinking as they do), so that a fan of small tasks does not pay one
//! round trip per task.

#![deny(missing_docs, missing_debug_implementations)]

mod cgroup;
mod frame;
mod pool;
pub mod reaper;
mod worker;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rask_graph::{codec, CallError, EvalError, Graph, Plan, Task, TaskId, Value};
use rask_scheduler::{run_task, Callback, ComputeError, Executor, State, TaskEvent};

use frame::{BatchWriter, Cursor, Input, Outcome};
use pool::Pool;

/// Runs tasks in a pool of forked worker processes.
#[derive(Debug)]
pub struct Processes {
    workers: usize,
    retries: u32,
    /// The pool forked by `prepare`, taken by `execute`.
    prepared: Mutex<Option<Pool>>,
}

impl Processes {
    /// A pool of `workers` processes (at least one).
    pub fn new(workers: usize) -> Processes {
        Processes {
            workers: workers.max(1),
            retries: 0,
            prepared: Mutex::new(None),
        }
    }

    /// Runs a task again, on a fresh worker, up to `n` times when its
    /// worker dies running it (default 0: the run fails naming it). The
    /// other tasks of the dead worker's batch (a chain whose results died
    /// with it) run again too, without counting against their own `n`.
    pub fn retries(mut self, n: u32) -> Processes {
        self.retries = n;
        self
    }
}

impl Default for Processes {
    /// As many workers as the machine has cores.
    fn default() -> Processes {
        Processes::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// The most tasks sent to a worker at once.
const MAX_BATCH: usize = 64;
/// Tasks shorter than this on average are sent in batches.
const BATCH_BELOW_NS: f64 = 50_000.0;

fn start_error(e: std::io::Error) -> ComputeError {
    ComputeError::Executor {
        executor: "processes".into(),
        message: format!("cannot start a worker process: {e}"),
    }
}

/// Whether a task calls no function (evaluated by the scheduler).
fn is_data(task: &Task) -> bool {
    let mut stack = vec![task];
    while let Some(t) = stack.pop() {
        match t {
            Task::Call(..) => return false,
            Task::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    true
}

/// Checks, before anything runs, that literal values can cross to a
/// worker: a literal without a codec that a worker task needs is an error
/// naming its key and type.
fn check_literals(graph: &Graph, plan: &Plan, data: &[bool]) -> Result<(), ComputeError> {
    for id in 0..plan.len() as TaskId {
        if !data[id as usize] || plan.dependents().of(id).iter().all(|&d| data[d as usize]) {
            continue;
        }
        let mut stack = vec![graph.task(plan.graph_id(id))];
        while let Some(t) = stack.pop() {
            match t {
                Task::Value(Value::Opaque(v)) | Task::Quote(Value::Opaque(v))
                    if !codec::has_codec(v.as_ref()) =>
                {
                    let e = codec::NoCodec {
                        type_name: v.as_ref().type_name(),
                    };
                    return Err(ComputeError::Codec {
                        key: graph.key(plan.graph_id(id)).clone(),
                        message: format!("its value cannot cross to a worker process: {e}"),
                    });
                }
                Task::List(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
    }
    Ok(())
}

impl Executor for Processes {
    fn name(&self) -> &str {
        "processes"
    }

    fn workers(&self) -> usize {
        self.workers
    }

    fn prepare(&self, graph: &Graph, plan: &Plan) -> Result<(), ComputeError> {
        let pool = Pool::start(graph, plan, self.workers).map_err(start_error)?;
        *self.prepared.lock().unwrap_or_else(|e| e.into_inner()) = Some(pool);
        Ok(())
    }

    fn execute(
        &self,
        graph: &Graph,
        plan: &Plan,
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<Value>, ComputeError> {
        let data: Vec<bool> = (0..plan.len() as TaskId)
            .map(|id| is_data(graph.task(plan.graph_id(id))))
            .collect();
        let prepared = self
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let prepared = prepared.filter(|p| p.made_for == pool::identity(graph, plan));
        check_literals(graph, plan, &data)?;
        let mut pool = match prepared {
            Some(p) => p,
            None => Pool::start(graph, plan, self.workers).map_err(start_error)?,
        };
        let mut run = Run {
            graph,
            plan,
            callbacks,
            data: &data,
            state: State::new(plan),
            error: None,
            attempts: vec![0; if self.retries > 0 { plan.len() } else { 0 }],
            retries: self.retries,
            task_ns: BATCH_BELOW_NS,
        };
        let result = run.drive(&mut pool);
        drop(pool);
        result?;
        if let Some(e) = run.error {
            return Err(e);
        }
        Ok(run.state.into_outputs())
    }
}

/// One computation on a pool.
struct Run<'a> {
    graph: &'a Graph,
    plan: &'a Plan,
    callbacks: &'a [&'a dyn Callback],
    data: &'a [bool],
    state: State<'a, Value>,
    error: Option<ComputeError>,
    attempts: Vec<u32>,
    retries: u32,
    /// A running average of the time a task takes in a worker.
    task_ns: f64,
}

impl Run<'_> {
    fn key(&self, id: TaskId) -> &rask_graph::Key {
        self.graph.key(self.plan.graph_id(id))
    }

    fn fail(&mut self, id: TaskId, e: ComputeError) {
        self.state.fail(id);
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// The scheduling loop: hand out work, wait for results, until done.
    fn drive(&mut self, pool: &mut Pool) -> Result<(), ComputeError> {
        let mut writer = BatchWriter::default();
        let mut buf = Vec::new();
        loop {
            if self.error.is_none() {
                self.dispatch(pool, &mut writer)?;
            }
            let busy = pool.workers.iter().any(|w| !w.batch.is_empty());
            if !busy {
                if self.state.is_over() {
                    return Ok(());
                }
                if self.state.ready_len() > 0 && self.error.is_none() {
                    continue;
                }
                return Err(ComputeError::Executor {
                    executor: "processes".into(),
                    message: "no task can run and none is running (scheduler bug)".into(),
                });
            }
            let readable =
                pool.wait(Duration::from_millis(250))
                    .map_err(|e| ComputeError::Executor {
                        executor: "processes".into(),
                        message: format!("cannot wait for workers: {e}"),
                    })?;
            if readable.is_empty() {
                // no result for a while: check that the busy workers live
                for i in 0..pool.workers.len() {
                    if !pool.workers[i].batch.is_empty() {
                        if let Some(how) = pool.exited(i) {
                            self.worker_died(pool, i, how)?;
                        }
                    }
                }
                continue;
            }
            for i in readable {
                let w = &mut pool.workers[i];
                match frame::receive(&mut w.from, &mut buf) {
                    Ok(Some(())) => self.results(pool, i, &buf),
                    Ok(None) | Err(_) => {
                        let how = pool.reap(i);
                        self.worker_died(pool, i, how)?;
                    }
                }
            }
        }
    }

    /// Gives idle workers batches of ready tasks; evaluates data tasks.
    fn dispatch(&mut self, pool: &mut Pool, writer: &mut BatchWriter) -> Result<(), ComputeError> {
        let n = pool.workers.len();
        for i in 0..n {
            if !pool.workers[i].batch.is_empty() {
                continue;
            }
            let want = if self.task_ns < BATCH_BELOW_NS {
                (self.state.ready_len() / (2 * n)).clamp(1, MAX_BATCH)
            } else {
                1
            };
            writer.clear();
            let mut batch = std::mem::take(&mut pool.workers[i].batch);
            while batch.len() < want && self.error.is_none() {
                let Some(id) = self.state.pop_ready() else {
                    break;
                };
                if self.data[id as usize] {
                    let inputs: Vec<Value> = self.state.inputs(id).cloned().collect();
                    match run_task(self.graph, self.plan, id, inputs.into_iter()) {
                        Ok(v) => self.state.complete(id, v, &mut |_| {}),
                        Err(e) => self.fail(id, e),
                    }
                    continue;
                }
                if let Err(e) = writer.push(id, self.state.inputs(id).map(Input::Value)) {
                    let e = ComputeError::Codec {
                        key: self.key(id).clone(),
                        message: format!("an input cannot cross to a worker process: {e}"),
                    };
                    self.fail(id, e);
                    break;
                }
                batch.push(id);
                // a chain: the task this one leads to runs next in the
                // same worker, its input handed over there, no round trip
                let mut last = id;
                while batch.len() < MAX_BATCH {
                    let Some(next) = self.state.claim_next(last) else {
                        break;
                    };
                    let inputs: Vec<Input<'_>> = self
                        .plan
                        .deps()
                        .of(next)
                        .iter()
                        .map(|&x| match batch.iter().position(|&b| b == x) {
                            Some(item) => Input::Earlier(item as u32),
                            None => Input::Value(self.state.value(x)),
                        })
                        .collect();
                    if let Err(e) = writer.push(next, inputs.into_iter()) {
                        let e = ComputeError::Codec {
                            key: self.key(next).clone(),
                            message: format!("an input cannot cross to a worker process: {e}"),
                        };
                        self.fail(next, e);
                        break;
                    }
                    batch.push(next);
                    last = next;
                }
            }
            if batch.is_empty() {
                continue;
            }
            if self.error.is_some() {
                for &id in &batch {
                    self.state.fail(id);
                }
                continue;
            }
            let now = Instant::now();
            for &id in &batch {
                let key = self.graph.key(self.plan.graph_id(id));
                let ev = TaskEvent {
                    id,
                    key,
                    worker: i,
                    start: now,
                    end: now,
                };
                self.callbacks.iter().for_each(|c| c.task_started(&ev));
            }
            pool.workers[i].batch = batch;
            if pool.send(i, &writer.bytes).is_err() {
                // the worker died before reading: a closed pipe
                let how = pool.reap(i);
                self.worker_died(pool, i, how)?;
            }
        }
        Ok(())
    }

    /// Records the results a worker sent.
    fn results(&mut self, pool: &mut Pool, i: usize, frame: &[u8]) {
        let batch = std::mem::take(&mut pool.workers[i].batch);
        let elapsed = pool.workers[i].sent.elapsed();
        let sent = pool.workers[i].sent;
        let now = Instant::now();
        let mut c = Cursor::new(frame);
        let count = c.u32().unwrap_or(0) as usize;
        let mut done = 0;
        for _ in 0..count {
            let Ok((id, span, outcome)) = frame::read_outcome(&mut c) else {
                break;
            };
            if !batch.contains(&id) {
                break;
            }
            done += 1;
            let key = self.key(id).clone();
            // the worker's clock started when it got the batch, a pipe
            // transfer after `sent`: close enough for a timeline
            let at = |ns: u64| (sent + Duration::from_nanos(ns)).min(now);
            let ev = TaskEvent {
                id,
                key: &key,
                worker: i,
                start: at(span.start_ns),
                end: at(span.end_ns),
            };
            if matches!(outcome, Outcome::Value(_)) {
                self.callbacks.iter().for_each(|cb| cb.task_finished(&ev));
            } else {
                self.callbacks.iter().for_each(|cb| cb.task_failed(&ev));
            }
            match outcome {
                Outcome::Value(bytes) => match codec::from_bytes(&bytes) {
                    Ok(v) => self.state.complete(id, v, &mut |_| {}),
                    Err(e) => self.fail(
                        id,
                        ComputeError::Codec {
                            key,
                            message: format!("its value did not decode: {e}"),
                        },
                    ),
                },
                Outcome::Failed { function, message } => self.fail(
                    id,
                    ComputeError::Task {
                        key,
                        error: EvalError::Call {
                            function,
                            error: CallError::msg(message),
                        },
                    },
                ),
                Outcome::Panicked(message) => self.fail(id, ComputeError::Panic { key, message }),
                Outcome::Codec(message) => self.fail(id, ComputeError::Codec { key, message }),
            }
        }
        // tasks of the batch after a failure were not run
        for &id in &batch[done.min(batch.len())..] {
            self.state.fail(id);
            if self.error.is_none() {
                self.error = Some(ComputeError::Executor {
                    executor: "processes".into(),
                    message: format!("worker {i} sent a malformed result"),
                });
            }
        }
        let per_task = elapsed.as_nanos() as f64 / batch.len().max(1) as f64;
        self.task_ns = 0.5 * self.task_ns + 0.5 * per_task;
        if self.error.is_some() {
            self.stop_others(pool);
        }
    }

    /// Kills the workers still running tasks: the run failed, so their
    /// tasks are stopped now rather than when they end.
    fn stop_others(&self, pool: &Pool) {
        for (j, w) in pool.workers.iter().enumerate() {
            if !w.batch.is_empty() {
                pool.kill(j);
            }
        }
    }

    /// Worker `i` died running its batch. The task it was running (it
    /// says which in memory shared with the scheduler) is the one that
    /// died: when its retries allow, the whole batch goes back (the
    /// results of its earlier tasks were lost with the worker; a task
    /// claimed behind one not computed waits for it again) and a fresh
    /// worker takes over; otherwise the run fails naming that task's key
    /// and how the worker died, and the other workers' tasks are ended.
    fn worker_died(&mut self, pool: &mut Pool, i: usize, how: String) -> Result<(), ComputeError> {
        let batch = std::mem::take(&mut pool.workers[i].batch);
        let pid = pool.workers[i].pid;
        let started = pool.workers[i].running.get();
        if let Some(&first) = batch.first() {
            let culprit = started.filter(|id| batch.contains(id)).unwrap_or(first);
            let retry = self.error.is_none()
                && self
                    .attempts
                    .get(culprit as usize)
                    .is_some_and(|&a| a < self.retries);
            if retry {
                self.attempts[culprit as usize] += 1;
                for &id in &batch {
                    self.state.requeue(id);
                }
            } else if self.error.is_some() {
                // killed by us after another task failed
                for &id in &batch {
                    self.state.fail(id);
                }
            } else {
                let key = self.key(culprit).clone();
                for &id in batch.iter().filter(|&&id| id != culprit) {
                    self.state.fail(id);
                }
                self.fail(
                    culprit,
                    ComputeError::WorkerDied {
                        key,
                        worker: format!("{i} (pid {pid})"),
                        how,
                    },
                );
                self.stop_others(pool);
            }
        }
        if self.error.is_none() {
            let fresh = pool
                .fork_worker(self.graph, self.plan)
                .map_err(start_error)?;
            let old = std::mem::replace(&mut pool.workers[i], fresh);
            drop(old);
        }
        Ok(())
    }
}
