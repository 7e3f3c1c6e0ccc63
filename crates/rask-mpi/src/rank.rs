//! One rank's part of a computation: the loop that every rank runs, over
//! any [`Link`] that carries frames between ranks (MPI in
//! [`Mpi`](crate::Mpi), in-process channels in the tests).
//!
//! Every rank starts a pool of task threads, sends `Hello` (its graph
//! fingerprint) to rank 0, then serves messages: it runs the tasks it is
//! given once their inputs are here, pushes values to the ranks rank 0
//! names, frees what rank 0 says nobody needs, and reports finished tasks
//! in batches. Rank 0 does the same for its own share of the tasks and
//! also drives the [`Scheduler`]. At the end (or on the first failure, or
//! when the fingerprints differ) rank 0 sends `Stop` to every rank; each
//! drops its queued tasks, waits for its running ones, drops its values
//! and answers `Finished`; rank 0 returns once every rank has answered,
//! so that no task of this computation runs when `compute` returns on
//! rank 0, and every rank returns the same error.
//!
//! The programs that `shell` tasks of the run start on this rank are
//! recorded (see [`rask_graph::programs`]): the rank ends them when it
//! stops (so that a running task's program does not hold the stop) and
//! when the computation is over.
//!
//! Task threads never touch the link: they take jobs from a channel and
//! put results on another; the rank loop (the thread that called
//! `compute`) handles both, and the link's own thread does the MPI calls.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use rask_graph::programs::{self, Programs};
use rask_graph::{CallError, EvalError, Graph, Plan, TaskId, Value};
use rask_scheduler::{run_task, Callback, ComputeError, TaskEvent};

use crate::fingerprint::fingerprint;
use crate::scheduler::Scheduler;
use crate::store::Store;
use crate::wire::{self, Done, Failure, Frame, Msg};

/// A frame that arrived from another rank, with its payloads.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) source: u32,
    pub(crate) frame: Vec<u8>,
    pub(crate) payloads: Vec<crate::bytes::Body>,
}

/// How frames travel between the ranks.
pub(crate) trait Link: Sync {
    /// This rank.
    fn rank(&self) -> u32;
    /// How many ranks there are.
    fn size(&self) -> u32;
    /// Sends `frame` to rank `dest` (never this rank) without blocking.
    fn send(&self, dest: u32, frame: Frame);
    /// The frames that arrived; disconnected when the link died.
    fn inbox(&self) -> &Receiver<Incoming>;
}

/// What a rank keeps between computations: their count (the epoch of the
/// next message) and the messages of a computation it has not started yet.
#[derive(Debug, Default)]
pub(crate) struct Session {
    epoch: u32,
    early: Vec<(u32, Incoming)>,
    pub(crate) stats: TransferStats,
}

/// The values this rank received from other ranks, over every
/// computation so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TransferStats {
    /// How many `Data` messages arrived (each holds one or more values).
    pub messages: u64,
    /// How many values arrived.
    pub values: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// The total time from the sender starting to encode a message to this
    /// rank having decoded it (wall clocks: exact on one machine, skewed
    /// by the clock difference across machines).
    pub seconds: f64,
    /// The bytes and seconds of the largest message.
    pub largest_bytes: u64,
    /// See `largest_bytes`.
    pub largest_seconds: f64,
}

impl TransferStats {
    fn record(&mut self, values: usize, bytes: u64, sent_at: u64) {
        let seconds = now_nanos().saturating_sub(sent_at) as f64 * 1e-9;
        self.messages += 1;
        self.values += values as u64;
        self.bytes += bytes;
        self.seconds += seconds;
        if bytes >= self.largest_bytes {
            self.largest_bytes = bytes;
            self.largest_seconds = seconds;
        }
    }
}

/// Nanoseconds since the Unix epoch.
fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Tasks for the pool: a task and the chain of tasks that only wait for
/// it (each step's `None` inputs are the previous step's value), run one
/// after the other by one thread without a hand-off.
struct Job {
    steps: Vec<(TaskId, Vec<Option<Value>>)>,
}

/// A task the pool ran.
struct Ran {
    id: TaskId,
    result: Result<Value, ComputeError>,
    nanos: u64,
    thread: u32,
    /// The last step of its job (or a failed one, which ends the job).
    last: bool,
}

