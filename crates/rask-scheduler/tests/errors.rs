//! Bad input and failing tasks give typed errors whose messages name the
//! key, on every local executor:
//!
//! - found before anything runs (checked with a side-effect counter): a
//!   cycle (the message lists the keys on it), a requested key that is not
//!   in the graph, a `Task::key` reference to a missing key, a typed
//!   function called with the wrong number of arguments
//!   (`GraphError::ArgCount`);
//! - found while running: a wrong argument type (`ComputeError::Task`
//!   naming key, function and argument position), a task returning `Err`
//!   (`Function::fallible`, its cause kept), a panicking task
//!   (`ComputeError::Panic` with message and key);
//! - the first error cancels the rest: on `Threads::new(4)` with many slow
//!   independent tasks the call returns after the running tasks end, no
//!   new task starts after the error, `finish` gets the error exactly
//!   once, and the worker threads are gone.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rask_graph::{
    graph, Arity, CallError, EvalError, Function, Graph, GraphError, Key, Registry, Task, Value,
};
use rask_scheduler::{
    get_with, Callback, ComputeError, Executor, Keys, RunInfo, Sync, TaskEvent, Threads,
};

fn executors() -> Vec<(&'static str, Box<dyn Executor>)> {
    vec![
        ("sync", Box::new(Sync)),
        ("threads-1", Box::new(Threads::new(1))),
        ("threads-4", Box::new(Threads::new(4))),
    ]
}

/// The error of `get` on every executor (all must fail), checked by `check`.
fn each_error(g: &Graph, keys: impl Into<Keys>, check: impl Fn(&str, ComputeError)) {
    let keys = keys.into();
    for (name, ex) in executors() {
        match get_with(ex.as_ref(), g, keys.clone(), &[]) {
            Ok(v) => panic!("{name}: expected an error, got {v:?}"),
            Err(e) => check(name, e),
        }
    }
}

/// A function `touch(x) = x` that counts its calls, to prove that nothing
/// ran.
fn counting() -> (Function, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let f = Function::new("touch", move |x: i64| {
        c.fetch_add(1, Ordering::SeqCst);
        x
    });
    (f, calls)
}

fn inc(x: i64) -> i64 {
    x + 1
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn cycle_error_lists_the_keys_on_the_cycle() {
    let (touch, calls) = counting();
    let inc = Function::new("inc", inc);
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("t", Task::call(&touch, ["x"]));
    g.insert("a", Task::call(&inc, ["b"]));
    g.insert("b", Task::call(&inc, ["c"]));
    g.insert("c", Task::call(&inc, ["a"]));
    g.insert("z", Task::call(&Function::new("add", add), ["t", "a"]));
    each_error(&g, "z", |name, e| {
        let message = e.to_string();
        let ComputeError::Graph(GraphError::Cycle { keys }) = e else {
            panic!("{name}: not a cycle error: {e:?}");
        };
        let on_cycle: BTreeSet<Key> = keys.iter().cloned().collect();
        let expected: BTreeSet<Key> = ["a", "b", "c"].into_iter().map(Key::from).collect();
        assert_eq!(on_cycle, expected, "{name}: {message}");
        assert_eq!(keys.len(), 3, "{name}: each key once: {message}");
        for k in ["\"a\"", "\"b\"", "\"c\""] {
            assert!(message.contains(k), "{name}: {message} does not name {k}");
        }
        assert!(
            !message.contains("\"z\""),
            "{name}: z is not on the cycle: {message}"
        );
    });
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a task ran before the cycle was found"
    );
}

#[test]
fn self_cycle_and_tuple_key_cycle() {
    let g = graph! {
        "a" => (inc, "a"),
        ("t", 0) => (inc, ("t", 1)),
        ("t", 1) => (inc, ("t", 0)),
    };
    each_error(&g, "a", |name, e| {
        assert_eq!(
            e.to_string(),
            "cycle in the graph: \"a\" -> \"a\"",
            "{name}"
        );
    });
    each_error(&g, ("t", 0), |name, e| {
        let message = e.to_string();
        assert!(
            matches!(&e, ComputeError::Graph(GraphError::Cycle { keys }) if keys.len() == 2),
            "{name}: {e:?}"
        );
        assert!(
            message.contains("('t', 0)") && message.contains("('t', 1)"),
            "{name}: {message}"
        );
    });
}

