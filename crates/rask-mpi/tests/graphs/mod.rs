//! Graphs the MPI tests compute, shared by the unit tests of the rank
//! loop (`src/rank/tests.rs`) and the SPMD test (`tests/spmd.rs`).
#![allow(dead_code)]

use rask_graph::{builtins, Function, Graph, Key, Task};

/// The built-in function `name`.
pub(crate) fn f(name: &str) -> Function {
    builtins::all()
        .into_iter()
        .find(|f| f.name() == name)
        .unwrap()
}

pub(crate) fn fan(n: usize) -> (Graph, Vec<Key>) {
    let mut g = Graph::new();
    for i in 0..n {
        g.insert(format!("x-{i}"), i as i64);
    }
    for i in 0..n {
        g.insert(
            format!("inc-{i}"),
            Task::call(&f("inc"), [format!("x-{i}")]),
        );
    }
    let all: Vec<Task> = (0..n).map(|i| Task::key(format!("inc-{i}"))).collect();
    g.insert("total", Task::call(&f("sum"), [Task::list(all)]));
    (g, vec!["total".into()])
}

pub(crate) fn chain(n: usize) -> (Graph, Vec<Key>) {
    let mut g = Graph::new();
    g.insert("c-0", 0_i64);
    for i in 1..n {
        g.insert(
            format!("c-{i}"),
            Task::call(&f("inc"), [format!("c-{}", i - 1)]),
        );
    }
    (g, vec![format!("c-{}", n - 1).into()])
}

pub(crate) fn tree(n: usize) -> (Graph, Vec<Key>) {
    let mut g = Graph::new();
    let mut names: Vec<String> = (0..n).map(|i| format!("l-{i}")).collect();
    for (i, k) in names.iter().enumerate() {
        g.insert(k.as_str(), i as i64);
    }
    let mut level = 0;
    while names.len() > 1 {
        level += 1;
        let mut next = Vec::new();
        for j in (0..names.len() - 1).step_by(2) {
            let key = format!("t-{level}-{}", j / 2);
            g.insert(
                key.as_str(),
                Task::call(&f("add"), [names[j].as_str(), names[j + 1].as_str()]),
            );
            next.push(key);
        }
        if names.len() % 2 == 1 {
            next.push(names[names.len() - 1].clone());
        }
        names = next;
    }
    (g, vec![names[0].as_str().into()])
}
