//! The executors agree with each other and with a model: random DAGs of up
//! to 300 tasks (proptest; one fixed case of 10,000 tasks besides) built
//! from the built-in functions (`inc`, `add` on numbers and on lists,
//! `sum` over list arguments and list values, `identity`, nested calls),
//! literals, aliases (string references and `Task::key`), list tasks,
//! string and tuple keys, inserted in a shuffled order, asked for with
//! random nested lists of keys (repeats included).
//!
//! A plain Rust evaluation of the same recipe (the model) gives the
//! expected values. `Sync` must give them, and `Threads::new(1..=4)` must
//! give exactly what `Sync` gives. Sometimes one `fail` task is injected:
//! when a requested key needs it both executors fail, naming that key
//! (there is only one failing task, so with threads too the key is
//! determined); when no requested key needs it both succeed.

use proptest::prelude::*;
use rask_graph::{Function, Graph, Key, Plan, Registry, Task, Value};
use rask_scheduler::{get_with, ComputeError, Keys, Sync, Threads};

/// What the model computes for a node: `None` when it needs the failing
/// task.
#[derive(Debug, Clone, PartialEq)]
enum Model {
    Int(i64),
    List(Vec<i64>),
}

impl Model {
    fn value(&self) -> Value {
        match self {
            Model::Int(i) => Value::Int(*i),
            Model::List(v) => Value::list(v.iter().map(|&i| Value::Int(i))),
        }
    }
}

/// One node of a random graph, decoded against the nodes before it.
#[derive(Debug, Clone)]
struct Recipe {
    kind: u8,
    a: u32,
    b: u32,
    items: Vec<u32>,
    lit: i8,
    /// Refer to string keys with a plain string (as Dask does) rather than
    /// `Task::key`.
    by_string: bool,
}

fn recipe() -> impl Strategy<Value = Recipe> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(any::<u32>(), 0..6),
        any::<i8>(),
        any::<bool>(),
    )
        .prop_map(|(kind, a, b, items, lit, by_string)| Recipe {
            kind,
            a,
            b,
            items,
            lit,
            by_string,
        })
}

/// Requested keys: indices into the nodes, nested.
#[derive(Debug, Clone)]
enum Req {
    One(u32),
    Many(Vec<Req>),
}

fn req() -> impl Strategy<Value = Req> {
    any::<u32>()
        .prop_map(Req::One)
        .prop_recursive(3, 16, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(Req::Many)
        })
}

/// A request that asks for at least one key: one key, or a list of one to
/// four nested requests.
fn nonempty_req() -> impl Strategy<Value = Req> {
    prop_oneof![
        any::<u32>().prop_map(Req::One),
        (any::<u32>(), prop::collection::vec(req(), 0..4)).prop_map(|(first, mut rest)| {
            rest.insert(0, Req::One(first));
            Req::Many(rest)
        }),
    ]
}

struct Builtins {
    inc: Function,
    add: Function,
    sum: Function,
    identity: Function,
    fail: Function,
}

impl Builtins {
    fn new() -> Builtins {
        let reg = Registry::with_builtins();
        let f = |name: &str| reg.get(name).cloned().unwrap();
        Builtins {
            inc: f("inc"),
            add: f("add"),
            sum: f("sum"),
            identity: f("identity"),
            fail: f("fail"),
        }
    }
}

/// A random graph with its model values.
struct Built {
    graph: Graph,
    keys: Vec<Key>,
    model: Vec<Option<Model>>,
    fail: Option<usize>,
}

/// Node `i`'s key: a tuple key for every third node, a string otherwise.
fn key_of(i: usize) -> Key {
    match i % 3 {
        0 => Key::from(("t", i)),
        _ => Key::from(format!("k{i}")),
    }
}

const MAX_LIST: usize = 64;

/// An index below `len` (at least 1) chosen by `x`: three times in four
/// one of the last 8, so that graphs are deep, else any.
fn near(x: u32, len: usize) -> usize {
    let len = len.max(1);
    let y = (x >> 2) as usize;
    if x & 3 != 0 {
        len - 1 - y % len.min(8)
    } else {
        y % len
    }
}

