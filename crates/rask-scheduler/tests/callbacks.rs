//! Callback order on every local executor: `start` once, before anything;
//! `task_started` and `task_finished` once per task of the plan
//! (`plan.len()` of each, keys included), each task's start before its
//! end; `finish` once, last, with `None` on success and with the error on
//! failure (then no task of the plan is left half-reported: every finished
//! task had started, the failing one started and did not finish). Several
//! callbacks all see every event; worker indices are below `workers`.
//! When a graph error stops the run before the plan exists no hook runs.
//! A panicking hook: `finish` still runs, once, for every callback whose
//! `start` ran (`Sync`; the `threads` case is in `tests/threads.rs`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rask_graph::{graph, Graph, Key, Registry, Task, TaskId};
use rask_scheduler::{
    get_with, Callback, ComputeError, Executor, RunInfo, Sync, TaskEvent, Threads,
};

fn executors() -> Vec<(&'static str, Box<dyn Executor>)> {
    vec![
        ("sync", Box::new(Sync)),
        ("threads-1", Box::new(Threads::new(1))),
        ("threads-3", Box::new(Threads::new(3))),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Start {
        tasks: usize,
        workers: usize,
        executor: String,
    },
    Started(TaskId, Key, usize),
    Finished(TaskId, Key, usize),
    Finish(Option<String>),
}

/// Records every event in order.
#[derive(Debug, Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Callback for Recorder {
    fn start(&self, info: &RunInfo<'_>) {
        self.events.lock().unwrap().push(Event::Start {
            tasks: info.plan.len(),
            workers: info.workers,
            executor: info.executor.to_string(),
        });
    }
    fn task_started(&self, ev: &TaskEvent<'_>) {
        assert_eq!(ev.start, ev.end, "task_started has end == start");
        self.events
            .lock()
            .unwrap()
            .push(Event::Started(ev.id, ev.key.clone(), ev.worker));
    }
    fn task_finished(&self, ev: &TaskEvent<'_>) {
        assert!(ev.end >= ev.start);
        self.events
            .lock()
            .unwrap()
            .push(Event::Finished(ev.id, ev.key.clone(), ev.worker));
    }
    fn finish(&self, error: Option<&ComputeError>) {
        self.events
            .lock()
            .unwrap()
            .push(Event::Finish(error.map(ToString::to_string)));
    }
}

/// The events of each worker in the order it reported them (`start` and
/// `finish` under worker `usize::MAX`).
fn per_worker(events: &[Event]) -> BTreeMap<usize, Vec<Event>> {
    let mut by: BTreeMap<usize, Vec<Event>> = BTreeMap::new();
    for e in events {
        let w = match e {
            Event::Started(_, _, w) | Event::Finished(_, _, w) => *w,
            Event::Start { .. } | Event::Finish(_) => usize::MAX,
        };
        by.entry(w).or_default().push(e.clone());
    }
    by
}