#[test]
fn cycle_not_needed_is_not_an_error() {
    let g = graph! { "a" => (inc, "b"), "b" => (inc, "a"), "x" => 1, "y" => (inc, "x") };
    for (name, ex) in executors() {
        assert_eq!(
            get_with(ex.as_ref(), &g, "y", &[]).unwrap(),
            Value::Int(2),
            "{name}"
        );
    }
}

#[test]
fn missing_requested_key_is_named() {
    let (touch, calls) = counting();
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("y", Task::call(&touch, ["x"]));
    each_error(&g, vec!["y", "nope"], |name, e| {
        assert_eq!(e.to_string(), "key \"nope\" is not in the graph", "{name}");
        assert!(
            matches!(&e, ComputeError::Graph(GraphError::MissingKey { key, needed_by: None }) if *key == Key::from("nope")),
            "{name}: {e:?}"
        );
        assert_eq!(e.key(), None, "{name}: no task failed");
    });
    each_error(&g, ("x", 3), |name, e| {
        assert_eq!(e.to_string(), "key ('x', 3) is not in the graph", "{name}");
    });
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn reference_to_missing_key_names_both_keys() {
    let (touch, calls) = counting();
    let add = Function::new("add", add);
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("t", Task::call(&touch, ["x"]));
    g.insert("y", Task::call(&add, [Task::from("t"), Task::key("gone")]));
    g.insert(
        "z",
        Task::call(&add, [Task::from("t"), Task::key(("chunk", 7))]),
    );
    each_error(&g, "y", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"y\" refers to missing key \"gone\"",
            "{name}"
        );
        assert!(
            matches!(&e, ComputeError::Graph(GraphError::MissingKey { key, needed_by: Some(by) })
                if *key == Key::from("gone") && *by == Key::from("y")),
            "{name}: {e:?}"
        );
    });
    each_error(&g, "z", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"z\" refers to missing key ('chunk', 7)",
            "{name}"
        );
    });
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn string_that_is_not_a_key_is_a_literal_not_a_missing_key() {
    let g = graph! { "y" => (inc, "gone") };
    each_error(&g, "y", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"y\" failed: inc: argument 1 must be i64, got str \"gone\"",
            "{name}"
        );
    });
}

#[test]
fn wrong_argument_count_is_found_before_anything_runs() {
    let (touch, calls) = counting();
    let add = Function::new("add", add);
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("t", Task::call(&touch, ["x"]));
    g.insert("three", Task::call(&add, ["t", "x", "x"]));
    // a call nested in a list nested in a call
    let sum = Registry::with_builtins().get("sum").cloned().unwrap();
    g.insert(
        "nested",
        Task::call(
            &sum,
            [Task::list([
                Task::from("t"),
                Task::call(&touch, Vec::<Task>::new()),
            ])],
        ),
    );
    each_error(&g, "three", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"three\": add takes 2 argument(s), got 3",
            "{name}"
        );
        let ComputeError::Graph(GraphError::ArgCount {
            key,
            function,
            expected,
            got,
        }) = e
        else {
            panic!("{name}: not an argument count error: {e:?}");
        };
        assert_eq!(
            (key, function.as_str(), expected, got),
            (Key::from("three"), "add", Arity::exactly(2), 3)
        );
    });
    each_error(&g, vec!["t", "nested"], |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"nested\": touch takes 1 argument(s), got 0",
            "{name}"
        );
    });
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a task ran before the argument count was checked"
    );
}