enum Event {
    Net(u32, Msg),
    Ran(Ran),
}

/// Runs this rank's part of computing `plan`; see the module docs. On
/// rank 0 returns the outputs; on other ranks an empty `Vec`; on every
/// rank the same error when the computation failed.
pub(crate) fn run(
    link: &dyn Link,
    session: &mut Session,
    graph: &Graph,
    plan: &Plan,
    threads: usize,
    callbacks: &[&dyn Callback],
) -> Result<Vec<Value>, ComputeError> {
    session.epoch = session.epoch.wrapping_add(1);
    let epoch = session.epoch;
    let mut backlog = VecDeque::new();
    let early = std::mem::take(&mut session.early);
    for (e, inc) in early {
        if e == epoch {
            backlog.push_back(inc);
        } else if e > epoch {
            session.early.push((e, inc));
        }
    }
    let threads = threads.max(1);
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (ran_tx, ran_rx) = crossbeam_channel::unbounded::<Ran>();
    // set when the run stops: jobs end between two steps
    let halt = AtomicBool::new(false);
    let started = Programs::new();
    let result = std::thread::scope(|scope| {
        for t in 0..threads {
            let jobs = job_rx.clone();
            let ran = ran_tx.clone();
            let halt = &halt;
            let started = &started;
            let spawned = std::thread::Builder::new()
                .name(format!("rask-mpi-worker-{t}"))
                .spawn_scoped(scope, move || {
                    started.scope(|| {
                        while let Ok(job) = jobs.recv() {
                            let mut prev: Option<Value> = None;
                            let n = job.steps.len();
                            for (k, (id, inputs)) in job.steps.into_iter().enumerate() {
                                if k > 0 && halt.load(Ordering::Relaxed) {
                                    let _ = ran.send(Ran {
                                        id,
                                        result: Err(stopped()),
                                        nanos: 0,
                                        thread: t as u32,
                                        last: true,
                                    });
                                    break;
                                }
                                let inputs = inputs
                                    .into_iter()
                                    .map(|v| v.or_else(|| prev.clone()).unwrap_or_default());
                                let start = Instant::now();
                                let result = run_task(graph, plan, id, inputs);
                                let nanos = start.elapsed().as_nanos() as u64;
                                let failed = result.is_err();
                                prev = result.as_ref().ok().cloned();
                                let r = Ran {
                                    id,
                                    result,
                                    nanos,
                                    thread: t as u32,
                                    last: failed || k + 1 == n,
                                };
                                if ran.send(r).is_err() || failed {
                                    break;
                                }
                            }
                        }
                    })
                });
            if let Err(e) = spawned {
                return Err(ComputeError::Executor {
                    executor: "mpi".into(),
                    message: format!("cannot start a task thread: {e}"),
                });
            }
        }
        drop(ran_tx);
        let rank = Rank {
            link,
            session,
            epoch,
            backlog,
            graph,
            plan,
            store: Store::new(plan),
            jobs: job_tx,
            queued: job_rx,
            ran: ran_rx,
            halt: &halt,
            programs: &started,
            running: 0,
            stopped: false,
            ready: Vec::new(),
        };
        let own = Msg::Hello {
            fingerprint: fingerprint(graph, plan),
            tasks: plan.len() as u64,
            threads: threads as u32,
        };
        if link.rank() == 0 {
            rank.root(own, callbacks)
        } else {
            rank.member(own)
        }
        // dropping `rank` closes the job channel: the threads end
    });
    // what the run's programs left in their groups ends with the run
    started.end(programs::GRACE);
    result
}

struct Rank<'a, 'p> {
    link: &'a dyn Link,
    session: &'a mut Session,
    epoch: u32,
    backlog: VecDeque<Incoming>,
    graph: &'p Graph,
    plan: &'p Plan,
    store: Store<'p>,
    jobs: Sender<Job>,
    /// The job queue, to drop what was not started when the run stops.
    queued: Receiver<Job>,
    ran: Receiver<Ran>,
    halt: &'a AtomicBool,
    /// The programs the run's `shell` tasks started here.
    programs: &'a Programs,
    /// Jobs given to the pool and not back.
    running: usize,
    stopped: bool,
    ready: Vec<TaskId>,
}