impl Recorder {
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

/// Per task id: its key, how often it started and how often it finished.
type Seen = BTreeMap<TaskId, (Key, usize, usize)>;

/// Checks the shape of one run's events; returns what each task did, the
/// plan's length and the finish outcome.
fn check_events(
    name: &str,
    events: &[Event],
    executor: &dyn Executor,
) -> (Seen, usize, Option<String>) {
    let Some(Event::Start {
        tasks,
        workers,
        executor: ex_name,
    }) = events.first()
    else {
        panic!("{name}: the first event is not start: {events:?}");
    };
    assert_eq!(*workers, executor.workers(), "{name}");
    assert_eq!(ex_name, executor.name(), "{name}");
    let Some(Event::Finish(outcome)) = events.last() else {
        panic!("{name}: the last event is not finish: {events:?}");
    };
    let middle = &events[1..events.len() - 1];
    let mut seen = Seen::new();
    for ev in middle {
        match ev {
            Event::Started(id, key, worker) => {
                assert!(*worker < *workers, "{name}: worker {worker} of {workers}");
                assert!((*id as usize) < *tasks, "{name}: id {id} of {tasks}");
                let e = seen.entry(*id).or_insert((key.clone(), 0, 0));
                assert_eq!(&e.0, key, "{name}: one id, one key");
                e.1 += 1;
                assert_eq!(e.1, 1, "{name}: {key:?} started twice");
            }
            Event::Finished(id, key, worker) => {
                assert!(*worker < *workers, "{name}");
                let e = seen
                    .get_mut(id)
                    .unwrap_or_else(|| panic!("{name}: {key:?} finished before it started"));
                assert_eq!(&e.0, key, "{name}");
                e.2 += 1;
                assert_eq!(e.2, 1, "{name}: {key:?} finished twice");
            }
            other => panic!("{name}: {other:?} in the middle of the run"),
        }
    }
    (seen, *tasks, outcome.clone())
}

fn diamonds() -> Graph {
    let reg = Registry::with_builtins();
    let f = |name: &str| reg.get(name).cloned().unwrap();
    let (inc, add, sum) = (f("inc"), f("add"), f("sum"));
    let mut g = Graph::new();
    let mut tops = Vec::new();
    for i in 0..20 {
        g.insert(("x", i), i);
        g.insert(("l", i), Task::call(&inc, [("x", i)]));
        g.insert(
            ("r", i),
            Task::call(&add, [Task::from(("x", i)), Task::from(("l", i))]),
        );
        g.insert(("d", i), Task::call(&add, [("l", i), ("r", i)]));
        tops.push(Task::from(("d", i)));
    }
    g.insert("total", Task::call(&sum, [Task::list(tops)]));
    g.insert("alias", "total");
    g.insert("unused", Task::call(&inc, ["total"]));
    g
}

#[test]
fn every_task_starts_and_finishes_once_between_start_and_finish() {
    let g = diamonds();
    for (name, ex) in executors() {
        let (a, b) = (Recorder::default(), Recorder::default());
        let v = get_with(ex.as_ref(), &g, vec!["alias", "total"], &[&a, &b]).unwrap();
        // d_i = (i + 1) + (2i + 1) = 3i + 2
        let total: i64 = (0..20).map(|i| 3 * i + 2).sum();
        assert_eq!(
            v,
            rask_graph::Value::list([total.into(), total.into()]),
            "{name}"
        );
        let events = a.take();
        // workers call the two callbacks one after the other, so their
        // events interleave differently in each; each worker's own
        // sequence is the same
        assert_eq!(
            per_worker(&events),
            per_worker(&b.take()),
            "{name}: both callbacks see the same events"
        );
        let (seen, tasks, outcome) = check_events(name, &events, ex.as_ref());
        // 20 * 4 + total + alias; "unused" is culled
        assert_eq!(tasks, 82, "{name}");
        assert_eq!(seen.len(), tasks, "{name}: every task of the plan started");
        assert!(seen.values().all(|(_, s, f)| (*s, *f) == (1, 1)), "{name}");
        assert_eq!(events.len(), 2 * tasks + 2, "{name}");
        assert_eq!(outcome, None, "{name}");
        assert!(
            !seen.values().any(|(k, _, _)| *k == Key::from("unused")),
            "{name}"
        );
    }
}

#[test]
fn sync_reports_tasks_in_run_order_on_worker_0() {
    let g = diamonds();
    let rec = Recorder::default();
    get_with(&Sync, &g, "total", &[&rec]).unwrap();
    let events = rec.take();
    for pair in events[1..events.len() - 1].chunks(2) {
        match pair {
            [Event::Started(a, _, 0), Event::Finished(b, _, 0)] => assert_eq!(a, b),
            other => panic!("sync interleaved events: {other:?}"),
        }
    }
}

#[test]
fn finish_gets_the_error_once_and_failing_task_does_not_finish() {
    let reg = Registry::with_builtins();
    let fail = reg.get("fail").cloned().unwrap();
    let mut g = diamonds();
    g.insert(("l", 7), Task::call(&fail, ["no l7"]));
    for (name, ex) in executors() {
        let rec = Recorder::default();
        let e = get_with(ex.as_ref(), &g, "total", &[&rec]).unwrap_err();
        assert_eq!(e.key(), Some(&Key::from(("l", 7))), "{name}");
        let events = rec.take();
        let (seen, tasks, outcome) = check_events(name, &events, ex.as_ref());
        assert_eq!(outcome, Some(e.to_string()), "{name}");
        assert!(seen.len() < tasks, "{name}: the run stopped early");
        let failed: Vec<_> = seen
            .values()
            .filter(|(_, s, f)| (*s, *f) == (1, 0))
            .collect();
        assert!(
            failed.iter().any(|(k, _, _)| *k == Key::from(("l", 7))),
            "{name}: the failing task started and did not finish"
        );
        // threads: the others that started and did not finish can only be
        // the ones that ran beside the failing task, and they do finish
        assert_eq!(failed.len(), 1, "{name}: {failed:?}");
    }
}

#[test]
fn finish_gets_the_error_on_graph_errors_too() {
    let g = graph! { "a" => (inc, "b"), "b" => (inc, "a") };
    for (name, ex) in executors() {
        let rec = Recorder::default();
        let e = get_with(ex.as_ref(), &g, "a", &[&rec]).unwrap_err();
        assert!(matches!(e, ComputeError::Graph(_)), "{name}");
        // the plan could not be made: no callback hook ran at all (start
        // needs the plan), which is consistent: finish only follows start
        assert_eq!(rec.take(), vec![], "{name}");
    }
}

fn inc(x: i64) -> i64 {
    x + 1
}

/// Counts only.
#[derive(Debug, Default)]
struct Counter {
    start: AtomicUsize,
    started: AtomicUsize,
    finished: AtomicUsize,
    finish: AtomicUsize,
}

impl Callback for Counter {
    fn start(&self, _: &RunInfo<'_>) {
        self.start.fetch_add(1, Ordering::SeqCst);
    }
    fn task_started(&self, _: &TaskEvent<'_>) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }
    fn task_finished(&self, _: &TaskEvent<'_>) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
    fn finish(&self, _: Option<&ComputeError>) {
        self.finish.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn counts_on_a_wide_graph_with_many_workers() {
    let reg = Registry::with_builtins();
    let inc = reg.get("inc").cloned().unwrap();
    let sum = reg.get("sum").cloned().unwrap();
    let mut g = Graph::new();
    let mut items = Vec::new();
    for i in 0..2000 {
        g.insert(("inc", i), Task::call(&inc, [i]));
        items.push(Task::from(("inc", i)));
    }
    g.insert("total", Task::call(&sum, [Task::list(items)]));
    for workers in [1, 2, 4, 8] {
        let c = Counter::default();
        let v = get_with(&Threads::new(workers), &g, "total", &[&c]).unwrap();
        assert_eq!(v, rask_graph::Value::Int((1..=2000).sum()));
        let counts =
            [&c.start, &c.started, &c.finished, &c.finish].map(|a| a.load(Ordering::SeqCst));
        assert_eq!(counts, [1, 2001, 2001, 1], "{workers} workers");
    }
}

/// Panics in `start`; the callbacks before it did start.
#[derive(Debug, Default)]
struct PanicsInStart;

impl Callback for PanicsInStart {
    fn start(&self, _: &RunInfo<'_>) {
        panic!("start hook failed")
    }
}

/// Regression: `Watch::start` called no `finish` at all when a later
/// callback's `start` panicked.
#[test]
fn finish_runs_for_started_callbacks_when_another_start_panics() {
    let g = graph! { "x" => 1 };
    let first = Counter::default();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        get_with(&Sync, &g, "x", &[&first, &PanicsInStart])
    }));
    assert!(result.is_err(), "the panic propagates");
    assert_eq!(first.start.load(Ordering::SeqCst), 1);
    assert_eq!(
        first.finish.load(Ordering::SeqCst),
        1,
        "finish must follow every start that ran"
    );
}

/// Panics in `task_finished`; counts `finish` and its errors.
#[derive(Debug, Default)]
struct PanicsInTaskFinished {
    finish_errors: Mutex<Vec<Option<String>>>,
}

impl Callback for PanicsInTaskFinished {
    fn task_finished(&self, _: &TaskEvent<'_>) {
        panic!("task_finished hook failed")
    }
    fn finish(&self, error: Option<&ComputeError>) {
        self.finish_errors
            .lock()
            .unwrap()
            .push(error.map(ToString::to_string));
    }
}

#[test]
fn panicking_callback_on_sync_propagates_and_still_finishes() {
    let g = graph! { "x" => 1, "y" => (inc, "x") };
    let cb = PanicsInTaskFinished::default();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        get_with(&Sync, &g, "y", &[&cb])
    }));
    assert!(result.is_err(), "the callback's panic propagates");
    let errors = cb.finish_errors.lock().unwrap();
    assert_eq!(errors.len(), 1, "finish runs once: {errors:?}");
    assert!(errors[0].is_some(), "finish is told that the run failed");
}
