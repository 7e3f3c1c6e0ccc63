//! A run that failed halfway, run again with the cache, computes only what
//! did not finish; a changed input recomputes exactly what depends on it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rask_cache::{prepare, Cache};
use rask_graph::{Function, Graph, Key, Task, Value};
use rask_scheduler::{Executor, Sync, Threads};

/// Records the label of every call that finished.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .collect()
    }
}

/// `step(label, inputs...)`: the sum of its inputs plus one, logged; it
/// fails while `marker` exists if its label starts with "flaky".
fn step(log: &Log, marker: &Path) -> Function {
    let log = log.clone();
    let marker = marker.to_path_buf();
    Function::dynamic("step", rask_graph::Arity::at_least(1), move |args| {
        let label = args[0].as_str().unwrap_or("?").to_string();
        if label.starts_with("flaky") && marker.exists() {
            return Err(rask_graph::CallError::msg("the node went away"));
        }
        let sum: i64 = args[1..].iter().filter_map(|v| v.get::<i64>()).sum();
        log.0.lock().unwrap().push(label);
        Ok(Value::Int(sum + 1))
    })
}

/// ```text
///  x ─ a ─ b ─ flaky ─ d ─ out
///      │               ╱
///      e ─ f ─────────┘      g ─ h (beside them, also asked for)
/// ```
fn pipeline(log: &Log, marker: &Path, x: i64) -> (Graph, Vec<Key>) {
    let s = step(log, marker);
    let call = |label: &str, inputs: &[&str]| {
        let mut args = vec![Task::quote(label.to_string())];
        args.extend(inputs.iter().map(|&k| Task::key(k)));
        Task::Call(s.clone(), args.into())
    };
    let mut g = Graph::new();
    g.insert("x", x);
    g.insert("a", call("a", &["x"]));
    g.insert("b", call("b", &["a"]));
    g.insert("flaky", call("flaky", &["b"]));
    g.insert("d", call("d", &["flaky"]));
    g.insert("e", call("e", &["a"]));
    g.insert("f", call("f", &["e"]));
    g.insert("out", call("out", &["d", "f"]));
    g.insert("g", call("g", &[]));
    g.insert("h", call("h", &["g"]));
    (g, vec!["out".into(), "h".into()])
}

const ALL: [&str; 9] = ["a", "b", "flaky", "d", "e", "f", "out", "g", "h"];

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn run_twice_after_a_failure(executor: &dyn Executor) {
    let dir = tempfile::tempdir().unwrap();
    let marker: PathBuf = dir.path().join("marker");
    std::fs::write(&marker, "").unwrap();
    let cache = Cache::open(dir.path().join("cache")).unwrap();
    let log = Log::default();
    let (g, keys) = pipeline(&log, &marker, 1);

    let first = prepare(&g, &keys, &cache).unwrap();
    assert_eq!((first.executed, first.cached), (9, 0));
    let err = rask_scheduler::get_with(executor, &first.graph, keys.clone(), &[]).unwrap_err();
    assert_eq!(err.key(), Some(&Key::from("flaky")), "{err}");
    let finished = log.take();
    assert!(finished.is_superset(&set(&["a", "b"])), "{finished:?}");
    assert!(finished.is_disjoint(&set(&["flaky", "d", "out"])));

    // the job is restarted: only what did not finish runs
    std::fs::remove_file(&marker).unwrap();
    let second = prepare(&g, &keys, &cache).unwrap();
    let unfinished: BTreeSet<String> = set(&ALL).difference(&finished).cloned().collect();
    assert_eq!(second.executed, unfinished.len(), "{unfinished:?}");
    assert_eq!(second.executed + second.cached, ALL.len());
    let v = rask_scheduler::get_with(executor, &second.graph, keys.clone(), &[]).unwrap();
    assert_eq!(log.take(), unfinished);
    // out = (d = x + 4 = 5) + (f = x + 3 = 4) + 1
    assert_eq!(v, Value::list([Value::Int(10), Value::Int(2)]));

    // a third run computes nothing and loads only what is asked for
    let third = prepare(&g, &keys, &cache).unwrap();
    assert_eq!((third.executed, third.cached, third.loaded), (0, 9, 2));
    assert_eq!(third.graph.len(), 2);
    let again = rask_scheduler::get_with(executor, &third.graph, keys, &[]).unwrap();
    assert_eq!(again, v);
    assert!(log.take().is_empty());
}

