//! The seed examples of Dask's documentation, run through every local
//! executor (`Sync`, `Threads::new(1)`, `Threads::new(4)`):
//!
//! - `x = 1; y = inc(x); z = add(y, 10)` gives 12;
//! - the load / clean / analyze / store pipeline on strings, with a
//!   list-of-keys argument (`analyze` gets `Vec<String>`);
//! - nested lists of requested keys come back in the same nesting
//!   (including repeats and the empty list);
//! - tuple keys `("x", 0)`, as chunks of a collection;
//! - an explicit `Task::quote` of a string that equals a key, against the
//!   same string as a reference;
//! - repeated inputs, `add(x, x)`, and aliases.

use rask_graph::{graph, Function, Graph, Key, Task, Value};
use rask_scheduler::{get, get_with, Executor, Keys, Sync, Threads};

/// Every local executor, with a name for assertion messages.
fn executors() -> Vec<(&'static str, Box<dyn Executor>)> {
    vec![
        ("sync", Box::new(Sync)),
        ("threads-1", Box::new(Threads::new(1))),
        ("threads-4", Box::new(Threads::new(4))),
    ]
}

/// `get` with every executor; all must give `expected`.
fn check(g: &Graph, keys: impl Into<Keys>, expected: &Value) {
    let keys = keys.into();
    for (name, ex) in executors() {
        let got =
            get_with(ex.as_ref(), g, keys.clone(), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&got, expected, "{name}, keys {keys:?}");
    }
}

