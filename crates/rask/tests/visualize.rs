//! `visualize()` on every collection: one node per task of its graph.

use rask::Visualize;

/// The node lines of DOT text: `  n12 [shape=...]`.
fn nodes(dot: &str) -> usize {
    dot.lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with('n')
                && l[1..].starts_with(|c: char| c.is_ascii_digit())
                && l.contains(" [")
        })
        .count()
}

#[test]
fn every_collection_draws_its_graph() {
    let x = rask::array::arange(10, 4);
    let y = (&x * 2).sum();
    assert_eq!(nodes(&y.to_dot().unwrap()), y.task_graph().len());
    let b = rask::bag::from_sequence(vec![1, 2, 3], 2).map(|v| v + 1);
    assert_eq!(nodes(&b.to_dot().unwrap()), b.task_graph().len());
    let c = b.count();
    assert_eq!(nodes(&c.to_dot().unwrap()), c.task_graph().len());
    let d = rask::delayed::delayed(2_i64);
    assert_eq!(nodes(&d.to_dot().unwrap()), 1);
    let dir = std::env::temp_dir().join(format!("rask-visualize-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    y.visualize(dir.join("y.dot")).unwrap();
    assert!(std::fs::read_to_string(dir.join("y.dot"))
        .unwrap()
        .starts_with("digraph"));
    let err = y.visualize(dir.join("y.txt")).unwrap_err().to_string();
    assert!(err.contains("y.txt"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