#[test]
fn wrong_argument_type_names_key_function_and_position() {
    let g = graph! {
        "x" => 1,
        "s" => "text",
        "z" => (add, "x", "s"),
    };
    each_error(&g, "z", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"z\" failed: add: argument 2 must be i64, got str \"text\"",
            "{name}"
        );
        assert_eq!(e.key(), Some(&Key::from("z")), "{name}");
        let ComputeError::Task {
            error:
                EvalError::Call {
                    function,
                    error:
                        CallError::ArgType {
                            position, expected, ..
                        },
                },
            ..
        } = e
        else {
            panic!("{name}: not an argument type error: {e:?}");
        };
        assert_eq!(
            (function.as_str(), position, expected),
            ("add", 2, "i64"),
            "{name}"
        );
    });
}

#[derive(Debug)]
struct Overdrawn {
    missing: i64,
}

impl std::fmt::Display for Overdrawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "overdrawn by {}", self.missing)
    }
}

impl std::error::Error for Overdrawn {}

#[test]
fn task_returning_err_fails_with_key_message_and_cause() {
    let withdraw = Function::fallible("withdraw", |balance: i64, amount: i64| {
        if amount > balance {
            Err(Overdrawn {
                missing: amount - balance,
            })
        } else {
            Ok(balance - amount)
        }
    });
    let mut g = Graph::new();
    g.insert("balance", 10);
    g.insert(
        "ok",
        Task::call(&withdraw, [Task::from("balance"), Task::from(3)]),
    );
    g.insert(
        "overdrawn",
        Task::call(&withdraw, [Task::from("ok"), Task::from(20)]),
    );
    for (name, ex) in executors() {
        assert_eq!(
            get_with(ex.as_ref(), &g, "ok", &[]).unwrap(),
            Value::Int(7),
            "{name}"
        );
    }
    each_error(&g, "overdrawn", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"overdrawn\" failed: withdraw: overdrawn by 13",
            "{name}"
        );
        let ComputeError::Task {
            key,
            error:
                EvalError::Call {
                    function,
                    error: CallError::Failed(cause),
                },
        } = e
        else {
            panic!("{name}: not a task failure: {e:?}");
        };
        assert_eq!(
            (key, function.as_str()),
            (Key::from("overdrawn"), "withdraw"),
            "{name}"
        );
        let cause = cause
            .downcast_ref::<Overdrawn>()
            .expect("the cause keeps its type");
        assert_eq!(cause.missing, 13, "{name}");
    });
}

#[test]
fn builtin_fail_and_string_errors() {
    let checked_div = Function::fallible("checked_div", |a: i64, b: i64| {
        a.checked_div(b).ok_or("division by zero")
    });
    let fail = Registry::with_builtins().get("fail").cloned().unwrap();
    let g = Graph::from_iter([
        ("f", Task::call(&fail, ["it broke"])),
        ("d", Task::call(&checked_div, [1, 0])),
    ]);
    each_error(&g, "f", |name, e| {
        assert_eq!(e.to_string(), "task \"f\" failed: fail: it broke", "{name}");
    });
    each_error(&g, "d", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"d\" failed: checked_div: division by zero",
            "{name}"
        );
    });
}

/// Keeps the panics these tests provoke (their messages start with
/// "exploded" or "a static") off the output, and fast: with
/// `RUST_BACKTRACE=1` the default hook spends milliseconds on a backtrace
/// while the panicking task still counts as running. Every other panic
/// (a failed assertion) goes to the default hook.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if !(message.starts_with("exploded") || message.starts_with("a static")) {
                default(info);
            }
        }));
    });
}

fn explode(x: i64) -> i64 {
    if x > 1 {
        panic!("exploded on {x}");
    }
    x
}

