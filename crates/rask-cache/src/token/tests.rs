use rask_graph::{graph, Function, Graph, Key, Plan, Task, Value};

use super::*;

fn inc(x: i64) -> i64 {
    x + 1
}
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// The tokens of `keys`' tasks, by key.
fn by_key(g: &Graph, keys: &[&str]) -> Vec<(Key, Option<Token>)> {
    let keys: Vec<Key> = keys.iter().map(|&k| k.into()).collect();
    let plan = Plan::for_keys(g, &keys).unwrap();
    let t = tokens(g, &plan);
    let mut out: Vec<(Key, Option<Token>)> = (0..plan.len() as TaskId)
        .map(|l| (g.key(plan.graph_id(l)).clone(), t[l as usize]))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn token_of(g: &Graph, key: &str) -> Option<Token> {
    let plan = Plan::for_keys(g, &[key.into()]).unwrap();
    tokens(g, &plan)[plan.outputs()[0] as usize]
}

#[test]
fn a_changed_input_changes_exactly_its_dependents() {
    // x ─ y ─ z
    // w ──────┘ and v = inc(w) beside them
    let a =
        graph! { "x" => 1, "w" => 5, "y" => (inc, "x"), "z" => (add, "y", "w"), "v" => (inc, "w") };
    let b =
        graph! { "x" => 2, "w" => 5, "y" => (inc, "x"), "z" => (add, "y", "w"), "v" => (inc, "w") };
    let ta = by_key(&a, &["z", "v"]);
    let tb = by_key(&b, &["z", "v"]);
    let changed: Vec<String> = ta
        .iter()
        .zip(&tb)
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, _)| x.0.to_string())
        .collect();
    assert_eq!(changed, ["x", "y", "z"]);
}

#[test]
fn keys_are_not_part_of_tokens_but_functions_and_literals_are() {
    let a = graph! { "x" => 1, "y" => (inc, "x") };
    let renamed = graph! { ("in", 0) => 1, ("out", 0) => (inc, ("in", 0)) };
    let plan = Plan::for_keys(&renamed, &[("out", 0).into()]).unwrap();
    assert_eq!(
        tokens(&renamed, &plan)[plan.outputs()[0] as usize],
        token_of(&a, "y")
    );
    let other_fn = {
        let dec = Function::new("dec", |x: i64| x - 1);
        let mut g = graph! { "x" => 1 };
        g.insert("y", Task::call(&dec, ["x"]));
        g
    };
    assert_ne!(token_of(&other_fn, "y"), token_of(&a, "y"));
    let float = graph! { "x" => 1.0, "y" => (inc, "x") };
    assert_ne!(token_of(&float, "y"), token_of(&a, "y"), "1 and 1.0 differ");
}

#[test]
fn refs_and_literals_and_lists_are_told_apart() {
    // "x" as a reference, as a quoted string; [x] as a list
    let by_ref = graph! { "x" => 1, "y" => (add, "x", "x") };
    let f = Function::dynamic("f", rask_graph::Arity::at_least(0), |a| {
        Ok(Value::new(a.len()))
    });
    let mut quoted = graph! { "x" => 1 };
    quoted.insert("y", Task::call(&f, [Task::quote("x")]));
    let mut listed = graph! { "x" => 1 };
    listed.insert("y", Task::call(&f, [Task::list(["x"])]));
    let mut plain = graph! { "x" => 1 };
    plain.insert("y", Task::call(&f, ["x"]));
    let all = [
        token_of(&by_ref, "y"),
        token_of(&quoted, "y"),
        token_of(&listed, "y"),
        token_of(&plain, "y"),
    ];
    for i in 0..all.len() {
        for j in 0..i {
            assert_ne!(all[i], all[j], "{i} vs {j}");
        }
    }
}

#[test]
fn an_alias_has_its_targets_token() {
    let g = graph! { "x" => 1, "y" => (inc, "x"), "w" => "y", "k" => (Task::key("y")) };
    assert_eq!(token_of(&g, "w"), token_of(&g, "y"));
    assert_eq!(token_of(&g, "k"), token_of(&g, "y"));
}

