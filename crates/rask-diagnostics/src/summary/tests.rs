//! The figures on hand-made shapes (see also `tests/summary.rs`).

use rask_graph::{graph, Graph, Key};

use super::summarize;

fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn an_empty_graph_has_no_depth() {
    let s = summarize(&Graph::new()).unwrap();
    assert_eq!(
        (s.tasks, s.edges, s.depth, s.width, s.peak_live),
        (0, 0, 0, 0, 0)
    );
    assert!(s.critical_path.is_empty());
}

#[test]
fn repeated_arguments_are_one_edge() {
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
    let g = graph! { "x" => 1, "y" => (add, "x", "x") };
    assert_eq!(summarize(&g).unwrap().edges, 1);
}

#[test]
fn nested_calls_are_counted() {
    let g = graph! { "x" => 1, "y" => (inc, (inc, "x")) };
    let s = summarize(&g).unwrap();
    assert_eq!(s.functions, vec![("inc".to_string(), 2)]);
    assert_eq!(s.calls, 1);
}

#[test]
fn a_cycle_is_an_error_naming_its_keys() {
    let g = graph! { "a" => (inc, "b"), "b" => (inc, "a") };
    let e = summarize(&g).unwrap_err();
    assert!(e.to_string().contains("\"a\""), "{e}");
}

#[test]
fn long_critical_paths_are_elided_in_text() {
    let mut g = Graph::new();
    g.insert("c-0", 0);
    for i in 1..100 {
        g.insert(
            format!("c-{i}"),
            rask_graph::Task::call(
                &rask_graph::Function::new("inc", inc),
                [Key::from(format!("c-{}", i - 1))],
            ),
        );
    }
    let s = summarize(&g).unwrap();
    assert_eq!(s.depth, 100);
    let text = s.to_text();
    assert!(text.contains("100 tasks: c-0 -> c-1"), "{text}");
    assert!(text.contains("... (88 more) ..."), "{text}");
    assert!(text.contains("c-98 -> c-99\n"), "{text}");
}
