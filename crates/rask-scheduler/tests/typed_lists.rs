//! Typed arguments of any type (issue 14, item 5): a typed function taking
//! `Vec<T>` receives the values of a list argument as `T`s, for a user's
//! own `T`, on `Sync` and `Threads`, for random fans of inputs.

use proptest::prelude::*;
use rask_graph::{graph, Function, Graph, Key, KeyPart, Task, Value};
use rask_scheduler::{get_with, ComputeError, Executor, Sync, Threads};

/// A user's record, made by one task and gathered by another.
#[derive(Clone, Debug, PartialEq)]
struct Cleaned {
    name: String,
    words: usize,
}

fn clean(raw: String) -> Cleaned {
    Cleaned {
        name: raw.trim().to_uppercase(),
        words: raw.split_whitespace().count(),
    }
}

fn analyze(parts: Vec<Cleaned>) -> usize {
    parts.iter().map(|c| c.words + c.name.len()).sum()
}

fn names(parts: Vec<Cleaned>) -> Vec<String> {
    parts.into_iter().map(|c| c.name).collect()
}

/// Nested lists: a `Vec<Vec<Cleaned>>` from a list of lists of keys.
fn nested(groups: Vec<Vec<Cleaned>>) -> Vec<usize> {
    groups.iter().map(Vec::len).collect()
}

#[test]
fn the_issue_example_runs_on_sync_and_threads() {
    let g = graph! {
        "raw-1" => "a b c",
        "raw-2" => " d e ",
        "clean-1" => (clean, "raw-1"),
        "clean-2" => (clean, "raw-2"),
        "analyze" => (analyze, ["clean-1", "clean-2"]),
    };
    let expected = analyze(vec![clean("a b c".into()), clean(" d e ".into())]);
    for ex in [&Sync as &dyn Executor, &Threads::new(2)] {
        assert_eq!(
            get_with(ex, &g, "analyze", &[]).unwrap(),
            Value::new(expected)
        );
    }
}

#[test]
fn a_list_of_the_wrong_type_is_still_a_typed_error() {
    let g = graph! {
        "a" => 1,
        "analyze" => (analyze, ["a"]),
    };
    let err = get_with(&Sync, &g, "analyze", &[]).unwrap_err();
    let ComputeError::Task { key, .. } = &err else {
        panic!("expected a task error, got {err}");
    };
    assert_eq!(key, &Key::from("analyze"));
    assert!(
        err.to_string().contains("must be alloc::vec::Vec<"),
        "{err}"
    );
}

fn key(name: &str, i: usize) -> Key {
    Key::tuple([KeyPart::from(name), KeyPart::from(i as i64)])
}

/// `n` raw strings, cleaned, gathered by `analyze`, `names` and `nested`.
fn fan(raws: &[String]) -> Graph {
    let mut g = Graph::new();
    let mut cleaned = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        g.insert(key("raw", i), Task::quote(raw.clone()));
        let task = Task::call(&Function::new("clean", clean), [Task::key(key("raw", i))]);
        g.insert(key("clean", i), task);
        cleaned.push(Task::key(key("clean", i)));
    }
    g.insert(
        "analyze",
        Task::call(
            &Function::new("analyze", analyze),
            [Task::list(cleaned.clone())],
        ),
    );
    g.insert(
        "names",
        Task::call(
            &Function::new("names", names),
            [Task::list(cleaned.clone())],
        ),
    );
    let halves: Vec<Task> = cleaned
        .chunks(cleaned.len().div_ceil(2).max(1))
        .map(|c| Task::list(c.to_vec()))
        .collect();
    g.insert(
        "nested",
        Task::call(&Function::new("nested", nested), [Task::list(halves)]),
    );
    g
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn vec_of_a_user_type_agrees_with_a_plain_loop(
        raws in proptest::collection::vec("[a-z ]{0,12}", 1..40),
        workers in 1usize..4,
    ) {
        let g = fan(&raws);
        let cleaned: Vec<Cleaned> = raws.iter().cloned().map(clean).collect();
        let halves: Vec<usize> = cleaned
            .chunks(cleaned.len().div_ceil(2).max(1))
            .map(<[Cleaned]>::len)
            .collect();
        for ex in [&Sync as &dyn Executor, &Threads::new(workers)] {
            prop_assert_eq!(get_with(ex, &g, "analyze", &[]).unwrap(), Value::new(analyze(cleaned.clone())));
            let got = get_with(ex, &g, "names", &[]).unwrap();
            prop_assert_eq!(got.get::<Vec<String>>(), Some(names(cleaned.clone())));
            let got = get_with(ex, &g, "nested", &[]).unwrap();
            prop_assert_eq!(got.downcast_ref::<Vec<usize>>(), Some(&halves));
        }
    }
}