#[test]
fn a_literal_without_codec_makes_its_task_and_dependents_uncacheable() {
    struct NoCodec;
    let f = Function::dynamic("f", rask_graph::Arity::exactly(1), |_| Ok(Value::Int(1)));
    let mut g = graph! { "x" => 1, "other" => (inc, "x") };
    g.insert("y", Task::call(&f, [Task::Value(Value::new(NoCodec))]));
    g.insert("z", Task::call(&f, ["y"]));
    g.insert("top", Task::list(["z", "other"]));
    let t = by_key(&g, &["top"]);
    let missing: Vec<String> = t
        .iter()
        .filter(|(_, t)| t.is_none())
        .map(|(k, _)| k.to_string())
        .collect();
    assert_eq!(missing, ["top", "y", "z"]);
}

#[test]
fn a_long_chain_needs_no_deep_stack() {
    let mut g = Graph::new();
    g.insert("c-0", 0);
    let inc = Function::new("inc", inc);
    for i in 1..200_000 {
        g.insert(format!("c-{i}"), Task::call(&inc, [format!("c-{}", i - 1)]));
    }
    let deep = (0..10_000).fold(Task::from("c-0"), |t, _| Task::call(&inc, [t]));
    g.insert("deep", deep);
    let plan = Plan::for_keys(&g, &["c-199999".into(), "deep".into()]).unwrap();
    let t = tokens(&g, &plan);
    assert!(t.iter().all(Option::is_some));
}

#[test]
fn calls_are_found_in_lists() {
    let f = Function::new("inc", inc);
    assert!(calls_a_function(&Task::call(&f, [1])));
    assert!(calls_a_function(&Task::list([
        Task::from(1),
        Task::call(&f, [1])
    ])));
    assert!(!calls_a_function(&Task::list(["x", "y"])));
    assert!(!calls_a_function(&Task::from(1)));
}

#[test]
fn a_literal_nested_a_million_deep_has_a_token() {
    // regression: the token's encoding of a literal recursed on its depth
    let deep = |leaf: i64| {
        let mut v = Value::Int(leaf);
        for _ in 0..1_000_000 {
            v = Value::list([v]);
        }
        v
    };
    let mut a = Graph::new();
    a.insert("x", deep(1));
    a.insert(
        "y",
        Task::call(&Function::new("len", |v: Vec<Value>| v.len() as i64), ["x"]),
    );
    let mut b = Graph::new();
    b.insert("x", deep(2));
    b.insert(
        "y",
        Task::call(&Function::new("len", |v: Vec<Value>| v.len() as i64), ["x"]),
    );
    let (ta, tb) = (token_of(&a, "y"), token_of(&b, "y"));
    assert!(ta.is_some());
    assert_ne!(ta, tb);
}

#[test]
fn tokens_keep_their_values_across_versions() {
    // pinned: a change here makes every cache entry ever written missing
    let mut g = graph! { "x" => 1, "s" => "text", "y" => (inc, "x"), "z" => (inc, "y") };
    g.insert(
        "l",
        Task::list([Task::key("y"), Task::from(2.5), Task::quote("q")]),
    );
    let plan = Plan::for_keys(&g, &["z".into(), "l".into(), "s".into()]).unwrap();
    let t = tokens(&g, &plan);
    let by_key = |k: &str| {
        let l = (0..plan.len() as u32)
            .find(|&l| g.key(plan.graph_id(l)).to_string() == k)
            .unwrap();
        t[l as usize].unwrap().to_string()
    };
    let got: Vec<String> = ["x", "s", "y", "z", "l"]
        .iter()
        .map(|k| by_key(k))
        .collect();
    assert_eq!(
        got,
        [
            "e37a377779947301af4e84e2c6acd84193a9f112e4df602f84f904c8d4f93d66",
            "cf88716b0cd9095a1f8dcac71999d52ed6f47c5884a76d936c32238dd7a5e22a",
            "610444653628981f2fba178e3ab014d14badb3502154950f935939badcb7d48f",
            "76943ca2a30b6792482fa707f732cf0204222c1e7cf675c12916b25ec05888ce",
            "1f7581e5edc692f881a2b795ee9576858e3f02991c2d8b5581034f40ab3b4424",
        ]
    );
}