impl Rank<'_, '_> {
    fn send(&self, dest: u32, msg: &Msg) -> Result<(), Failure> {
        let frame = wire::encode(self.epoch, msg)?;
        self.link.send(dest, frame);
        Ok(())
    }

    /// Sends a message that holds no value (so it always encodes).
    fn tell(&self, dest: u32, msg: &Msg) {
        if let Err(f) = self.send(dest, msg) {
            unreachable!("a message without values failed to encode: {f:?}");
        }
    }

    fn submit(&mut self, id: TaskId) {
        let inputs = self.store.inputs(id).into_iter().map(Some).collect();
        self.submit_job(vec![(id, inputs)]);
    }

    fn submit_job(&mut self, steps: Vec<(TaskId, Vec<Option<Value>>)>) {
        if !steps.is_empty() && self.jobs.send(Job { steps }).is_ok() {
            self.running += 1;
        }
    }

    fn submit_ready(&mut self) {
        let ready = std::mem::take(&mut self.ready);
        for &id in &ready {
            self.submit(id);
        }
        self.ready = ready;
        self.ready.clear();
    }

    fn on_run(&mut self, ids: &[TaskId]) {
        if self.stopped {
            return;
        }
        // a task whose inputs are all here starts a job; the tasks after
        // it that only wait for the job's last task join the job (rank 0
        // sends a claimed chain in order)
        let mut job: Vec<(TaskId, Vec<Option<Value>>)> = Vec::new();
        for &id in ids {
            if let Some(&(prev, _)) = job.last() {
                if let Some(inputs) = self.store.assign_after(id, prev) {
                    job.push((id, inputs));
                    continue;
                }
            }
            if self.store.assign(id) {
                let job = std::mem::replace(
                    &mut job,
                    vec![(id, self.store.inputs(id).into_iter().map(Some).collect())],
                );
                self.submit_job(job);
            }
        }
        self.submit_job(job);
    }

