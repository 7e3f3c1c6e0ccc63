//! Values are released as soon as no remaining task needs them.
//!
//! Tasks here make `Payload`s that count themselves in a shared live
//! counter (incremented on creation, decremented in `Drop`); a callback
//! reads the counter at every task start. Checked:
//!
//! - a chain of 1000 tasks on `Sync` (and `Threads::new(1)`) never has more
//!   than 2 payloads alive at a task start;
//! - a tree reduction of 1024 leaves never has more than
//!   log2(1024) + 2 = 12 alive (depth-first order releases each level);
//! - with `Threads::new(4)` the peak stays far below the number of leaves;
//! - requested keys are kept to the end (also an intermediate one, also
//!   when asked twice), and nothing else outlives the call, on success and
//!   on error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rask_graph::{Function, Graph, Registry, Task, Value};
use rask_scheduler::{get_with, Callback, Executor, Sync, TaskEvent, Threads};

/// A value that counts how many of its kind are alive.
#[derive(Debug)]
struct Payload {
    n: i64,
    live: Arc<AtomicUsize>,
}

impl Payload {
    fn new(n: i64, live: &Arc<AtomicUsize>) -> Payload {
        live.fetch_add(1, Ordering::SeqCst);
        Payload {
            n,
            live: live.clone(),
        }
    }
}

