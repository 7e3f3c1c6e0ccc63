//! The passes on named shapes (chain, diamond, lattice) and on random DAGs:
//! every test evaluates the graph before and after a pass and checks that
//! the keys left compute the same values.

use std::time::Instant;

use proptest::prelude::*;

use super::*;
use crate::{Function, Registry, Task, Value};

fn builtin(name: &str) -> Function {
    Registry::with_builtins()
        .get(name)
        .unwrap_or_else(|| panic!("no builtin {name}"))
        .clone()
}

/// Not cheap, unlike the arithmetic builtins.
fn double() -> Function {
    Function::new("double", |x: i64| 2 * x)
}

/// A tiny sequential evaluator: the value of every task, by id.
fn evaluate(graph: &Graph) -> Vec<Value> {
    let deps = deps::dependencies(graph).unwrap();
    let order = deps::toposort(graph).unwrap();
    let mut values: Vec<Option<Value>> = vec![None; graph.len()];
    for t in order {
        let inputs = deps
            .of(t)
            .iter()
            .map(|&d| values[d as usize].clone().unwrap());
        let v = graph
            .evaluate(t, inputs)
            .unwrap_or_else(|e| panic!("task {:?} failed: {e}", graph.key(t)));
        values[t as usize] = Some(v);
    }
    values.into_iter().map(Option::unwrap).collect()
}

/// The value of `key` in `graph`.
fn value_of(graph: &Graph, key: impl Into<Key>) -> Value {
    let key = key.into();
    let id = graph.id(&key).unwrap_or_else(|| panic!("{key:?} is gone"));
    evaluate(graph).swap_remove(id as usize)
}

/// Every key of `after` is a key of `before` with the same value.
fn assert_same_values(before: &Graph, after: &Graph) {
    let (vb, va) = (evaluate(before), evaluate(after));
    for (id, key) in after.keys().iter().enumerate() {
        let b = before.id(key).unwrap_or_else(|| panic!("{key:?} is new"));
        assert_eq!(va[id], vb[b as usize], "value of {key:?}");
    }
}

fn keys(names: &[&str]) -> Vec<Key> {
    names.iter().map(|&n| Key::from(n)).collect()
}

/// ```text
/// x0 -> x1 -> ... -> x{n-1}     x{i} = inc(x{i-1}), x0 = 0
/// ```
fn chain(n: usize) -> Graph {
    let inc = builtin("inc");
    let mut g = Graph::with_capacity(n);
    g.insert("x0", 0);
    for i in 1..n {
        g.insert(
            format!("x{i}"),
            Task::call(&inc, [Task::key(format!("x{}", i - 1))]),
        );
    }
    g
}

fn max_depth(g: &Graph) -> usize {
    g.tasks().iter().map(Task::depth).max().unwrap_or(0)
}

// ---- cull ----

/// ```text
/// x -> y -> z      y -> unused     w (alone)
/// ```
#[test]
fn cull_keeps_what_the_keys_need_in_insertion_order() {
    let inc = builtin("inc");
    let mut g = Graph::new();
    g.insert("w", 5);
    g.insert("x", 1);
    g.insert("unused", Task::call(&inc, ["y"]));
    g.insert("y", Task::call(&inc, ["x"]));
    g.insert("z", Task::call(&builtin("add"), ["y", "x"]));
    let culled = cull(&g, &keys(&["z"])).unwrap();
    assert_eq!(culled.keys(), keys(&["x", "y", "z"]));
    assert_same_values(&g, &culled);
    assert_eq!(value_of(&culled, "z"), Value::Int(3));
    // asking twice, or for a dependency too, changes nothing
    assert_eq!(
        cull(&g, &keys(&["z", "x", "z"])).unwrap().keys(),
        keys(&["x", "y", "z"])
    );
    assert!(cull(&g, &[]).unwrap().is_empty());
}

