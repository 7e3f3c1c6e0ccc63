//! `summarize` on hand-made shapes, each drawn here, figures worked out by
//! hand.

mod common;

use common::{fan, inc};
use rask_diagnostics::summarize;
use rask_graph::{graph, Graph, Key, Task};

fn keys(ks: &[&str]) -> Vec<Key> {
    ks.iter().map(|&k| Key::from(k)).collect()
}

/// ```text
/// a -> b -> c -> d -> e
/// ```
#[test]
fn chain() {
    let mut g = Graph::new();
    g.insert("a", 1);
    for (k, dep) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
        g.insert(k, Task::call(&inc(), [dep]));
    }
    let s = summarize(&g).unwrap();
    assert_eq!((s.tasks, s.calls, s.edges, s.outputs), (5, 4, 4, 1));
    assert_eq!((s.depth, s.width), (5, 1));
    assert_eq!(s.critical_path, keys(&["a", "b", "c", "d", "e"]));
    assert_eq!(s.functions, vec![("inc".to_string(), 4)]);
    // one value and the next
    assert_eq!(s.peak_live, 2);
}

/// ```text
///     d
///    / \
///   b   c
///    \ /
///     a
/// ```
#[test]
fn diamond() {
    fn add(a: i64, b: i64) -> i64 {
        a + b
    }
    fn dec(x: i64) -> i64 {
        x - 1
    }
    let g = graph! { "a" => 1, "b" => (dec, "a"), "c" => (dec, "a"), "d" => (add, "b", "c") };
    let s = summarize(&g).unwrap();
    assert_eq!((s.tasks, s.calls, s.edges, s.outputs), (4, 3, 4, 1));
    assert_eq!((s.depth, s.width), (3, 2));
    assert_eq!(s.critical_path, keys(&["a", "b", "d"]));
    assert_eq!(
        s.functions,
        vec![("dec".to_string(), 2), ("add".to_string(), 1)]
    );
    // a, b, c alive when c is done
    assert_eq!(s.peak_live, 3);
}

/// ```text
///           total
///    /    /   |   \    \
///  y0   y1   y2   y3   y4
///    \    \   |   /    /
///             x
/// ```
#[test]
fn fan_out_and_in() {
    let s = summarize(&fan(5)).unwrap();
    assert_eq!((s.tasks, s.calls, s.edges, s.outputs), (7, 6, 10, 1));
    assert_eq!((s.depth, s.width), (3, 5));
    assert_eq!(
        s.critical_path,
        vec![Key::from("x"), Key::from(("y", 0)), Key::from("total")]
    );
    assert_eq!(
        s.functions,
        vec![("inc".to_string(), 5), ("sum".to_string(), 1)]
    );
    // x and the five y's when the last y is done
    assert_eq!(s.peak_live, 6);
    let j = s.to_json();
    assert_eq!(
        j["critical_path"],
        serde_json::json!(["x", "('y', 0)", "total"])
    );
    assert_eq!(j["width"], 5);
}

/// Two separate pieces: `p -> q` and a lone `r`.
#[test]
fn two_components() {
    let g = graph! { "p" => 1, "q" => (inc_fn, "p"), "r" => 3 };
    let s = summarize(&g).unwrap();
    assert_eq!(
        (s.tasks, s.edges, s.outputs, s.depth, s.width),
        (3, 1, 2, 2, 2)
    );
    assert_eq!(s.critical_path, keys(&["p", "q"]));
}

fn inc_fn(x: i64) -> i64 {
    x + 1
}
