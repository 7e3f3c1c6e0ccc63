use super::*;
use crate::{Function, Task};

fn inc() -> Function {
    Function::new("inc", |x: i64| x + 1)
}

#[test]
fn cycle_error_names_the_keys_on_the_cycle() {
    let f = inc();
    let mut g = Graph::new();
    g.insert("a", Task::call(&f, ["c"]));
    g.insert("b", Task::call(&f, ["a"]));
    g.insert("c", Task::call(&f, ["b"]));
    g.insert("d", Task::call(&f, ["c"]));
    g.insert("e", 1);
    let err = toposort(&g).unwrap_err();
    let GraphError::Cycle { keys } = &err else {
        panic!("{err}")
    };
    let mut names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(err.to_string().starts_with("cycle in the graph: "), "{err}");
}

#[test]
fn self_reference_is_a_cycle() {
    let mut g = Graph::new();
    g.insert("a", Task::call(&inc(), ["a"]));
    assert_eq!(
        toposort(&g).unwrap_err().to_string(),
        "cycle in the graph: \"a\" -> \"a\""
    );
}

#[test]
fn missing_explicit_key_is_an_error_naming_both() {
    let mut g = Graph::new();
    g.insert("a", Task::call(&inc(), [Task::key("nope")]));
    let err = dependencies(&g).unwrap_err();
    assert_eq!(err.to_string(), "task \"a\" refers to missing key \"nope\"");
}

#[test]
fn strings_that_are_not_keys_are_literals() {
    let mut g = Graph::new();
    g.insert("a", Task::call(&inc(), ["not-a-key"]));
    assert_eq!(dependencies(&g).unwrap().of(0), &[] as &[TaskId]);
}

#[test]
fn ten_million_chain_does_not_overflow() {
    let n = 10_000_000_u32;
    let mut deps = Adjacency::new();
    deps.push_row([]).unwrap();
    for i in 1..n {
        deps.push_row([i - 1]).unwrap();
    }
    let order = toposort_ids(&deps).unwrap();
    assert_eq!(order.len(), n as usize);
    assert_eq!(order[n as usize - 1], n - 1);
}

#[test]
fn reverse_and_unique() {
    let mut a = Adjacency::new();
    a.push_row([]).unwrap();
    a.push_row([0, 0]).unwrap();
    a.push_row([1, 0]).unwrap();
    let r = a.reverse();
    assert_eq!(r.of(0), &[1, 1, 2]);
    assert_eq!(r.of(1), &[2]);
    let u = r.unique();
    assert_eq!(u.of(0), &[1, 2]);
    let mut long = Adjacency::new();
    long.push_row((0..40).map(|i| i % 20)).unwrap();
    assert_eq!(long.unique().of(0), (0..20).collect::<Vec<_>>().as_slice());
}
