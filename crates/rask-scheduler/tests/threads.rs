//! The `threads` executor under concurrency: it runs independent tasks in
//! parallel (every idle worker is woken when tasks become ready), nothing
//! hangs (many short runs, concurrent `get`s sharing one graph, a
//! panicking callback), degenerate pool sizes work, and each task runs
//! exactly once. Every test that could hang runs under a watchdog that
//! fails it after a timeout instead.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rask_graph::{Function, Graph, Registry, Task, Value};
use rask_scheduler::{get_with, Callback, Executor, RunInfo, TaskEvent, Threads};

fn builtin(name: &str) -> Function {
    Registry::with_builtins().get(name).cloned().unwrap()
}

/// Runs `f` on its own thread and returns its result, or fails the test
/// when it takes longer than `limit` (a hang). A hung thread is left
/// behind; the test process exits without it.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("hung: no result within {limit:?}"),
    }
}

/// `s-i = sleep_ms(1, ms)` for `i < width`, `total = sum([s-0, ..])`.
/// With `root_ms`, every `s-i` is `sleep_ms(root, ms)` instead, after
/// `root = sleep_ms(1, root_ms)`: all `s-i` become ready at once when
/// `root` ends (by then the other workers are asleep); without, they are
/// ready from the start.
fn burst(width: usize, ms: i64, root_ms: Option<i64>) -> Graph {
    let (sleep, sum) = (builtin("sleep_ms"), builtin("sum"));
    let mut g = Graph::new();
    let input = match root_ms {
        Some(root_ms) => {
            g.insert("root", Task::call(&sleep, [1, root_ms]));
            Task::from("root")
        }
        None => Task::from(1),
    };
    let mut items = Vec::new();
    for i in 0..width {
        g.insert(
            format!("s-{i}"),
            Task::call(&sleep, [input.clone(), Task::from(ms)]),
        );
        items.push(Task::from(format!("s-{i}").as_str()));
    }
    g.insert("total", Task::call(&sum, [Task::list(items)]));
    g
}

#[test]
fn independent_ready_tasks_run_in_parallel() {
    // sleeping tasks need no core: four of 200 ms on four workers take
    // 200 ms even on a machine with fewer cores
    let g = burst(4, 200, None);
    let t0 = Instant::now();
    let v = get_with(&Threads::new(4), &g, "total", &[]).unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(v, Value::Int(4));
    assert!(
        elapsed < Duration::from_millis(350),
        "4 x 200 ms on 4 workers took {elapsed:?}"
    );
}

#[test]
fn all_idle_workers_wake_when_many_tasks_become_ready() {
    // the eight sleeps become ready together when `root` ends (after
    // 50 ms), while the other seven workers sleep on the condition variable
    let g = burst(8, 100, Some(50));
    let c = Concurrency::default();
    let t0 = Instant::now();
    get_with(&Threads::new(8), &g, "total", &[&c]).unwrap();
    let elapsed = t0.elapsed();
    let peak = c.peak.load(Ordering::SeqCst);
    assert!(
        elapsed < Duration::from_millis(250),
        "50 ms, then 8 x 100 ms on 8 workers took {elapsed:?}, at most {peak} at once"
    );
}

/// Records the peak number of tasks running at once.
#[derive(Debug, Default)]
struct Concurrency {
    running: AtomicUsize,
    peak: AtomicUsize,
    started: AtomicUsize,
}