/// Builds the graph of `recipes`; node `fail` (if any) is `fail("boom")`.
/// Insertion order is shuffled by `seed`.
fn build(recipes: &[Recipe], fail: Option<usize>, seed: u64) -> Built {
    let b = Builtins::new();
    let n = recipes.len();
    let keys: Vec<Key> = (0..n).map(key_of).collect();
    // the type each node has (a failing node pretends to be an integer:
    // its dependents never run)
    let mut is_list: Vec<bool> = Vec::with_capacity(n);
    let mut model: Vec<Option<Model>> = Vec::with_capacity(n);
    let mut tasks: Vec<Task> = Vec::with_capacity(n);
    // the integer and the list nodes so far
    let (mut ints, mut lists): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let reference = |j: usize, by_string: bool| -> Task {
        match &keys[j] {
            Key::Str(s) if by_string => Task::from(&**s),
            k => Task::key(k.clone()),
        }
    };
    for (i, r) in recipes.iter().enumerate() {
        let lit = i64::from(r.lit);
        let literal = (Task::from(lit), Some(Model::Int(lit)), false);
        let pick = |x: u32| near(x, i);
        let pick_int = |x: u32| (!ints.is_empty()).then(|| ints[near(x, ints.len())]);
        let pick_list = |x: u32| (!lists.is_empty()).then(|| lists[near(x, lists.len())]);
        let int_of = |j: usize| -> Option<Option<i64>> {
            match &model[j] {
                None => Some(None),
                Some(Model::Int(v)) => Some(Some(*v)),
                Some(Model::List(_)) => None,
            }
        };
        let (task, value, list) = if Some(i) == fail {
            (Task::call(&b.fail, [Task::quote("boom")]), None, false)
        } else if i == 0 {
            literal
        } else {
            match r.kind % 12 {
                // alias, of any node
                0 | 1 => {
                    let j = pick(r.a);
                    (reference(j, r.by_string), model[j].clone(), is_list[j])
                }
                // inc(j)
                2 => match pick_int(r.a) {
                    None => literal,
                    Some(j) => match int_of(j).unwrap() {
                        None => (Task::call(&b.inc, [reference(j, r.by_string)]), None, false),
                        Some(v) => match v.checked_add(1) {
                            Some(w) => (
                                Task::call(&b.inc, [reference(j, r.by_string)]),
                                Some(Model::Int(w)),
                                false,
                            ),
                            None => literal,
                        },
                    },
                },
                // add(j, k) of numbers, or of a number and a literal
                3 | 4 => match (pick_int(r.a), pick_int(r.b)) {
                    (Some(j), Some(k)) => {
                        let second = if r.kind % 12 == 3 {
                            reference(k, !r.by_string)
                        } else {
                            Task::from(lit)
                        };
                        let y = if r.kind % 12 == 3 {
                            int_of(k).unwrap()
                        } else {
                            Some(lit)
                        };
                        let t = Task::call(&b.add, [reference(j, r.by_string), second]);
                        match (int_of(j).unwrap(), y) {
                            (Some(x), Some(y)) => match x.checked_add(y) {
                                Some(s) => (t, Some(Model::Int(s)), false),
                                None => literal,
                            },
                            _ => (t, None, false),
                        }
                    }
                    _ => literal,
                },
                // add(j, j): the same input twice
                5 => match pick_int(r.a) {
                    None => literal,
                    Some(j) => {
                        let t = Task::call(
                            &b.add,
                            [reference(j, r.by_string), reference(j, !r.by_string)],
                        );
                        match int_of(j).unwrap() {
                            None => (t, None, false),
                            Some(x) => match x.checked_add(x) {
                                Some(s) => (t, Some(Model::Int(s)), false),
                                None => literal,
                            },
                        }
                    }
                },
                // sum([refs, inc(ref), literals]) over integer nodes
                6 => {
                    let mut items = Vec::new();
                    let (mut total, mut failed, mut overflow) = (Some(0_i64), false, false);
                    for (m, &x) in r.items.iter().enumerate() {
                        let (item, v) = match (m % 3, pick_int(x)) {
                            (0, Some(j)) => (reference(j, r.by_string), int_of(j).unwrap()),
                            (1, Some(j)) => (
                                Task::call(&b.inc, [reference(j, r.by_string)]),
                                int_of(j).unwrap().map(|v| {
                                    overflow |= v == i64::MAX;
                                    v.wrapping_add(1)
                                }),
                            ),
                            _ => (Task::from(i64::from(x as u8)), Some(i64::from(x as u8))),
                        };
                        items.push(item);
                        match v {
                            None => failed = true,
                            Some(v) => total = total.and_then(|t| t.checked_add(v)),
                        }
                    }
                    let t = Task::call(&b.sum, [Task::list(items)]);
                    match (failed, total) {
                        (true, _) => (t, None, false),
                        _ if overflow => literal,
                        (false, Some(s)) => (t, Some(Model::Int(s)), false),
                        (false, None) => literal,
                    }
                }
                // a list task of integer nodes
                7 => {
                    let picked: Vec<usize> = r.items.iter().filter_map(|&x| pick_int(x)).collect();
                    let t = Task::list(picked.iter().map(|&j| reference(j, r.by_string)));
                    let values: Option<Vec<i64>> =
                        picked.iter().map(|&j| int_of(j).unwrap()).collect();
                    (t, values.map(Model::List), true)
                }
                // sum(list node)
                8 => match pick_list(r.a) {
                    None => literal,
                    Some(j) => {
                        let t = Task::call(&b.sum, [reference(j, r.by_string)]);
                        match &model[j] {
                            None => (t, None, false),
                            Some(Model::List(v)) => {
                                match v.iter().try_fold(0_i64, |s, &x| s.checked_add(x)) {
                                    Some(s) => (t, Some(Model::Int(s)), false),
                                    None => literal,
                                }
                            }
                            Some(Model::Int(_)) => unreachable!(),
                        }
                    }
                },
                // add(list, list): concatenation
                9 => match (pick_list(r.a), pick_list(r.b)) {
                    (Some(j), Some(k)) => {
                        let t = Task::call(
                            &b.add,
                            [reference(j, r.by_string), reference(k, r.by_string)],
                        );
                        match (&model[j], &model[k]) {
                            (Some(Model::List(x)), Some(Model::List(y))) => {
                                if x.len() + y.len() > MAX_LIST {
                                    literal
                                } else {
                                    (t, Some(Model::List([x.clone(), y.clone()].concat())), true)
                                }
                            }
                            _ => (t, None, true),
                        }
                    }
                    _ => literal,
                },
                // identity(j), of any node
                10 => {
                    let j = pick(r.a);
                    (
                        Task::call(&b.identity, [reference(j, r.by_string)]),
                        model[j].clone(),
                        is_list[j],
                    )
                }
                // a nested call: inc(add(j, k))
                _ => match (pick_int(r.a), pick_int(r.b)) {
                    (Some(j), Some(k)) => {
                        let t = Task::call(
                            &b.inc,
                            [Task::call(
                                &b.add,
                                [reference(j, r.by_string), reference(k, r.by_string)],
                            )],
                        );
                        match (int_of(j).unwrap(), int_of(k).unwrap()) {
                            (Some(x), Some(y)) => {
                                match x.checked_add(y).and_then(|s| s.checked_add(1)) {
                                    Some(s) => (t, Some(Model::Int(s)), false),
                                    None => literal,
                                }
                            }
                            _ => (t, None, false),
                        }
                    }
                    _ => literal,
                },
            }
        };
        tasks.push(task);
        model.push(value);
        is_list.push(list);
        if list {
            lists.push(i);
        } else {
            ints.push(i);
        }
    }
    // insert in a shuffled order, so that ids do not follow the DAG
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix(seed);
    for i in (1..n).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let mut graph = Graph::with_capacity(n);
    for &i in &order {
        graph.insert(keys[i].clone(), tasks[i].clone());
    }
    Built {
        graph,
        keys,
        model,
        fail,
    }
}