fn inc(x: i64) -> i64 {
    x + 1
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn seed_graph() -> Graph {
    graph! {
        "x" => 1,
        "y" => (inc, "x"),
        "z" => (add, "y", 10),
    }
}

#[test]
fn inc_add_gives_12() {
    let g = seed_graph();
    check(&g, "z", &Value::Int(12));
    check(&g, "y", &Value::Int(2));
    check(&g, "x", &Value::Int(1));
    // the default executor too
    assert_eq!(get(&g, "z").unwrap(), Value::Int(12));
}

#[test]
fn inc_add_built_without_the_macro() {
    let inc = Function::new("inc", inc);
    let add = Function::new("add", add);
    let mut g = Graph::new();
    g.insert("x", 1);
    g.insert("y", Task::call(&inc, ["x"]));
    g.insert("z", Task::call(&add, [Task::from("y"), Task::from(10)]));
    check(&g, "z", &Value::Int(12));
}

fn load(filename: String) -> String {
    format!("data of {filename}")
}

fn clean(data: String) -> String {
    format!("clean {data}")
}

fn analyze(cleaned: Vec<String>) -> String {
    cleaned.join(" + ")
}

fn store(result: String) -> String {
    format!("stored [{result}]")
}

/// Dask's pipeline:
///
/// ```text
/// 'load-1': (load, 'myfile.a.data'), ...   'clean-i': (clean, 'load-i'),
/// 'analyze': (analyze, ['clean-%d' % i for i in [1, 2, 3]]),
/// 'store': (store, 'analyze')
/// ```
fn pipeline() -> Graph {
    let (load, clean) = (Function::new("load", load), Function::new("clean", clean));
    let mut g = Graph::new();
    for (i, file) in [
        (1, "myfile.a.data"),
        (2, "myfile.b.data"),
        (3, "myfile.c.data"),
    ] {
        g.insert(format!("load-{i}"), Task::call(&load, [file]));
        g.insert(
            format!("clean-{i}"),
            Task::call(&clean, [format!("load-{i}").as_str()]),
        );
    }
    let cleaned: Vec<Task> = [1, 2, 3]
        .iter()
        .map(|i| Task::from(format!("clean-{i}").as_str()))
        .collect();
    g.insert(
        "analyze",
        Task::call(&Function::new("analyze", analyze), [Task::list(cleaned)]),
    );
    g.insert(
        "store",
        Task::call(&Function::new("store", store), ["analyze"]),
    );
    g
}

#[test]
fn load_clean_analyze_store() {
    let g = pipeline();
    let analyzed =
        "clean data of myfile.a.data + clean data of myfile.b.data + clean data of myfile.c.data";
    check(&g, "store", &Value::from(format!("stored [{analyzed}]")));
    check(&g, "analyze", &Value::from(analyzed.to_string()));
    check(&g, "clean-2", &Value::from("clean data of myfile.b.data"));
}

#[test]
fn load_clean_analyze_store_with_the_macro() {
    let g = graph! {
        "load-1" => (load, "myfile.a.data"),
        "load-2" => (load, "myfile.b.data"),
        "clean-1" => (clean, "load-1"),
        "clean-2" => (clean, "load-2"),
        "analyze" => (analyze, ["clean-1", "clean-2"]),
        "store" => (store, "analyze"),
    };
    check(
        &g,
        "store",
        &Value::from("stored [clean data of myfile.a.data + clean data of myfile.b.data]"),
    );
}

fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[test]
fn list_of_keys_argument_passes_their_values() {
    let g = graph! {
        "a" => 1,
        "b" => (inc, "a"),
        "c" => (add, "a", "b"),
        "sum" => (total, ["a", "b", "c", 100]),
        // a list with a nested call and a nested list (flattened by hand)
        "mixed" => (total, [(inc, "c"), (total, ["a", "a"])]),
        // the list itself as a task
        "pair" => ["a", "c"],
    };
    check(&g, "sum", &Value::Int(1 + 2 + 3 + 100));
    check(&g, "mixed", &Value::Int(4 + 2));
    check(&g, "pair", &Value::list([Value::Int(1), Value::Int(3)]));
}

#[test]
fn nested_requested_keys_keep_their_nesting() {
    let g = seed_graph();
    let keys = vec![
        Keys::from("z"),
        Keys::from(vec!["x", "y"]),
        Keys::from(vec![Keys::from(vec!["z"]), Keys::Many(vec![])]),
        Keys::from("z"),
    ];
    let expected = Value::list([
        Value::Int(12),
        Value::list([Value::Int(1), Value::Int(2)]),
        Value::list([Value::list([Value::Int(12)]), Value::list([])]),
        Value::Int(12),
    ]);
    check(&g, keys, &expected);
    check(
        &g,
        vec!["z", "z", "x"],
        &Value::list([Value::Int(12), Value::Int(12), Value::Int(1)]),
    );
    check(&g, ["y"], &Value::list([Value::Int(2)]));
}

#[test]
fn empty_request_gives_empty_list() {
    let g = seed_graph();
    check(&g, Keys::Many(vec![]), &Value::list([]));
    check(&Graph::new(), Keys::Many(vec![]), &Value::list([]));
}

#[test]
fn tuple_keys_name_chunks() {
    let g = graph! {
        ("x", 0) => 1,
        ("x", 1) => (inc, ("x", 0)),
        ("x", 2) => (add, ("x", 0), ("x", 1)),
        ("y", 0, 0) => (total, [("x", 0), ("x", 1), ("x", 2)]),
        // a string key that prints like a tuple key is a different key
        "('x', 0)" => 100,
        "s" => (add, "('x', 0)", ("x", 0)),
    };
    check(&g, ("x", 2), &Value::Int(3));
    check(&g, Key::from(("y", 0, 0)), &Value::Int(6));
    check(
        &g,
        vec![("x", 0), ("x", 1)],
        &Value::list([Value::Int(1), Value::Int(2)]),
    );
    check(&g, "s", &Value::Int(101));
}

fn join(a: String, b: String) -> String {
    format!("{a}+{b}")
}

fn join_all(items: Vec<String>) -> String {
    items.join("+")
}

fn shout(s: String) -> String {
    format!("{}!", s.to_uppercase())
}

#[test]
fn quote_passes_a_string_equal_to_a_key_literally() {
    let g = graph! {
        "x" => "hello",
        "by-ref" => (shout, "x"),
        "quoted" => (shout, (Task::quote("x"))),
        "label" => (Task::quote("x")),
        "alias" => "x",
        // a string that is not a key is a literal without quoting
        "plain" => (shout, "not a key"),
        // the quoted and the referenced "x" side by side, in both orders
        "quote-then-ref" => (join, (Task::quote("x")), "x"),
        "ref-then-quote" => (join, "x", (Task::quote("x"))),
        "in-a-list" => (join_all, [(Task::quote("x")), "x", (Task::key("x")), (Task::quote("x"))]),
    };
    check(&g, "quote-then-ref", &Value::from("x+hello"));
    check(&g, "ref-then-quote", &Value::from("hello+x"));
    check(&g, "in-a-list", &Value::from("x+hello+hello+x"));
    check(&g, "by-ref", &Value::from("HELLO!"));
    check(&g, "quoted", &Value::from("X!"));
    check(&g, "label", &Value::from("x"));
    check(&g, "alias", &Value::from("hello"));
    check(&g, "plain", &Value::from("NOT A KEY!"));
}

#[test]
fn repeated_inputs_and_aliases() {
    let g = graph! {
        "x" => 3,
        "double" => (add, "x", "x"),
        "quad" => (add, "double", "double"),
        "all" => (total, ["x", "x", "double", "x"]),
        "alias" => "quad",
        "alias-of-alias" => (Task::key("alias")),
    };
    check(&g, "double", &Value::Int(6));
    check(&g, "quad", &Value::Int(12));
    check(&g, "all", &Value::Int(3 + 3 + 6 + 3));
    check(&g, "alias-of-alias", &Value::Int(12));
    check(
        &g,
        vec!["alias-of-alias", "x", "quad"],
        &Value::list([Value::Int(12), Value::Int(3), Value::Int(12)]),
    );
}

#[test]
fn unneeded_tasks_do_not_run() {
    let g = graph! {
        "x" => 1,
        "y" => (inc, "x"),
        "boom" => (panics, "x"),
    };
    check(&g, "y", &Value::Int(2));
}

fn panics(_: i64) -> i64 {
    panic!("a task that was not asked for ran")
}