    /// Sends the values `ids` to rank `to`.
    fn on_push(&mut self, to: u32, ids: &[TaskId]) -> Result<(), Failure> {
        let mut values = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.store.get(id) {
                Some(v) => values.push((id, v.clone())),
                None => {
                    return Err(Failure::Run {
                        message: format!(
                            "rank {} was asked to send the value of {:?}, which it does not hold",
                            self.link.rank(),
                            self.key(id)
                        ),
                    })
                }
            }
        }
        self.send(
            to,
            &Msg::Data {
                sent_at: now_nanos(),
                values,
            },
        )
    }

    fn on_data(&mut self, values: Vec<(TaskId, Value)>) {
        if self.stopped {
            return;
        }
        for (id, v) in values {
            self.store.insert(id, v, &mut self.ready);
        }
        self.submit_ready();
    }

    fn on_free(&mut self, ids: &[TaskId]) {
        for &id in ids {
            self.store.free(id);
        }
    }

    /// A task of the pool is back: its report to rank 0, `None` once the
    /// run stopped.
    fn on_ran(&mut self, ran: Ran) -> Option<Result<Done, Failure>> {
        if ran.last {
            self.running -= 1;
        }
        if self.stopped {
            return None;
        }
        Some(match ran.result {
            Ok(v) => {
                let done = Done {
                    id: ran.id,
                    bytes: crate::size::approx_bytes(&v),
                    nanos: ran.nanos,
                    thread: ran.thread,
                };
                self.store.insert(ran.id, v, &mut self.ready);
                self.submit_ready();
                Ok(done)
            }
            Err(e) => Err(failure_of(ran.id, e)),
        })
    }

    /// Stops: drops the queued jobs and every value, and ends the
    /// programs of the running tasks (so that those end).
    fn stop(&mut self) {
        self.stopped = true;
        self.halt.store(true, Ordering::Relaxed);
        while self.queued.try_recv().is_ok() {
            self.running -= 1;
        }
        self.store.clear();
        if self.running > 0 {
            self.programs.end(programs::GRACE);
        }
    }

    fn key(&self, id: TaskId) -> &rask_graph::Key {
        self.graph.key(self.plan.graph_id(id))
    }

    /// The next event of this computation: `None` when nothing is waiting
    /// and `block` is false. Messages of an earlier computation are
    /// dropped, those of a later one kept for it.
    fn next(&mut self, block: bool) -> Result<Option<Event>, ComputeError> {
        loop {
            let inc = if let Some(inc) = self.backlog.pop_front() {
                inc
            } else if let Ok(ran) = self.ran.try_recv() {
                return Ok(Some(Event::Ran(ran)));
            } else {
                match self.link.inbox().try_recv() {
                    Ok(inc) => inc,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => return Err(link_died()),
                    Err(crossbeam_channel::TryRecvError::Empty) if !block => return Ok(None),
                    Err(crossbeam_channel::TryRecvError::Empty) => {
                        crossbeam_channel::select! {
                            recv(self.ran) -> ran => match ran {
                                Ok(ran) => return Ok(Some(Event::Ran(ran))),
                                Err(_) => return Err(link_died()),
                            },
                            recv(self.link.inbox()) -> inc => match inc {
                                Ok(inc) => inc,
                                Err(_) => return Err(link_died()),
                            },
                        }
                    }
                }
            };
            let source = inc.source;
            let malformed = |e: wire::Malformed| ComputeError::Executor {
                executor: "mpi".into(),
                message: format!("rank {}: from rank {source}: {e}", self.link.rank()),
            };
            let epoch = wire::epoch(&inc.frame)
                .ok_or_else(|| malformed(wire::Malformed("a frame without epoch".into())))?;
            if epoch == self.epoch {
                let bytes = inc.frame.len() as u64
                    + inc.payloads.iter().map(|p| p.len() as u64).sum::<u64>();
                // the payloads become the values: decoded once, not copied
                let (_, msg) = wire::decode(&inc.frame, inc.payloads).map_err(malformed)?;
                if let Msg::Data { sent_at, values } = &msg {
                    self.session.stats.record(values.len(), bytes, *sent_at);
                }
                return Ok(Some(Event::Net(source, msg)));
            }
            if epoch.wrapping_sub(self.epoch) < u32::MAX / 2 {
                self.session.early.push((epoch, inc));
            }
        }
    }

    /// The loop of a rank other than 0.
    fn member(mut self, hello: Msg) -> Result<Vec<Value>, ComputeError> {
        self.tell(0, &hello);
        let mut outcome: Option<Result<Vec<Value>, ComputeError>> = None;
        let mut done: Vec<Done> = Vec::new();
        loop {
            if outcome.is_some() && self.running == 0 {
                self.tell(0, &Msg::Finished);
                return outcome.unwrap_or(Ok(Vec::new()));
            }
            let mut event = self.next(true)?;
            while let Some(ev) = event {
                match ev {
                    Event::Net(_, msg) => match msg {
                        Msg::Run { ids } => self.on_run(&ids),
                        Msg::Push { to, ids } => {
                            if let Err(failure) = self.on_push(to, &ids) {
                                self.tell(0, &Msg::Failed { failure });
                            }
                        }
                        Msg::Data { values, .. } => self.on_data(values),
                        Msg::Free { ids } => self.on_free(&ids),
                        Msg::Stop { failure } => {
                            self.stop();
                            done.clear();
                            outcome = Some(match failure {
                                None => Ok(Vec::new()),
                                Some(f) => Err(error_of(&f, self.graph, self.plan)),
                            });
                        }
                        Msg::Hello { .. } | Msg::Done { .. } | Msg::Failed { .. } => {}
                        Msg::Finished => {}
                    },
                    Event::Ran(ran) => match self.on_ran(ran) {
                        Some(Ok(d)) => done.push(d),
                        Some(Err(failure)) => self.tell(0, &Msg::Failed { failure }),
                        None => {}
                    },
                }
                event = self.next(false)?;
            }
            if !done.is_empty() {
                let items = std::mem::take(&mut done);
                self.tell(0, &Msg::Done { items });
            }
        }
    }

    /// The loop of rank 0: schedules, runs its share, gathers the outputs.
    fn root(mut self, hello: Msg, callbacks: &[&dyn Callback]) -> Result<Vec<Value>, ComputeError> {
        let size = self.link.size() as usize;
        let mut hellos: Vec<Option<(u64, u64, u32)>> = vec![None; size];
        if let Msg::Hello {
            fingerprint,
            tasks,
            threads,
        } = hello
        {
            hellos[0] = Some((fingerprint, tasks, threads));
        }
        while hellos.iter().any(Option::is_none) {
            if let Some(Event::Net(
                source,
                Msg::Hello {
                    fingerprint,
                    tasks,
                    threads,
                },
            )) = self.next(true)?
            {
                hellos[source as usize] = Some((fingerprint, tasks, threads));
            }
        }
        let hellos: Vec<(u64, u64, u32)> = hellos.into_iter().flatten().collect();
        let mut failure = mismatch(&hellos).map(|message| Failure::Run { message });
        let mut outputs = Vec::new();
        if failure.is_none() {
            match self.schedule(&hellos, callbacks) {
                Ok(values) => outputs = values,
                Err(f) => failure = Some(f),
            }
        }
        // stop every rank and wait until none runs a task of this run
        let stop = Msg::Stop {
            failure: failure.clone(),
        };
        for r in 1..size as u32 {
            self.tell(r, &stop);
        }
        self.stop();
        let mut finished = 1;
        while finished < size || self.running > 0 {
            match self.next(true)? {
                Some(Event::Net(_, Msg::Finished)) => finished += 1,
                Some(Event::Ran(ran)) => {
                    self.on_ran(ran);
                }
                Some(Event::Net(..)) | None => {}
            }
        }
        match failure {
            None => Ok(outputs),
            Some(f) => Err(error_of(&f, self.graph, self.plan)),
        }
    }

    /// Runs the plan to its end or first failure; the outputs, gathered.
    fn schedule(
        &mut self,
        hellos: &[(u64, u64, u32)],
        callbacks: &[&dyn Callback],
    ) -> Result<Vec<Value>, Failure> {
        let threads: Vec<u32> = hellos.iter().map(|h| h.2).collect();
        // the first callback worker number of each rank
        let mut first_worker = Vec::with_capacity(threads.len());
        let mut total = 0_usize;
        for &t in &threads {
            first_worker.push(total);
            total += t as usize;
        }
        let mut sched = Scheduler::new(self.plan, threads);
        let mut messages: Vec<(u32, Msg)> = Vec::new();
        loop {
            sched.dispatch();
            if !callbacks.is_empty() {
                let now = Instant::now();
                for (id, rank) in sched.take_dispatched() {
                    let ev = TaskEvent {
                        id,
                        key: self.graph.key(self.plan.graph_id(id)),
                        worker: first_worker[rank as usize],
                        start: now,
                        end: now,
                    };
                    callbacks.iter().for_each(|c| c.task_started(&ev));
                }
            } else {
                sched.take_dispatched();
            }
            sched.take_messages(&mut |r, m| messages.push((r, m)));
            for (r, msg) in messages.drain(..) {
                if r != 0 {
                    self.tell(r, &msg);
                    continue;
                }
                match msg {
                    Msg::Run { ids } => self.on_run(&ids),
                    Msg::Push { to, ids } => {
                        if let Err(f) = self.on_push(to, &ids) {
                            sched.failed(0, f);
                        }
                    }
                    Msg::Free { ids } => self.on_free(&ids),
                    _ => {}
                }
            }
            if let Some(f) = sched.failure() {
                return Err(f.clone());
            }
            if sched.is_finished()
                && self
                    .plan
                    .outputs()
                    .iter()
                    .all(|&o| self.store.get(o).is_some())
            {
                return Ok(self
                    .plan
                    .outputs()
                    .iter()
                    .filter_map(|&o| self.store.get(o).cloned())
                    .collect());
            }
            let mut event = self.next(true).map_err(|e| Failure::Run {
                message: e.to_string(),
            })?;
            while let Some(ev) = event {
                match ev {
                    Event::Net(source, Msg::Done { items }) => {
                        for d in &items {
                            sched.done(source, d);
                        }
                        self.finished_callbacks(callbacks, source, &items, &first_worker);
                    }
                    Event::Net(source, Msg::Failed { failure }) => {
                        self.failed_callbacks(callbacks, source, &failure, &first_worker);
                        sched.failed(source, failure);
                    }
                    Event::Net(_, Msg::Data { values, .. }) => self.on_data(values),
                    Event::Net(..) => {}
                    Event::Ran(ran) => match self.on_ran(ran) {
                        Some(Ok(d)) => {
                            sched.done(0, &d);
                            self.finished_callbacks(callbacks, 0, &[d], &first_worker);
                        }
                        Some(Err(f)) => {
                            self.failed_callbacks(callbacks, 0, &f, &first_worker);
                            sched.failed(0, f);
                        }
                        None => {}
                    },
                }
                event = self.next(false).map_err(|e| Failure::Run {
                    message: e.to_string(),
                })?;
            }
        }
    }

    /// `task_failed` for a failed task (when the failure is a task's).
    fn failed_callbacks(
        &self,
        callbacks: &[&dyn Callback],
        rank: u32,
        failure: &Failure,
        first_worker: &[usize],
    ) {
        let id = match failure {
            Failure::Task { id, .. } | Failure::Panic { id, .. } | Failure::Codec { id, .. } => *id,
            Failure::Run { .. } => return,
        };
        if callbacks.is_empty() || id as usize >= self.plan.len() {
            return;
        }
        let now = Instant::now();
        let ev = TaskEvent {
            id,
            key: self.key(id),
            worker: first_worker[rank as usize],
            start: now,
            end: now,
        };
        callbacks.iter().for_each(|c| c.task_failed(&ev));
    }

    fn finished_callbacks(
        &self,
        callbacks: &[&dyn Callback],
        rank: u32,
        items: &[Done],
        first_worker: &[usize],
    ) {
        if callbacks.is_empty() {
            return;
        }
        let end = Instant::now();
        for d in items {
            let ev = TaskEvent {
                id: d.id,
                key: self.key(d.id),
                worker: first_worker[rank as usize] + d.thread as usize,
                start: end - Duration::from_nanos(d.nanos),
                end,
            };
            callbacks.iter().for_each(|c| c.task_finished(&ev));
        }
    }
}