#[test]
fn panicking_task_gives_panic_error_with_message_and_key() {
    quiet_expected_panics();
    let g = graph! {
        "x" => 1,
        "fine" => (explode, "x"),
        ("big", 0) => (inc, "x"),
        ("boom", 2) => (explode, ("big", 0)),
        "after" => (inc, ("boom", 2)),
        "static" => (static_panic, "x"),
    };
    each_error(&g, "after", |name, e| {
        assert_eq!(
            e.to_string(),
            "task ('boom', 2) panicked: exploded on 2",
            "{name}"
        );
        let ComputeError::Panic { key, message } = e else {
            panic!("{name}: not a panic error: {e:?}");
        };
        assert_eq!(
            (key, message.as_str()),
            (Key::from(("boom", 2)), "exploded on 2"),
            "{name}"
        );
    });
    each_error(&g, "static", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"static\" panicked: a static message",
            "{name}"
        );
    });
    // the executors are usable again after a panic
    for (name, ex) in executors() {
        assert_eq!(
            get_with(ex.as_ref(), &g, "fine", &[]).unwrap(),
            Value::Int(1),
            "{name}"
        );
    }
}

fn static_panic(_: i64) -> i64 {
    panic!("a static message")
}

/// Counts started tasks and finished runs; records `finish`'s errors and
/// the threads that ran tasks.
#[derive(Debug, Default)]
struct Watcher {
    starts: AtomicUsize,
    started: AtomicUsize,
    finished_tasks: AtomicUsize,
    finishes: Mutex<Vec<Option<String>>>,
    plan_len: AtomicUsize,
    /// A clone per worker thread other than the caller, dropped when that
    /// thread exits (a thread-local destructor).
    alive: Arc<()>,
    caller: Mutex<Option<std::thread::ThreadId>>,
}

thread_local! {
    static ALIVE: std::cell::RefCell<Option<Arc<()>>> = const { std::cell::RefCell::new(None) };
}

impl Callback for Watcher {
    fn start(&self, info: &RunInfo<'_>) {
        self.starts.fetch_add(1, Ordering::SeqCst);
        self.plan_len.store(info.plan.len(), Ordering::SeqCst);
    }
    fn task_started(&self, _: &TaskEvent<'_>) {
        self.started.fetch_add(1, Ordering::SeqCst);
        if Some(std::thread::current().id()) != *self.caller.lock().unwrap() {
            ALIVE.with(|a| *a.borrow_mut() = Some(self.alive.clone()));
        }
    }
    fn task_finished(&self, _: &TaskEvent<'_>) {
        self.finished_tasks.fetch_add(1, Ordering::SeqCst);
    }
    fn finish(&self, error: Option<&ComputeError>) {
        self.finishes
            .lock()
            .unwrap()
            .push(error.map(ToString::to_string));
    }
}

/// `total = sum([bad, s0, .., s49])`: `bad` sleeps `bad_ms` then fails;
/// each `si` sleeps `ms`. `bad` has the lowest priority, so it starts
/// first.
fn slow_fan_with_failure(n: usize, ms: i64, bad_ms: i64) -> Graph {
    let reg = Registry::with_builtins();
    let f = |name: &str| reg.get(name).cloned().unwrap();
    let (sleep, fail, sum) = (f("sleep_ms"), f("fail"), f("sum"));
    let mut g = Graph::new();
    g.insert(
        "bad",
        Task::call(
            &fail,
            [Task::call(
                &sleep,
                [Task::from("bad luck"), Task::from(bad_ms)],
            )],
        ),
    );
    let mut items = vec![Task::from("bad")];
    for i in 0..n {
        g.insert(
            format!("s{i}"),
            Task::call(&sleep, [Task::from(i), Task::from(ms)]),
        );
        items.push(Task::from(format!("s{i}").as_str()));
    }
    g.insert("total", Task::call(&sum, [Task::list(items)]));
    g
}