impl Callback for Concurrency {
    fn task_started(&self, _: &TaskEvent<'_>) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn task_finished(&self, _: &TaskEvent<'_>) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn never_more_tasks_at_once_than_workers() {
    let g = burst(12, 20, None);
    for workers in [1, 2, 3, 5] {
        let c = Concurrency::default();
        get_with(&Threads::new(workers), &g, "total", &[&c]).unwrap();
        let peak = c.peak.load(Ordering::SeqCst);
        assert!(peak <= workers, "{peak} tasks at once on {workers} workers");
        assert!(
            workers == 1 || peak >= 2,
            "no parallelism on {workers} workers"
        );
        assert_eq!(c.started.load(Ordering::SeqCst), 13);
    }
}

#[test]
fn zero_workers_means_one_and_more_workers_than_tasks_is_fine() {
    let g = burst(3, 1, Some(0));
    assert_eq!(Threads::new(0).workers(), 1);
    assert_eq!(
        get_with(&Threads::new(0), &g, "total", &[]).unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        get_with(&Threads::new(64), &g, "total", &[]).unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        get_with(&Threads::new(64), &g, "root", &[]).unwrap(),
        Value::Int(1)
    );
}

/// A diamond lattice: `rows` rows of `width` tasks, each adding two
/// neighbours of the row above (wrapping).
fn lattice(rows: usize, width: usize) -> Graph {
    let (add, sum) = (builtin("add"), builtin("sum"));
    let mut g = Graph::new();
    for j in 0..width {
        g.insert(("r", 0, j), j);
    }
    for i in 1..rows {
        for j in 0..width {
            let (a, b) = (("r", i - 1, j), ("r", i - 1, (j + 1) % width));
            g.insert(("r", i, j), Task::call(&add, [Task::key(a), Task::key(b)]));
        }
    }
    let last: Vec<Task> = (0..width).map(|j| Task::key(("r", rows - 1, j))).collect();
    g.insert("total", Task::call(&sum, [Task::list(last)]));
    g
}

#[test]
fn many_short_runs_do_not_hang() {
    within(Duration::from_secs(20), || {
        let g = lattice(6, 5);
        // each row doubles the total: 10 * 2^5
        let expected = Value::Int(10 * 32);
        for run in 0..400 {
            let workers = 1 + run % 6;
            let v = get_with(&Threads::new(workers), &g, "total", &[]).unwrap();
            assert_eq!(v, expected, "run {run} on {workers} workers");
        }
    });
}

#[test]
fn each_task_runs_exactly_once() {
    within(Duration::from_secs(20), || {
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let touch = Function::new("touch", move |a: i64, b: i64| {
            c.fetch_add(1, Ordering::SeqCst);
            a + b
        });
        let mut g = Graph::new();
        for j in 0..20 {
            g.insert(("r", 0, j), j);
        }
        for i in 1..30 {
            for j in 0..20 {
                let deps = [
                    Task::key(("r", i - 1, j)),
                    Task::key(("r", i - 1, (j + 7) % 20)),
                ];
                g.insert(("r", i, j), Task::call(&touch, deps));
            }
        }
        let last: Vec<rask_graph::Key> = (0..20).map(|j| ("r", 29, j).into()).collect();
        for workers in [2, 4, 8] {
            calls.store(0, Ordering::SeqCst);
            let v = get_with(&Threads::new(workers), &g, last.clone(), &[]).unwrap();
            assert_eq!(v.as_list().unwrap().len(), 20);
            assert_eq!(calls.load(Ordering::SeqCst), 29 * 20, "{workers} workers");
        }
    });
}

#[test]
fn concurrent_gets_share_one_graph() {
    within(Duration::from_secs(20), || {
        let g = lattice(8, 6);
        let expected = Value::Int(15 * 128);
        std::thread::scope(|s| {
            for t in 0..4 {
                let (g, expected) = (&g, &expected);
                s.spawn(move || {
                    for run in 0..50 {
                        let v =
                            get_with(&Threads::new(1 + (t + run) % 3), g, "total", &[]).unwrap();
                        assert_eq!(&v, expected);
                    }
                });
            }
        });
    });
}

/// Panics in `task_started` of the task named `victim`.
#[derive(Debug)]
struct PanicsOn {
    victim: &'static str,
    finish: AtomicUsize,
}

impl Callback for PanicsOn {
    fn start(&self, _: &RunInfo<'_>) {}
    fn task_started(&self, ev: &TaskEvent<'_>) {
        if ev.key.to_string() == self.victim {
            panic!("callback failed on {}", self.victim);
        }
    }
    fn finish(&self, _: Option<&rask_scheduler::ComputeError>) {
        self.finish.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `burst(6, 5)` on `workers` threads with a callback that panics
/// when `victim` starts; returns how the call ended ("panic", "error" or
/// "ok") and how often `finish` ran. Fails the test if the call hangs.
fn run_with_panicking_callback(workers: usize, victim: &'static str) -> (&'static str, usize) {
    within(Duration::from_secs(5), move || {
        let g = burst(6, 5, None);
        let cb = PanicsOn {
            victim,
            finish: AtomicUsize::new(0),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            get_with(&Threads::new(workers), &g, "total", &[&cb])
        }));
        let outcome = match result {
            Err(_) => "panic",
            Ok(Err(_)) => "error",
            Ok(Ok(_)) => "ok",
        };
        (outcome, cb.finish.load(Ordering::SeqCst))
    })
}

#[test]
fn panicking_callback_on_one_worker_does_not_hang() {
    // a single worker is the calling thread: the panic unwinds through
    // `get` like a panic in `Sync`
    let (outcome, finishes) = run_with_panicking_callback(1, "s-2");
    assert_ne!(outcome, "ok", "the callback's panic is not swallowed");
    assert_eq!(finishes, 1, "finish runs once");
}

#[test]
fn panicking_callback_does_not_hang_threads() {
    for victim in ["s-0", "s-2", "s-5", "total"] {
        let (outcome, finishes) = run_with_panicking_callback(3, victim);
        // the panic reaches the caller, or becomes an error; either way
        // the call returns and finish runs once
        assert_ne!(
            outcome, "ok",
            "{victim}: the callback's panic is not swallowed"
        );
        assert_eq!(finishes, 1, "{victim}: finish runs once");
    }
}

/// A flag set from outside while tasks run stops the run: the tasks
/// already running finish, no other starts, and the error says so, also
/// when workers sleep waiting for work that only a running task makes.
#[test]
fn cancel_flag_stops_a_run_between_tasks() {
    use rask_scheduler::ComputeError;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let ran = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (counter, flag) = (ran.clone(), stop.clone());
    let step = Function::new("step", move |x: i64| {
        if counter.fetch_add(1, Ordering::SeqCst) == 3 {
            flag.store(true, Ordering::SeqCst);
        }
        std::thread::sleep(Duration::from_millis(2));
        x + 1
    });
    let mut g = Graph::new();
    g.insert("k-0", 0_i64);
    for i in 1..200 {
        g.insert(
            format!("k-{i}"),
            Task::call(&step, [format!("k-{}", i - 1)]),
        );
    }
    let err = within(Duration::from_secs(20), move || {
        Threads::new(2)
            .cancel_on(stop)
            .get(&g, "k-199")
            .unwrap_err()
    });
    assert!(matches!(err, ComputeError::Cancelled), "{err}");
    assert!(
        ran.load(Ordering::SeqCst) <= 5,
        "{} tasks ran",
        ran.load(Ordering::SeqCst)
    );
}
