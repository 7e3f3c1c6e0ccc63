//! An owning function (`Function::owning`) takes an input value only when
//! its task is the last to need it and nothing else holds it: never a
//! value another task still needs, a requested key, or a literal of the
//! graph. Checked on `Sync` (deterministic: exactly the last consumer
//! takes) and on `Threads` (at most one consumer takes, and every answer
//! is the same as when nothing is taken).

use rask_graph::{Arity, Function, Graph, Task, Value};
use rask_scheduler::{get_with, Executor, Sync, Threads};

/// A value that is not a built-in kind, so it is held opaquely.
#[derive(Debug, Clone, PartialEq)]
struct Payload(Vec<i64>);

fn make() -> Function {
    Function::new("make", |n: i64| Value::opaque(Payload((0..n).collect())))
}

/// `[taken, sum]`: whether the payload argument could be moved out.
fn take_or_copy() -> Function {
    Function::owning("take_or_copy", Arity::exactly(1), |args| {
        let (taken, p) = match args[0].take_unique::<Payload>() {
            Some(p) => (true, p),
            None => match args[0].downcast_ref::<Payload>() {
                Some(p) => (false, p.clone()),
                None => return Ok(Value::Null),
            },
        };
        Ok(Value::list([
            Value::Bool(taken),
            Value::Int(p.0.iter().sum()),
        ]))
    })
}

fn taken_and_sum(v: &Value) -> (bool, i64) {
    let l = v.as_list().expect("a list");
    (l[0] == Value::Bool(true), l[1].get::<i64>().expect("a sum"))
}

fn executors() -> Vec<(&'static str, Box<dyn Executor>)> {
    vec![
        ("sync", Box::new(Sync)),
        ("threads-1", Box::new(Threads::new(1))),
        ("threads-2", Box::new(Threads::new(2))),
    ]
}

#[test]
fn only_the_last_consumer_takes_a_shared_input() {
    let mut g = Graph::new();
    g.insert("v", Task::call(&make(), [100]));
    for name in ["a", "b", "c"] {
        g.insert(name, Task::call(&take_or_copy(), ["v"]));
    }
    for (name, ex) in executors() {
        let out = get_with(&*ex, &g, vec!["a", "b", "c"], &[]).unwrap();
        let results: Vec<(bool, i64)> = out.as_list().unwrap().iter().map(taken_and_sum).collect();
        assert!(
            results.iter().all(|&(_, sum)| sum == 4950),
            "{name}: {results:?}"
        );
        let taken = results.iter().filter(|r| r.0).count();
        if name == "sync" {
            assert_eq!(taken, 1, "{name}: {results:?}");
        } else {
            assert!(taken <= 1, "{name}: {results:?}");
        }
    }
}

#[test]
fn a_requested_input_is_never_taken() {
    let mut g = Graph::new();
    g.insert("v", Task::call(&make(), [10]));
    g.insert("t", Task::call(&take_or_copy(), ["v"]));
    for (name, ex) in executors() {
        let out = get_with(&*ex, &g, vec!["v", "t"], &[]).unwrap();
        let out = out.as_list().unwrap();
        assert_eq!(
            out[0].downcast_ref::<Payload>(),
            Some(&Payload((0..10).collect())),
            "{name}"
        );
        assert_eq!(taken_and_sum(&out[1]), (false, 45), "{name}");
    }
}

#[test]
fn a_literal_of_the_graph_is_never_taken() {
    let mut g = Graph::new();
    let literal = Value::opaque(Payload(vec![1, 2, 3]));
    g.insert(
        "t",
        Task::Call(take_or_copy(), vec![Task::Quote(literal)].into()),
    );
    for (name, ex) in executors() {
        // twice: the first run must have left the literal in the graph
        for _ in 0..2 {
            let out = get_with(&*ex, &g, "t", &[]).unwrap();
            assert_eq!(taken_and_sum(&out), (false, 6), "{name}");
        }
    }
}

#[test]
fn called_directly_it_gets_copies_of_the_callers_values() {
    let f = take_or_copy();
    let arg = Value::opaque(Payload(vec![4, 5]));
    let out = f.call(std::slice::from_ref(&arg)).unwrap();
    assert_eq!(taken_and_sum(&out), (false, 9));
    assert_eq!(arg.downcast_ref::<Payload>(), Some(&Payload(vec![4, 5])));
}