/// Why the ranks' graphs differ, if they do.
fn mismatch(hellos: &[(u64, u64, u32)]) -> Option<String> {
    let (fp0, n0, _) = hellos[0];
    let differ: Vec<String> = hellos
        .iter()
        .enumerate()
        .filter(|(_, h)| h.0 != fp0)
        .map(|(r, h)| format!("rank {r} has {:016x} ({} tasks)", h.0, h.1))
        .collect();
    if differ.is_empty() {
        return None;
    }
    Some(format!(
        "the ranks built different graphs: rank 0 has fingerprint {fp0:016x} ({n0} tasks), {}; \
         every rank must build the same graph with the same keys and functions \
         (deterministic keys, no randomness or rank-dependent tasks) and compute the same keys",
        differ.join(", ")
    ))
}

fn stopped() -> ComputeError {
    ComputeError::Executor {
        executor: "mpi".into(),
        message: "the run stopped".into(),
    }
}

fn link_died() -> ComputeError {
    ComputeError::Executor {
        executor: "mpi".into(),
        message: "the MPI communication thread stopped".into(),
    }
}

/// The failure of task `id` as it travels between ranks.
fn failure_of(id: TaskId, e: ComputeError) -> Failure {
    match e {
        ComputeError::Task { error, .. } => match error {
            EvalError::Call { function, error } => Failure::Task {
                id,
                function,
                message: error.to_string(),
            },
            other => Failure::Task {
                id,
                function: String::new(),
                message: other.to_string(),
            },
        },
        ComputeError::Panic { message, .. } => Failure::Panic { id, message },
        other => Failure::Codec {
            id,
            message: other.to_string(),
        },
    }
}

/// The error every rank returns for `f`.
pub(crate) fn error_of(f: &Failure, graph: &Graph, plan: &Plan) -> ComputeError {
    let key = |id: TaskId| graph.key(plan.graph_id(id)).clone();
    match f {
        Failure::Task {
            id,
            function,
            message,
        } => ComputeError::Task {
            key: key(*id),
            error: if function.is_empty() {
                EvalError::MissingInput
            } else {
                EvalError::Call {
                    function: function.clone(),
                    error: CallError::msg(message),
                }
            },
        },
        Failure::Panic { id, message } => ComputeError::Panic {
            key: key(*id),
            message: message.clone(),
        },
        Failure::Codec { id, message } => ComputeError::Codec {
            key: key(*id),
            message: message.clone(),
        },
        Failure::Run { message } => ComputeError::Executor {
            executor: "mpi".into(),
            message: message.clone(),
        },
    }
}

#[cfg(test)]
mod tests;
