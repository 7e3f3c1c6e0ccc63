//! Large graphs through `Threads::new(2)`: a chain of `inc`s, a fan (`N`
//! `inc`s summed by one task over a list of `N` keys) and a binary tree
//! reduction of `N` leaves with `add`, each with its exact result. Nothing
//! may recurse per task (a deep stack would overflow on the chain).
//!
//! `N` is 10^6 in release builds and 10^5 in debug builds
//! (`cfg!(debug_assertions)`), where 10^6 takes about 18 s for these
//! tests on two cores (10^5: about 1.5 s); run `cargo test --release -p rask-scheduler --test large`
//! for the full size (about 4 s). The 10^7 chain is `#[ignore]`d (about
//! 3 GB of memory and 20 s in release):
//! `cargo test --release -p rask-scheduler --test large -- --ignored`.

use std::sync::Arc;

use rask_graph::{Function, Graph, Key, KeyPart, Registry, Task, Value};
use rask_scheduler::{get_with, Executor, Sync, Threads};

const N: usize = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};

fn builtin(name: &str) -> Function {
    Registry::with_builtins().get(name).cloned().unwrap()
}

/// `(name, i)`, sharing the name's allocation.
fn key(name: &Arc<str>, i: usize) -> Key {
    Key::tuple([KeyPart::from(&**name), KeyPart::from(i)])
}

/// `("c", 0) = 0`, `("c", i) = inc(("c", i - 1))`; returns the last key.
fn chain(n: usize) -> (Graph, Key) {
    let inc = builtin("inc");
    let name: Arc<str> = Arc::from("c");
    let mut g = Graph::with_capacity(n);
    g.insert(key(&name, 0), 0);
    for i in 1..n {
        g.insert(key(&name, i), Task::call(&inc, [key(&name, i - 1)]));
    }
    (g, key(&name, n - 1))
}

#[test]
fn chain_of_inc() {
    let (g, last) = chain(N);
    let v = get_with(&Threads::new(2), &g, &last, &[]).unwrap();
    assert_eq!(v, Value::new(N - 1));
}

#[test]
fn chain_of_inc_on_sync() {
    let (g, last) = chain(N);
    assert_eq!(get_with(&Sync, &g, &last, &[]).unwrap(), Value::new(N - 1));
}

#[test]
fn fan_of_inc_summed() {
    let (inc, sum) = (builtin("inc"), builtin("sum"));
    let name: Arc<str> = Arc::from("inc");
    let mut g = Graph::with_capacity(N + 1);
    let mut items = Vec::with_capacity(N);
    for i in 0..N {
        let k = key(&name, i);
        g.insert(k.clone(), Task::call(&inc, [i]));
        items.push(Task::Key(k));
    }
    g.insert("total", Task::call(&sum, [Task::list(items)]));
    let v = get_with(&Threads::new(2), &g, "total", &[]).unwrap();
    // (0 + 1) + (1 + 1) + ... + (N - 1 + 1)
    assert_eq!(v, Value::new(N * (N + 1) / 2));
}

#[test]
fn tree_reduction_of_add() {
    let add = builtin("add");
    let (leaf, node): (Arc<str>, Arc<str>) = (Arc::from("leaf"), Arc::from("node"));
    let mut g = Graph::with_capacity(2 * N);
    let mut level: Vec<Key> = (0..N)
        .map(|i| {
            g.insert(key(&leaf, i), i);
            key(&leaf, i)
        })
        .collect();
    let mut next_id = 0;
    while level.len() > 1 {
        // an odd one out goes up unchanged
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => {
                    let k = key(&node, next_id);
                    next_id += 1;
                    g.insert(k.clone(), Task::call(&add, [a, b]));
                    k
                }
                [a] => a.clone(),
                _ => unreachable!(),
            })
            .collect();
    }
    assert_eq!(g.len(), 2 * N - 1);
    let v = get_with(&Threads::new(2), &g, &level[0], &[]).unwrap();
    assert_eq!(v, Value::new(N * (N - 1) / 2));
}

#[test]
#[ignore = "10^7 tasks: about 3 GB; run with --release -- --ignored"]
fn chain_of_ten_million() {
    let n = 10_000_000;
    let (g, last) = chain(n);
    let ex = Threads::new(2);
    assert_eq!(ex.get(&g, &last).unwrap(), Value::new(n - 1));
}