// typed functions return `Clone` values (so that lists of them convert
// to `Vec<Payload>`); a clone is one more payload alive
impl Clone for Payload {
    fn clone(&self) -> Payload {
        Payload::new(self.n, &self.live)
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

fn n_of(v: &Value) -> i64 {
    v.downcast_ref::<Payload>().expect("a payload").n
}

/// The live counter and the functions making payloads: `make(i)`,
/// `step(prev)` (prev + 1) and `combine(a, b)` (a + b). They take `Value`
/// handles, so no payload is ever copied.
struct Kit {
    live: Arc<AtomicUsize>,
    make: Function,
    step: Function,
    combine: Function,
}

impl Kit {
    fn new() -> Kit {
        let live = Arc::new(AtomicUsize::new(0));
        let (l1, l2, l3) = (live.clone(), live.clone(), live.clone());
        Kit {
            make: Function::new("make", move |i: i64| Payload::new(i, &l1)),
            step: Function::new("step", move |prev: Value| {
                Payload::new(n_of(&prev) + 1, &l2)
            }),
            combine: Function::new("combine", move |a: Value, b: Value| {
                Payload::new(n_of(&a) + n_of(&b), &l3)
            }),
            live,
        }
    }

    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

/// The peak of the live counter seen at task starts.
#[derive(Debug)]
struct Peak {
    live: Arc<AtomicUsize>,
    peak: AtomicUsize,
    starts: AtomicUsize,
}

impl Peak {
    fn new(kit: &Kit) -> Peak {
        Peak {
            live: kit.live.clone(),
            peak: AtomicUsize::new(0),
            starts: AtomicUsize::new(0),
        }
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Callback for Peak {
    fn task_started(&self, _: &TaskEvent<'_>) {
        self.starts.fetch_add(1, Ordering::SeqCst);
        self.peak
            .fetch_max(self.live.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

/// `c-0 = make(0)`, `c-i = step(c-{i-1})`.
fn chain(kit: &Kit, n: usize) -> Graph {
    let mut g = Graph::with_capacity(n);
    g.insert("c-0", Task::call(&kit.make, [0]));
    for i in 1..n {
        g.insert(
            format!("c-{i}"),
            Task::call(&kit.step, [format!("c-{}", i - 1).as_str()]),
        );
    }
    g
}

/// Leaves `("leaf", i) = make(i)`, combined pairwise level by level; the
/// root is `("node", levels, 0)`. Returns the graph and its number of
/// levels above the leaves.
fn tree(kit: &Kit, leaves: usize) -> (Graph, usize) {
    assert!(leaves.is_power_of_two());
    let mut g = Graph::new();
    let mut level: Vec<Task> = (0..leaves)
        .map(|i| {
            g.insert(("leaf", i), Task::call(&kit.make, [i]));
            Task::from(("leaf", i))
        })
        .collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(2)
            .enumerate()
            .map(|(j, pair)| {
                g.insert(("node", depth, j), Task::call(&kit.combine, pair.to_vec()));
                Task::from(("node", depth, j))
            })
            .collect();
    }
    (g, depth)
}

#[test]
fn chain_of_1000_holds_at_most_2_values() {
    for (name, ex) in [
        ("sync", &Sync as &dyn Executor),
        ("threads-1", &Threads::new(1)),
    ] {
        let kit = Kit::new();
        let g = chain(&kit, 1000);
        let peak = Peak::new(&kit);
        let v = get_with(ex, &g, "c-999", &[&peak]).unwrap();
        assert_eq!(n_of(&v), 999, "{name}");
        assert_eq!(peak.starts.load(Ordering::SeqCst), 1000, "{name}");
        assert!(
            peak.peak() <= 2,
            "{name}: {} payloads alive at once",
            peak.peak()
        );
        assert_eq!(kit.live(), 1, "{name}: only the result is alive");
        drop(v);
        assert_eq!(kit.live(), 0, "{name}: the executor keeps nothing");
    }
}

#[test]
fn tree_of_1024_leaves_holds_about_one_value_per_level() {
    for (name, ex) in [
        ("sync", &Sync as &dyn Executor),
        ("threads-1", &Threads::new(1)),
    ] {
        let kit = Kit::new();
        let (g, levels) = tree(&kit, 1024);
        assert_eq!(levels, 10);
        let peak = Peak::new(&kit);
        let v = get_with(ex, &g, ("node", 10, 0).into_key(), &[&peak]).unwrap();
        assert_eq!(n_of(&v), (0..1024).sum::<i64>(), "{name}");
        assert_eq!(peak.starts.load(Ordering::SeqCst), 2047, "{name}");
        assert!(
            peak.peak() <= levels + 2,
            "{name}: {} payloads alive at once, more than {levels} levels + 2",
            peak.peak()
        );
        drop(v);
        assert_eq!(kit.live(), 0, "{name}");
    }
}

#[test]
fn tree_on_four_threads_stays_far_below_the_leaf_count() {
    let kit = Kit::new();
    let (g, levels) = tree(&kit, 1024);
    let peak = Peak::new(&kit);
    let v = get_with(&Threads::new(4), &g, ("node", 10, 0).into_key(), &[&peak]).unwrap();
    assert_eq!(n_of(&v), (0..1024).sum::<i64>());
    // four workers each walking depth first: a few values per level each,
    // plus up to a batch of tiny tasks taken at once per worker
    assert!(
        peak.peak() <= 4 * (levels + 2 + Threads::MAX_BATCH),
        "{} payloads alive at once",
        peak.peak()
    );
    drop(v);
    assert_eq!(kit.live(), 0);
}

#[test]
fn requested_keys_are_kept_to_the_end() {
    for (name, ex) in [
        ("sync", &Sync as &dyn Executor),
        ("threads-1", &Threads::new(1)),
        ("threads-4", &Threads::new(4)),
    ] {
        let kit = Kit::new();
        let g = chain(&kit, 1000);
        let peak = Peak::new(&kit);
        let v = get_with(ex, &g, vec!["c-10", "c-999", "c-10", "c-500"], &[&peak]).unwrap();
        let ns: Vec<i64> = v.as_list().unwrap().iter().map(n_of).collect();
        assert_eq!(ns, vec![10, 999, 10, 500], "{name}");
        // c-10, and after it c-500, are kept besides the running chain
        assert!(
            peak.peak() <= 4,
            "{name}: {} payloads alive at once",
            peak.peak()
        );
        assert_eq!(
            kit.live(),
            3,
            "{name}: the three requested values, c-10 once"
        );
        drop(v);
        assert_eq!(kit.live(), 0, "{name}");
    }
}

#[test]
fn shared_input_is_released_after_its_last_consumer() {
    // two reductions over the same 64 inputs: each input feeds both
    let kit = Kit::new();
    let mut g = Graph::new();
    for i in 0..64 {
        g.insert(("x", i), Task::call(&kit.make, [i]));
    }
    for name in ["a", "b"] {
        g.insert((name, 0), Task::call(&kit.step, [("x", 0)]));
        for i in 1..64 {
            g.insert(
                (name, i),
                Task::call(&kit.combine, [(name, i - 1), ("x", i)]),
            );
        }
    }
    let peak = Peak::new(&kit);
    let v = get_with(&Sync, &g, vec![("a", 63), ("b", 63)], &[&peak]).unwrap();
    let total: i64 = (0..64).sum::<i64>() + 1;
    assert_eq!(
        v.as_list().unwrap().iter().map(n_of).collect::<Vec<_>>(),
        vec![total, total]
    );
    // interleaving the reductions keeps one input and two partial sums
    assert!(peak.peak() <= 4, "{} payloads alive at once", peak.peak());
    drop(v);
    assert_eq!(kit.live(), 0);
}

#[test]
fn nothing_is_kept_after_an_error() {
    let fail = Registry::with_builtins().get("fail").cloned().unwrap();
    for (name, ex) in [
        ("sync", &Sync as &dyn Executor),
        ("threads-1", &Threads::new(1)),
        ("threads-4", &Threads::new(4)),
    ] {
        let kit = Kit::new();
        let mut g = chain(&kit, 200);
        // c-150 fails; c-149 and everything before is alive at that point
        g.insert(
            "c-150",
            Task::call(&fail, [Task::call(&kit.step, ["c-149"])]),
        );
        let e = get_with(ex, &g, vec!["c-100", "c-199"], &[]).unwrap_err();
        assert_eq!(e.key(), Some(&"c-150".into()), "{name}");
        assert_eq!(kit.live(), 0, "{name}: a value outlived the failed call");
    }
}

/// Turns a tuple into a key (three-part tuples have no `Keys` conversion).
trait IntoKey {
    fn into_key(self) -> rask_graph::Key;
}

impl IntoKey for (&str, usize, usize) {
    fn into_key(self) -> rask_graph::Key {
        self.into()
    }
}