#[test]
fn first_error_stops_threads_quickly_and_leaves_no_thread() {
    const N: usize = 50;
    const MS: i64 = 60;
    const WORKERS: usize = 4;
    let g = slow_fan_with_failure(N, MS, 5);
    let watcher = Watcher::default();
    *watcher.caller.lock().unwrap() = Some(std::thread::current().id());
    let t0 = Instant::now();
    let result = get_with(&Threads::new(WORKERS), &g, "total", &[&watcher]);
    let elapsed = t0.elapsed();
    let e = result.expect_err("the failing task is needed");
    assert_eq!(e.to_string(), "task \"bad\" failed: fail: bad luck");
    assert_eq!(e.key(), Some(&Key::from("bad")));
    // the whole fan takes N * MS / WORKERS = 750 ms; only the tasks already
    // running when `bad` failed (one per other worker) may finish
    let started = watcher.started.load(Ordering::SeqCst);
    assert!(
        started <= WORKERS,
        "{started} tasks started, at most one per worker"
    );
    assert!(
        elapsed < Duration::from_millis(300),
        "took {elapsed:?} after the error"
    );
    assert_eq!(watcher.starts.load(Ordering::SeqCst), 1);
    assert_eq!(watcher.plan_len.load(Ordering::SeqCst), N + 2);
    assert_eq!(
        *watcher.finishes.lock().unwrap(),
        vec![Some(e.to_string())],
        "finish is called once, with the error"
    );
    assert!(
        watcher.finished_tasks.load(Ordering::SeqCst) < started,
        "the failing task does not finish"
    );
    // the worker threads have exited: their thread-locals are dropped
    let deadline = Instant::now() + Duration::from_secs(2);
    while Arc::strong_count(&watcher.alive) > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        Arc::strong_count(&watcher.alive),
        1,
        "a worker thread is still alive"
    );
}

#[test]
fn first_error_stops_sync_at_once() {
    let g = slow_fan_with_failure(50, 1, 0);
    let watcher = Watcher::default();
    let e = get_with(&Sync, &g, "total", &[&watcher]).unwrap_err();
    assert_eq!(e.key(), Some(&Key::from("bad")));
    assert_eq!(
        watcher.started.load(Ordering::SeqCst),
        1,
        "sync runs nothing after the error"
    );
    assert_eq!(watcher.finished_tasks.load(Ordering::SeqCst), 0);
    assert_eq!(*watcher.finishes.lock().unwrap(), vec![Some(e.to_string())]);
}

#[test]
fn panic_stops_threads_too() {
    quiet_expected_panics();
    let reg = Registry::with_builtins();
    let sleep = reg.get("sleep_ms").cloned().unwrap();
    let sum = reg.get("sum").cloned().unwrap();
    let mut g = Graph::new();
    g.insert("boom", Task::call(&Function::new("explode", explode), [2]));
    let mut items = vec![Task::from("boom")];
    for i in 0..40 {
        g.insert(
            format!("s{i}"),
            Task::call(&sleep, [Task::from(i), Task::from(40)]),
        );
        items.push(Task::from(format!("s{i}").as_str()));
    }
    g.insert("total", Task::call(&sum, [Task::list(items)]));
    let watcher = Watcher::default();
    let t0 = Instant::now();
    let e = get_with(&Threads::new(4), &g, "total", &[&watcher]).unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_millis(300),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(e.to_string(), "task \"boom\" panicked: exploded on 2");
    assert!(watcher.started.load(Ordering::SeqCst) <= 4);
    assert_eq!(*watcher.finishes.lock().unwrap(), vec![Some(e.to_string())]);
}

#[test]
fn dynamic_function_errors_name_the_key() {
    let picky = Function::dynamic("picky", Arity::at_least(1), |args| match &args[0] {
        Value::Int(i) if *i >= 0 => Ok(Value::Int(*i)),
        other => Err(CallError::msg(format!(
            "wants a natural number, got {other:?}"
        ))),
    });
    let g = Graph::from_iter([("n", Task::call(&picky, [(-4_i64)]))]);
    each_error(&g, "n", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"n\" failed: picky: wants a natural number, got -4",
            "{name}"
        );
    });
    let g = Graph::from_iter([("none", Task::call(&picky, Vec::<Task>::new()))]);
    each_error(&g, "none", |name, e| {
        assert_eq!(
            e.to_string(),
            "task \"none\": picky takes 1 or more argument(s), got 0",
            "{name}"
        );
    });
}