/// SplitMix64, for shuffles and the fixed large case.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The requested keys and the expected result (`None`: it fails).
fn request(built: &Built, r: &Req) -> (Keys, Option<Value>) {
    let n = built.keys.len();
    match r {
        Req::One(x) => {
            let i = near(*x, n);
            (
                Keys::One(built.keys[i].clone()),
                built.model[i].as_ref().map(Model::value),
            )
        }
        Req::Many(items) => {
            let (keys, values): (Vec<Keys>, Vec<Option<Value>>) =
                items.iter().map(|r| request(built, r)).unzip();
            let values: Option<Vec<Value>> = values.into_iter().collect();
            (Keys::Many(keys), values.map(Value::list))
        }
    }
}

/// Runs `keys` on `Sync` and `Threads::new(workers)` and checks both
/// against `expected`.
fn check_agree(
    built: &Built,
    keys: &Keys,
    expected: &Option<Value>,
    workers: usize,
) -> Result<(), TestCaseError> {
    let sync = get_with(&Sync, &built.graph, keys.clone(), &[]);
    let threads = get_with(&Threads::new(workers), &built.graph, keys.clone(), &[]);
    match expected {
        Some(v) => {
            let sync = sync.map_err(|e| TestCaseError::fail(format!("sync failed: {e}")))?;
            prop_assert_eq!(&sync, v, "sync against the model");
            let threads =
                threads.map_err(|e| TestCaseError::fail(format!("threads failed: {e}")))?;
            prop_assert_eq!(&threads, &sync, "threads-{} against sync", workers);
        }
        None => {
            let fail_key = &built.keys[built.fail.expect("only the failing task fails")];
            let message = format!("task {fail_key:?} failed: fail: boom");
            for (name, result) in [("sync", sync), ("threads", threads)] {
                match result {
                    Ok(v) => prop_assert!(
                        false,
                        "{} succeeded with {:?}, expected {}",
                        name,
                        v,
                        message
                    ),
                    Err(e) => {
                        prop_assert!(matches!(e, ComputeError::Task { .. }), "{}: {:?}", name, e);
                        prop_assert_eq!(e.key(), Some(fail_key), "{}", name);
                        prop_assert_eq!(e.to_string(), message.clone(), "{}", name);
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn sync_and_threads_agree_with_the_model(
        recipes in prop::collection::vec(recipe(), 1..300),
        requests in nonempty_req(),
        fail in prop::option::weighted(0.5, (any::<bool>(), any::<u32>())),
        seed in any::<u64>(),
        workers in 1_usize..=4,
    ) {
        let fail = fail.map(|(needed, x)| {
            if needed {
                // a node the request needs (in the graph without failure)
                let built = build(&recipes, None, seed);
                let (keys, _) = request(&built, &requests);
                let plan = Plan::for_keys(&built.graph, &keys.flatten()).unwrap();
                let key = built.graph.key(plan.graph_id(x % plan.len() as u32));
                built.keys.iter().position(|k| k == key).unwrap()
            } else {
                near(x, recipes.len())
            }
        });
        let built = build(&recipes, fail, seed);
        let (keys, expected) = request(&built, &requests);
        check_agree(&built, &keys, &expected, workers)?;
    }

    #[test]
    fn every_single_key_agrees(
        recipes in prop::collection::vec(recipe(), 1..60),
        fail in prop::option::weighted(0.3, any::<u32>()),
        seed in any::<u64>(),
    ) {
        let fail = fail.map(|f| f as usize % recipes.len());
        let built = build(&recipes, fail, seed);
        for i in 0..recipes.len() {
            let (keys, expected) = request(&built, &exactly(i));
            check_agree(&built, &keys, &expected, 1 + i % 4)?;
        }
    }
}

fn random_recipes(n: usize, rng: &mut SplitMix) -> Vec<Recipe> {
    (0..n)
        .map(|_| {
            let r = rng.next();
            Recipe {
                kind: r as u8,
                a: (r >> 8) as u32,
                b: (r >> 40) as u32,
                items: (0..(r >> 32) % 6).map(|_| rng.next() as u32).collect(),
                lit: (r >> 56) as i8,
                by_string: r & (1 << 63) != 0,
            }
        })
        .collect()
}

/// The request of node `i` (which [`near`] reads from `4 i`).
fn exactly(i: usize) -> Req {
    Req::One(i as u32 * 4)
}

/// Every key that no task depends on, in lists of ten: asking for them
/// runs the whole graph.
fn all_sinks(built: &Built) -> Req {
    let dependents = rask_graph::deps::dependents(&built.graph).unwrap();
    let sinks: Vec<Req> = built
        .keys
        .iter()
        .enumerate()
        .filter(|(_, k)| dependents.of(built.graph.id(k).unwrap()).is_empty())
        .map(|(i, _)| exactly(i))
        .collect();
    Req::Many(sinks.chunks(10).map(|c| Req::Many(c.to_vec())).collect())
}

#[test]
fn ten_thousand_tasks_agree() {
    let mut rng = SplitMix(2024);
    let recipes = random_recipes(10_000, &mut rng);
    let built = build(&recipes, None, 7);
    let (keys, expected) = request(&built, &all_sinks(&built));
    assert!(expected.is_some());
    let plan = Plan::for_keys(&built.graph, &keys.flatten()).unwrap();
    assert_eq!(plan.len(), 10_000, "the whole graph runs");
    for workers in [1, 4] {
        check_agree(&built, &keys, &expected, workers).unwrap();
    }
}

#[test]
fn ten_thousand_tasks_with_a_failure_agree() {
    let mut rng = SplitMix(99);
    let recipes = random_recipes(10_000, &mut rng);
    for (fail, seed) in [(5_000, 1), (9_990, 2), (10, 3)] {
        let built = build(&recipes, Some(fail), seed);
        let (keys, expected) = request(&built, &all_sinks(&built));
        assert!(expected.is_none(), "every task is needed");
        check_agree(&built, &keys, &expected, 3).unwrap();
        // the last hundred nodes, which may or may not need the failure
        let some = Req::Many((9_900..10_000).map(exactly).collect());
        let (keys, expected) = request(&built, &some);
        check_agree(&built, &keys, &expected, 2).unwrap();
    }
}
