use rask_graph::{builtins, Graph, Key, Plan, Task};

use super::*;

fn plan(g: &Graph, keys: &[&str]) -> Plan {
    let keys: Vec<Key> = keys.iter().map(|&k| k.into()).collect();
    Plan::for_keys(g, &keys).unwrap()
}

fn graph(lit: i64, func: &str, key: &str) -> Graph {
    let f = builtins::all()
        .into_iter()
        .find(|f| f.name() == func)
        .unwrap();
    let mut g = Graph::new();
    g.insert("x", lit);
    g.insert(key, Task::call(&f, ["x"]));
    g
}

#[test]
fn same_graph_built_twice_has_the_same_fingerprint() {
    let (a, b) = (graph(1, "inc", "y"), graph(1, "inc", "y"));
    assert_eq!(
        fingerprint(&a, &plan(&a, &["y"])),
        fingerprint(&b, &plan(&b, &["y"]))
    );
}

#[test]
fn literals_functions_keys_and_outputs_change_it() {
    let base = graph(1, "inc", "y");
    let fp = fingerprint(&base, &plan(&base, &["y"]));
    let lit = graph(2, "inc", "y");
    let func = graph(1, "dec", "y");
    let key = graph(1, "inc", "z");
    assert_ne!(fp, fingerprint(&lit, &plan(&lit, &["y"])));
    assert_ne!(fp, fingerprint(&func, &plan(&func, &["y"])));
    assert_ne!(fp, fingerprint(&key, &plan(&key, &["z"])));
    assert_ne!(fp, fingerprint(&base, &plan(&base, &["y", "x"])));
}

#[test]
fn quoted_and_referenced_strings_differ() {
    let id = builtins::all()
        .into_iter()
        .find(|f| f.name() == "identity")
        .unwrap();
    let mut a = Graph::new();
    a.insert("x", 1_i64);
    a.insert("y", Task::call(&id, ["x"]));
    let mut b = Graph::new();
    b.insert("x", 1_i64);
    b.insert("y", Task::call(&id, [Task::quote("x")]));
    assert_ne!(
        fingerprint(&a, &plan(&a, &["y"])),
        fingerprint(&b, &plan(&b, &["y"]))
    );
}