#[test]
fn cull_of_a_missing_key_is_an_error() {
    let g = chain(3);
    assert_eq!(
        cull(&g, &keys(&["x1", "nope"])).unwrap_err(),
        GraphError::MissingKey {
            key: "nope".into(),
            needed_by: None
        }
    );
    let mut g = chain(3);
    g.insert("bad", Task::call(&builtin("inc"), [Task::key("gone")]));
    assert_eq!(
        cull(&g, &keys(&["bad"])).unwrap_err(),
        GraphError::MissingKey {
            key: "gone".into(),
            needed_by: Some("bad".into())
        }
    );
    // a task nobody asked for is not looked at
    assert_eq!(cull(&g, &keys(&["x2"])).unwrap().len(), 3);
}

// ---- fuse ----

#[test]
fn chain_of_100_incs_fuses_into_groups_of_32() {
    let g = chain(100);
    let fused = fuse(&g, &keys(&["x99"])).unwrap();
    assert_eq!(fused.graph.keys(), keys(&["x31", "x63", "x95", "x99"]));
    assert_eq!(fused.absorbed.len(), 96);
    assert_eq!(fused.absorbed[0], ("x0".into(), "x31".into()));
    assert_eq!(fused.absorbed[95], ("x98".into(), "x99".into()));
    // 31 incs around the literal 0, then 32 incs around a reference
    assert_eq!(fused.graph.task(0).depth(), 32);
    assert_eq!(max_depth(&fused.graph), 33);
    assert_eq!(value_of(&fused.graph, "x99"), Value::Int(99));
    assert_same_values(&g, &fused.graph);
}

