//! DOT pictures: one node per key, one edge per distinct dependency, and
//! Graphviz accepts them (`dot -Tsvg`; skipped with a note where `dot` is
//! missing, except in CI).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{dot_or_skip, fan};
use rask_diagnostics::visualize::{self, to_dot, Coloring, DotOptions};
use rask_graph::{deps, Graph, Task};

/// (node ids, edges) of DOT text written by `to_dot`.
fn nodes_and_edges(dot: &str) -> (BTreeSet<String>, Vec<(String, String)>) {
    let mut nodes = BTreeSet::new();
    let mut edges = Vec::new();
    for line in dot.lines().map(str::trim) {
        if let Some((a, b)) = line.strip_suffix(';').and_then(|l| l.split_once(" -> ")) {
            edges.push((a.to_string(), b.to_string()));
        } else if line.starts_with('n') && line.contains(" [shape=") {
            let id = line.split_whitespace().next().unwrap().to_string();
            assert!(nodes.insert(id), "a node twice: {line}");
        }
    }
    (nodes, edges)
}

fn shapes() -> Vec<(&'static str, Graph)> {
    let mut odd = fan(3);
    odd.insert("with \"quotes\" and \\ and\nnewline", Task::key("x"));
    odd.insert("<html> & {braces}", Task::list(["x", "x"]));
    vec![("fan", fan(6)), ("odd keys", odd)]
}

#[test]
fn one_node_per_key_and_one_edge_per_distinct_dependency() {
    for (name, g) in shapes() {
        let dot = to_dot(&g, &DotOptions::default()).unwrap();
        let (nodes, edges) = nodes_and_edges(&dot);
        assert_eq!(nodes.len(), g.len(), "{name}: {dot}");
        let d = deps::dependencies(&g).unwrap().unique();
        assert_eq!(edges.len(), d.edges(), "{name}: {dot}");
        let distinct: BTreeSet<_> = edges.iter().collect();
        assert_eq!(distinct.len(), edges.len(), "{name}: an edge twice");
        for (a, b) in &edges {
            assert!(nodes.contains(a) && nodes.contains(b), "{name}: {a} -> {b}");
        }
    }
}

fn render(dot: &str) -> std::process::Output {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn graphviz_accepts_every_colouring() {
    if !dot_or_skip("graphviz_accepts_every_colouring") {
        return;
    }
    for (name, g) in shapes() {
        let durations = g
            .keys()
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_text(), Duration::from_micros(i as u64 * 10)))
            .collect();
        for coloring in [
            Coloring::Plain,
            Coloring::Order,
            Coloring::Duration(durations),
        ] {
            let dot = to_dot(&g, &DotOptions { coloring }).unwrap();
            let out = render(&dot);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{name}: {stderr}\n{dot}");
            assert!(
                stderr.trim().is_empty(),
                "{name}: warnings: {stderr}\n{dot}"
            );
            let svg = String::from_utf8_lossy(&out.stdout);
            assert_eq!(svg.matches("class=\"node\"").count(), g.len(), "{name}");
            let d = deps::dependencies(&g).unwrap().unique();
            assert_eq!(svg.matches("class=\"edge\"").count(), d.edges(), "{name}");
        }
    }
}

#[test]
fn write_draws_svg_and_png_with_graphviz() {
    if !dot_or_skip("write_draws_svg_and_png_with_graphviz") {
        return;
    }
    let dot = to_dot(&fan(4), &DotOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("g.svg");
    visualize::write(&dot, &svg).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let png = dir.path().join("g.png");
    visualize::write(&dot, &png).unwrap();
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let text = dir.path().join("g.dot");
    visualize::write(&dot, &text).unwrap();
    assert_eq!(std::fs::read_to_string(&text).unwrap(), dot);
}

#[test]
fn bad_picture_names_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = visualize::write("digraph {}", &dir.path().join("g.jpeg")).unwrap_err();
    assert!(
        e.to_string().contains("g.jpeg") && e.to_string().contains(".svg"),
        "{e}"
    );
    let e = visualize::write("digraph {}", &dir.path().join("no/dir/g.dot")).unwrap_err();
    assert!(e.to_string().contains("no/dir/g.dot"), "{e}");
}