#[test]
fn a_failed_run_resumes_where_it_stopped_sync() {
    run_twice_after_a_failure(&Sync);
}

#[test]
fn a_failed_run_resumes_where_it_stopped_threads() {
    run_twice_after_a_failure(&Threads::new(2));
}

#[test]
fn a_changed_input_recomputes_exactly_its_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let log = Log::default();
    let marker = dir.path().join("no-marker");
    let (g, keys) = pipeline(&log, &marker, 1);
    let p = prepare(&g, &keys, &cache).unwrap();
    Threads::new(2).get(&p.graph, keys.clone()).unwrap();
    assert_eq!(log.take(), set(&ALL));

    // x changes: everything downstream of x, and nothing else, runs
    let (g2, _) = pipeline(&log, &marker, 2);
    let p = prepare(&g2, &keys, &cache).unwrap();
    assert_eq!((p.executed, p.cached), (7, 2));
    let v = Sync.get(&p.graph, keys.clone()).unwrap();
    assert_eq!(log.take(), set(&["a", "b", "flaky", "d", "e", "f", "out"]));
    assert_eq!(v, Value::list([Value::Int(12), Value::Int(2)]));

    // one task changes (e calls another function): e, f and out run
    let (mut g3, _) = pipeline(&log, &marker, 2);
    let other = step(&log, &marker);
    let renamed = Function::dynamic("step_v2", rask_graph::Arity::at_least(1), move |a| {
        other.call(a)
    });
    g3.insert(
        "e",
        Task::Call(renamed, vec![Task::quote("e"), Task::key("a")].into()),
    );
    let p = prepare(&g3, &keys, &cache).unwrap();
    assert_eq!((p.executed, p.cached), (3, 6));
    Sync.get(&p.graph, keys.clone()).unwrap();
    assert_eq!(log.take(), set(&["e", "f", "out"]));

    // keys renamed: the same tasks under other names are all cached
    let mut renamed = Graph::new();
    for (k, t) in g2.iter() {
        renamed.insert(format!("renamed-{k}"), rename_refs(t));
    }
    let rkeys: Vec<Key> = vec!["renamed-out".into(), "renamed-h".into()];
    let p = prepare(&renamed, &rkeys, &cache).unwrap();
    assert_eq!((p.executed, p.cached), (0, 9));
    assert_eq!(Sync.get(&p.graph, rkeys).unwrap(), v);
    assert!(log.take().is_empty());
}

/// `t` with every reference `k` renamed `renamed-k`.
fn rename_refs(t: &Task) -> Task {
    match t {
        Task::Key(k) => Task::key(format!("renamed-{k}")),
        Task::Call(f, args) => Task::Call(f.clone(), args.iter().map(rename_refs).collect()),
        Task::List(items) => Task::List(items.iter().map(rename_refs).collect()),
        other => other.clone(),
    }
}

#[test]
fn a_task_needed_by_a_cached_and_an_uncached_task_runs_once() {
    // b is cached, c is not; both need a, which must run for c
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let log = Log::default();
    let marker = dir.path().join("marker");
    let s = step(&log, &marker);
    let call = |label: &str, inputs: &[&str]| {
        let mut args = vec![Task::quote(label.to_string())];
        args.extend(inputs.iter().map(|&k| Task::key(k)));
        Task::Call(s.clone(), args.into())
    };
    let mut g = Graph::new();
    g.insert("a", call("a", &[]));
    g.insert("b", call("b", &["a"]));
    let p = prepare(&g, &["b".into()], &cache).unwrap();
    Sync.get(&p.graph, "b").unwrap();
    log.take();
    g.insert("c", call("c", &["a", "a"]));
    g.insert("out", Task::list(["b", "c"]));
    let p = prepare(&g, &["out".into()], &cache).unwrap();
    // a is cached too: its entry loads
    assert_eq!((p.executed, p.cached, p.loaded), (1, 2, 2));
    let v = Threads::new(2).get(&p.graph, "out").unwrap();
    assert_eq!(log.take(), set(&["c"]));
    assert_eq!(v, Value::list([Value::Int(2), Value::Int(3)]));
}