#[test]
fn chain_of_a_million_incs_through_cull_and_fuse() {
    const N: usize = 1_000_000;
    let start = Instant::now();
    let mut g = chain(N);
    let inc = builtin("inc");
    for i in 0..1000 {
        g.insert(
            format!("unused{i}"),
            Task::call(&inc, [format!("x{}", i * 7)]),
        );
    }
    let last = Key::from(format!("x{}", N - 1));
    let culled = cull(&g, std::slice::from_ref(&last)).unwrap();
    assert_eq!(culled.len(), N);
    let fused = fuse(&culled, std::slice::from_ref(&last)).unwrap();
    assert_eq!(fused.graph.len(), N.div_ceil(MAX_FUSED_TASKS));
    assert_eq!(fused.absorbed.len(), N - N.div_ceil(MAX_FUSED_TASKS));
    assert_eq!(value_of(&fused.graph, last), Value::Int(N as i64 - 1));
    let elapsed = start.elapsed();
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

#[test]
fn chain_of_a_million_incs_through_inline() {
    const N: usize = 1_000_000;
    let g = chain(N);
    let last = Key::from(format!("x{}", N - 1));
    let inlined = inline(&g, std::slice::from_ref(&last)).unwrap();
    assert!(inlined.len() < N / 30, "{} tasks left", inlined.len());
    assert!(max_depth(&inlined) <= MAX_INLINE_DEPTH);
    assert_eq!(value_of(&inlined, last), Value::Int(N as i64 - 1));
}

/// ```text
///       b
///     /   \
/// x - a     d - e - f
///     \   /
///       c
/// ```
#[test]
fn diamonds_are_not_fused_across() {
    let (inc, add) = (builtin("inc"), builtin("add"));
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("a", Task::call(&inc, ["x"]));
    g.insert("b", Task::call(&inc, ["a"]));
    g.insert("c", Task::call(&double(), ["a"]));
    g.insert("d", Task::call(&add, ["b", "c"]));
    g.insert("e", Task::call(&inc, ["d"]));
    g.insert("f", Task::call(&inc, ["e"]));
    let fused = fuse(&g, &keys(&["f"])).unwrap();
    // x -> a and d -> e -> f are chains; b, c sit across the diamond
    assert_eq!(fused.graph.keys(), keys(&["a", "b", "c", "f"]));
    assert_eq!(
        fused.absorbed,
        vec![
            ("x".into(), "a".into()),
            ("d".into(), "f".into()),
            ("e".into(), "f".into())
        ]
    );
    assert_eq!(
        format!("{:?}", fused.graph.get(&"f".into()).unwrap()),
        r#"(inc, (inc, (add, "b", "c")))"#
    );
    assert_same_values(&g, &fused.graph);
    assert_eq!(value_of(&fused.graph, "f"), Value::Int(3 + 4 + 2));

    // a bare diamond stays as it is
    let g = crate::graph! { "a" => 1, "b" => (inc_typed, "a"), "c" => (inc_typed, "a"), "d" => (add_typed, "b", "c") };
    let fused = fuse(&g, &[]).unwrap();
    assert_eq!(fused.graph.len(), 4);
    assert!(fused.absorbed.is_empty());
}

fn inc_typed(x: i64) -> i64 {
    x + 1
}

fn add_typed(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn a_key_used_twice_is_not_fused() {
    let g = crate::graph! { "a" => 1, "b" => (inc_typed, "a"), "c" => (add_typed, "b", "b"), "d" => (inc_typed, "c") };
    let fused = fuse(&g, &[]).unwrap();
    // a -> b and c -> d fuse; b -> c would compute b twice
    assert_eq!(fused.graph.keys(), keys(&["b", "d"]));
    assert_eq!(
        format!("{:?}", fused.graph.get(&"b".into()).unwrap()),
        "(inc_typed, 1)"
    );
    assert_same_values(&g, &fused.graph);
}

#[test]
fn fuse_never_absorbs_a_kept_key() {
    let g = chain(10);
    let fused = fuse(&g, &keys(&["x4", "x9"])).unwrap();
    assert_eq!(fused.graph.keys(), keys(&["x4", "x9"]));
    assert_same_values(&g, &fused.graph);
    // every key kept: nothing fuses
    let all: Vec<Key> = g.keys().to_vec();
    let fused = fuse(&g, &all).unwrap();
    assert_eq!(fused.graph.keys(), g.keys());
    assert!(fused.absorbed.is_empty());
}

#[test]
fn fuse_quotes_a_string_that_would_be_read_as_a_key() {
    let id = builtin("identity");
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("s", Task::quote("x"));
    g.insert("t", Task::call(&id, ["s"]));
    g.insert("u", Task::call(&builtin("inc"), ["x"]));
    let fused = fuse(&g, &keys(&["t", "u"])).unwrap();
    assert_eq!(
        format!("{:?}", fused.graph.get(&"t".into()).unwrap()),
        r#"(identity, quote("x"))"#
    );
    assert_eq!(value_of(&fused.graph, "t"), Value::from("x"));
    assert_same_values(&g, &fused.graph);
}

#[test]
fn fuse_through_aliases() {
    let inc = builtin("inc");
    let mut g = Graph::new();
    g.insert("a", 1);
    g.insert("b", "a"); // alias by string
    g.insert("c", Task::key("b")); // alias by key
    g.insert("d", Task::call(&inc, ["c"]));
    let fused = fuse(&g, &[]).unwrap();
    assert_eq!(format!("{:?}", fused.graph), r#"{"d": (inc, 1)}"#);
    assert_same_values(&g, &fused.graph);
}

// ---- inline ----

#[test]
fn inline_constants_and_cheap_functions() {
    let (inc, add) = (builtin("inc"), builtin("add"));
    let mut g = Graph::new();
    g.insert("one", 1);
    g.insert("ten", 10);
    g.insert("y", Task::call(&inc, ["one"]));
    g.insert("z", Task::call(&add, ["y", "ten"]));
    g.insert("slow", Task::call(&double(), ["z"]));
    g.insert("alias", "slow");
    g.insert("out", Task::call(&add, ["alias", "z"]));
    let inlined = inline(&g, &keys(&["out"])).unwrap();
    assert_eq!(
        format!("{inlined:?}"),
        r#"{"slow": (double, (add, (inc, 1), 10)), "out": (add, "slow", (add, (inc, 1), 10))}"#
    );
    assert_same_values(&g, &inlined);
    assert_eq!(value_of(&inlined, "out"), Value::Int(24 + 12));
}

#[test]
fn inline_never_removes_kept_keys_or_outputs() {
    let inc = builtin("inc");
    let mut g = Graph::new();
    g.insert("a", 1);
    g.insert("b", Task::call(&inc, ["a"]));
    g.insert("c", Task::call(&inc, ["b"]));
    g.insert("d", Task::call(&inc, ["c"]));
    g.insert("lonely", 7); // cheap, but nothing uses it: stays
    let inlined = inline(&g, &keys(&["b"])).unwrap();
    assert_eq!(inlined.keys(), keys(&["b", "d", "lonely"]));
    assert_eq!(
        format!("{:?}", inlined.get(&"b".into()).unwrap()),
        "(inc, 1)"
    );
    assert_eq!(
        format!("{:?}", inlined.get(&"d".into()).unwrap()),
        r#"(inc, (inc, "b"))"#
    );
    assert_same_values(&g, &inlined);
    let all: Vec<Key> = g.keys().to_vec();
    let kept = inline(&g, &all).unwrap();
    assert_eq!(format!("{kept:?}"), format!("{g:?}"));
}

#[test]
fn inline_does_not_misread_a_string_equal_to_a_key() {
    let (id, len) = (builtin("identity"), builtin("len"));
    let mut g = Graph::new();
    g.insert("x", Task::call(&double(), [21]));
    g.insert("label", Task::quote("x")); // the string "x"
    g.insert("text", "hello"); // a string that is no key
    g.insert("alias", "x"); // the key x
    g.insert("a", Task::call(&id, ["label"]));
    g.insert("b", Task::call(&len, ["text"]));
    g.insert("c", Task::call(&id, ["alias"]));
    g.insert("d", Task::key("label")); // an alias of a literal
    let kept = keys(&["a", "b", "c", "d"]);
    let inlined = inline(&g, &kept).unwrap();
    assert_eq!(
        format!("{inlined:?}"),
        r#"{"x": (double, 21), "a": (identity, quote("x")), "b": (len, quote("hello")), "c": (identity, "x"), "d": quote("x")}"#
    );
    assert_eq!(value_of(&inlined, "a"), Value::from("x"));
    assert_eq!(value_of(&inlined, "c"), Value::Int(42));
    assert_eq!(value_of(&inlined, "d"), Value::from("x"));
    assert_same_values(&g, &inlined);
}

#[test]
fn inline_bounds_the_depth_of_tasks() {
    let g = chain(100);
    let inlined = inline(&g, &keys(&["x99"])).unwrap();
    assert!(max_depth(&inlined) <= MAX_INLINE_DEPTH);
    // each task left holds 31 incs around a reference (or the literal)
    assert_eq!(inlined.len(), 4, "{:?}", inlined.keys());
    assert_same_values(&g, &inlined);
    assert_eq!(value_of(&inlined, "x99"), Value::Int(99));
}

/// ```text
/// y0  z0        y{i} = add(y{i-1}, z{i-1})
///  | X |        z{i} = add(z{i-1}, y{i-1})
/// y1  z1        copying each into both dependents doubles the size
///  | X |        at every level
/// ...
/// ```
#[test]
fn inline_of_a_lattice_stays_small() {
    let add = builtin("add");
    let mut g = Graph::new();
    g.insert("y0", 1);
    g.insert("z0", 1);
    for i in 1..50 {
        let (y, z) = (format!("y{}", i - 1), format!("z{}", i - 1));
        g.insert(format!("y{i}"), Task::call(&add, [y.as_str(), z.as_str()]));
        g.insert(format!("z{i}"), Task::call(&add, [z.as_str(), y.as_str()]));
    }
    g.insert("out", Task::call(&add, ["y49", "z49"]));
    let inlined = inline(&g, &keys(&["out"])).unwrap();
    let biggest = inlined
        .tasks()
        .iter()
        .map(|t| subs::shape(t).nodes)
        .max()
        .unwrap_or(0);
    assert!(
        biggest <= 2 * MAX_INLINE_NODES + 1,
        "a task of {biggest} nodes"
    );
    assert!(inlined.len() < g.len());
    assert_same_values(&g, &inlined);
    assert_eq!(value_of(&inlined, "out"), Value::Int(1 << 50));
}

#[test]
fn passes_report_bad_graphs() {
    let inc = builtin("inc");
    let mut g = Graph::new();
    g.insert("a", Task::call(&inc, ["c"]));
    g.insert("b", Task::call(&inc, ["a"]));
    g.insert("c", Task::call(&inc, ["b"]));
    assert!(matches!(inline(&g, &[]), Err(GraphError::Cycle { .. })));
    assert!(matches!(fuse(&g, &[]), Err(GraphError::Cycle { .. })));
    let g = chain(3);
    let missing = GraphError::MissingKey {
        key: "nope".into(),
        needed_by: None,
    };
    assert_eq!(inline(&g, &keys(&["nope"])).unwrap_err(), missing);
    assert_eq!(fuse(&g, &keys(&["nope"])).unwrap_err(), missing);
}

// ---- random DAGs ----

/// One task of a random graph: its kind, picks among earlier tasks, a
/// small literal, and whether it is kept.
#[derive(Debug, Clone)]
struct Spec {
    kind: u8,
    picks: [usize; 3],
    lit: i64,
    keep: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0_u8..13,
        any::<[usize; 3]>(),
        0_i64..10,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(kind, picks, lit, keep)| Spec {
            kind,
            picks,
            lit,
            keep,
        })
}

/// Builds a well-typed random DAG (ints and strings, so that no task
/// fails) over the builtins, a non-cheap function, lists, aliases by key
/// and by string, nested calls (some deep), quoted strings equal to keys,
/// and tuple keys; returns it with its kept keys.
fn random_graph(specs: &[Spec]) -> (Graph, Vec<Key>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Ty {
        Int,
        Str,
        /// a string literal, safe to concatenate
        Text,
    }
    let key_of = |i: usize| -> Key {
        if i % 3 == 2 {
            Key::from(("t", i))
        } else {
            Key::from(format!("k{i}"))
        }
    };
    let (inc, add, sum, len, id, dbl) = (
        builtin("inc"),
        builtin("add"),
        builtin("sum"),
        builtin("len"),
        builtin("identity"),
        double(),
    );
    let mut g = Graph::new();
    let mut types: Vec<Ty> = Vec::new();
    let mut kept = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let pick = |j: usize, want: &dyn Fn(Ty) -> bool| -> Option<usize> {
            let ok: Vec<usize> = (0..i).filter(|&d| want(types[d])).collect();
            (!ok.is_empty()).then(|| ok[s.picks[j] % ok.len()])
        };
        let int = |t: Ty| t == Ty::Int;
        let string = |t: Ty| t != Ty::Int;
        let r = |d: usize| Task::key(key_of(d));
        let (task, ty) = match s.kind {
            1 => pick(0, &int).map(|d| (Task::call(&inc, [r(d)]), Ty::Int)),
            2 => pick(0, &int)
                .zip(pick(1, &int))
                .map(|(a, b)| (Task::call(&add, [r(a), r(b)]), Ty::Int)),
            3 => pick(0, &int).map(|d| (Task::call(&dbl, [r(d)]), Ty::Int)),
            4 => pick(0, &int)
                .zip(pick(1, &int))
                .zip(pick(2, &int))
                .map(|((a, b), c)| {
                    let items = Task::list([r(a), r(b), Task::from(s.lit), r(c)]);
                    (Task::call(&sum, [items]), Ty::Int)
                }),
            5 => pick(0, &|_| true).map(|d| {
                (
                    r(d),
                    if types[d] == Ty::Int {
                        Ty::Int
                    } else {
                        Ty::Str
                    },
                )
            }),
            6 => pick(0, &|_| true).map(|d| {
                let t = match key_of(d) {
                    Key::Str(name) => Task::Value(Value::Str(name.as_str().into())),
                    k => Task::Key(k),
                };
                (
                    t,
                    if types[d] == Ty::Int {
                        Ty::Int
                    } else {
                        Ty::Str
                    },
                )
            }),
            7 => pick(0, &string).map(|d| (Task::call(&len, [r(d)]), Ty::Int)),
            8 => pick(0, &int).map(|d| {
                (
                    Task::call(&add, [Task::call(&inc, [r(d)]), Task::from(s.lit)]),
                    Ty::Int,
                )
            }),
            9 => {
                // a string equal to a key (earlier or later), quoted; or free text
                let name = format!("k{}", s.picks[0] % (specs.len() + 1));
                Some(if s.lit % 2 == 0 {
                    (Task::quote(name), Ty::Text)
                } else {
                    (Task::from(format!("text {}", s.lit)), Ty::Text)
                })
            }
            10 => pick(0, &|_| true).map(|d| {
                (
                    Task::call(&id, [r(d)]),
                    if types[d] == Ty::Int {
                        Ty::Int
                    } else {
                        Ty::Str
                    },
                )
            }),
            11 => pick(0, &|t| t == Ty::Text)
                .zip(pick(1, &|t| t == Ty::Text))
                .map(|(a, b)| (Task::call(&add, [r(a), r(b)]), Ty::Str)),
            12 => pick(0, &int).map(|d| {
                // deep nesting, so that inlining meets the depth bound
                let mut t = r(d);
                for _ in 0..=s.lit * 3 {
                    t = Task::call(&inc, [t]);
                }
                (t, Ty::Int)
            }),
            _ => None,
        }
        .unwrap_or((Task::from(s.lit), Ty::Int));
        g.insert(key_of(i), task);
        types.push(ty);
        if s.keep {
            kept.push(key_of(i));
        }
    }
    (g, kept)
}

proptest! {
    #[test]
    fn passes_keep_the_values_of_kept_keys(specs in prop::collection::vec(spec(), 1..40)) {
        let (g, kept) = random_graph(&specs);
        let before = evaluate(&g);
        let check = |after: &Graph, must_keep: &[Key]| {
            let va = evaluate(after);
            for (id, key) in after.keys().iter().enumerate() {
                let b = g.id(key).expect("no new keys");
                prop_assert_eq!(&va[id], &before[b as usize], "value of {:?}", key);
            }
            for key in must_keep {
                prop_assert!(after.contains(key), "{:?} was removed", key);
            }
            Ok(())
        };

        let culled = cull(&g, &kept).unwrap();
        check(&culled, &kept)?;

        let inlined = inline(&g, &kept).unwrap();
        check(&inlined, &kept)?;
        prop_assert!(max_depth(&inlined) <= MAX_INLINE_DEPTH);

        let fused = fuse(&g, &kept).unwrap();
        check(&fused.graph, &kept)?;
        prop_assert_eq!(fused.graph.len() + fused.absorbed.len(), g.len());
        for (gone, into) in &fused.absorbed {
            prop_assert!(!fused.graph.contains(gone));
            prop_assert!(fused.graph.contains(into));
        }

        let all = fuse(&inline(&cull(&g, &kept).unwrap(), &kept).unwrap(), &kept).unwrap();
        check(&all.graph, &kept)?;
    }
}
