//! The diagnostics from the command line: `rask run --progress` and
//! `--profile`, `rask show` and `rask dot`, with their exit statuses and
//! the messages of each bad input (always naming the file).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

mod common;
use common::{rask, stderr, stdout, write};

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// Is Graphviz's `dot` here? Without it a test skips with a note, except
/// in CI (`CI=true`), which installs it and must run every test.
fn dot_or_skip(test: &str) -> bool {
    if rask::diagnostics::visualize::graphviz_installed() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: Graphviz's `dot` is missing in CI (.ci/run installs graphviz)");
    }
    eprintln!("note: {test} skipped: Graphviz's `dot` is not installed (apt-get install graphviz)");
    false
}

/// `a -> b -> c -> d`
const CHAIN: &str = r#"{"a": 1, "b": {"call": "inc", "args": ["a"]},
    "c": {"call": "inc", "args": ["b"]}, "d": {"call": "inc", "args": ["c"]}}"#;

/// `a -> (b, c) -> d`
const DIAMOND: &str = r#"{"a": 1, "b": {"call": "inc", "args": ["a"]},
    "c": {"call": "dec", "args": ["a"]}, "d": {"call": "add", "args": ["b", "c"]}}"#;

/// `x -> y0..y3 -> total`, with `y2` as a tuple key
const FAN: &str = r#"{"x": 1,
    "y0": {"call": "inc", "args": ["x"]}, "y1": {"call": "inc", "args": ["x"]},
    "('y', 2)": {"call": "inc", "args": ["x"]}, "y3": {"call": "mul", "args": ["x", "x"]},
    "total": {"call": "sum", "args": [["y0", "y1", "('y', 2)", "y3"]]}}"#;

/// A task that fails, and one that needs it.
const FAILING: &str = r#"{"x": 1, "y": {"call": "inc", "args": ["x"]},
    "bad": {"call": "fail", "args": [{"quote": "boom"}]},
    "z": {"call": "add", "args": ["y", "bad"]}}"#;

#[test]
fn progress_ends_with_100_percent_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "fan.json", FAN);
    for sched in ["sync", "threads"] {
        let o = rask(&["run", s(&f), "--progress", "--scheduler", sched]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "{\"total\":7}\n");
        let err = stderr(&o);
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("[rask] 6/6 tasks (100%) in "), "{err}");
    }
}

#[test]
fn progress_names_the_failed_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "failing.json", FAILING);
    let o = rask(&["run", s(&f), "--progress", "--workers", "2"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.lines()
            .any(|l| l.starts_with("[rask] failed at task \"bad\" after ")),
        "{err}"
    );
    assert!(!err.contains("(100%)"), "{err}");
    assert!(
        err.contains("rask: error:") && err.contains("boom"),
        "{err}"
    );
}

#[test]
fn profile_as_chrome_trace() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "fan.json", FAN);
    let p = dir.path().join("profile.json");
    let o = rask(&["run", s(&f), "--profile", s(&p), "--stats"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stats: serde_json::Value = serde_json::from_str(stderr(&o).trim()).unwrap();
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).expect("a JSON trace");
    let tasks: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    assert_eq!(tasks.len() as u64, stats["tasks"].as_u64().unwrap());
    assert!(tasks.iter().all(|e| e["dur"].as_f64().unwrap() >= 0.0));
    let names: BTreeSet<&str> = tasks.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert!(names.contains("('y', 2)"));
}

#[test]
fn profile_as_html_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "fan.json", FAN);
    let p = dir.path().join("profile.html");
    let o = rask(&["run", s(&f), "--profile", s(&p)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&p).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    for key in ["x", "y0", "y1", "('y', 2)", "y3", "total"] {
        assert!(html.contains(&format!("\"{key}\"")), "{key} missing");
    }
}

#[test]
fn profile_of_a_failed_run_is_written_and_the_run_fails() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "failing.json", FAILING);
    let p = dir.path().join("p.json");
    let o = rask(&["run", s(&f), "--profile", s(&p), "--scheduler", "sync"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let failed: Vec<_> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["args"]["failed"] == true)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "bad");
}

#[test]
fn bad_profile_names_are_bad_input_before_running() {
    let dir = tempfile::tempdir().unwrap();
    // the run would fail (exit 1) if it ran
    let f = write(dir.path(), "failing.json", FAILING);
    let txt = dir.path().join("profile.txt");
    let o = rask(&["run", s(&f), "--profile", s(&txt)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("profile.txt"), "{}", stderr(&o));
    assert!(stderr(&o).contains(".json") && stderr(&o).contains(".html"));
    assert!(!txt.exists());
    let nowhere = dir.path().join("no/such/dir/p.html");
    let o = rask(&["run", s(&f), "--profile", s(&nowhere)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no/such/dir/p.html"), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
}

#[test]
fn show_figures_of_chain_diamond_and_fan() {
    let dir = tempfile::tempdir().unwrap();
    // (file, tasks, edges, depth, width, critical path, peak live)
    type Case<'a> = (&'a str, &'a str, u64, u64, u64, u64, &'a [&'a str], u64);
    let cases: [Case; 3] = [
        ("chain", CHAIN, 4, 3, 4, 1, &["a", "b", "c", "d"], 2),
        ("diamond", DIAMOND, 4, 4, 3, 2, &["a", "b", "d"], 3),
        ("fan", FAN, 6, 8, 3, 4, &["x", "y0", "total"], 5),
    ];
    for (name, text, tasks, edges, depth, width, path, peak) in cases {
        let f = write(dir.path(), &format!("{name}.json"), text);
        let o = rask(&["show", s(&f), "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let j: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
        assert_eq!(j["tasks"], tasks, "{name}");
        assert_eq!(j["edges"], edges, "{name}");
        assert_eq!(j["depth"], depth, "{name}");
        assert_eq!(j["width"], width, "{name}");
        assert_eq!(j["critical_path"], serde_json::json!(path), "{name}");
        assert_eq!(j["peak_live"], peak, "{name}");
        assert_eq!(j["outputs"], 1, "{name}");
        assert_eq!(j["file"], s(&f), "{name}");
        let o = rask(&["show", s(&f)]);
        assert_eq!(o.status.code(), Some(0));
        let human = stdout(&o);
        assert!(human.starts_with(s(&f)), "{human}");
        assert!(
            human.contains(&format!(
                "critical path  {} tasks: {}",
                path.len(),
                path.join(" -> ")
            )),
            "{human}"
        );
        assert!(
            human.contains(&format!("depth          {depth} ")),
            "{human}"
        );
    }
    let f = write(dir.path(), "fan.json", FAN);
    let j: serde_json::Value =
        serde_json::from_str(&stdout(&rask(&["show", s(&f), "--json"]))).unwrap();
    assert_eq!(
        j["functions"],
        serde_json::json!({"inc": 3, "mul": 1, "sum": 1})
    );
}

#[test]
fn show_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let o = rask(&["show", s(&missing)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));
    let cycle = write(
        dir.path(),
        "cycle.json",
        r#"{"a": {"call": "inc", "args": ["b"]}, "b": {"call": "inc", "args": ["a"]}}"#,
    );
    let o = rask(&["show", s(&cycle)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cycle.json") && stderr(&o).contains("cycle"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dot_on_stdout_has_one_node_per_task_and_one_edge_per_dependency() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "fan.json", FAN);
    let o = rask(&["dot", s(&f)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dot = stdout(&o);
    assert!(dot.starts_with("digraph rask {"));
    let nodes = dot.lines().filter(|l| l.contains(" [shape=")).count();
    let edges = dot.lines().filter(|l| l.contains(" -> ")).count();
    // y3 = mul(x, x) is one edge
    assert_eq!((nodes, edges), (6, 8), "{dot}");
    assert_eq!(dot.matches("shape=box").count(), 5, "{dot}");
    assert_eq!(dot.matches("shape=ellipse").count(), 1, "{dot}");
    if dot_or_skip("dot_on_stdout_has_one_node_per_task_and_one_edge_per_dependency") {
        let svg = dir.path().join("fan.svg");
        let o = rask(&["dot", s(&f), "-o", s(&svg)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let svg = std::fs::read_to_string(&svg).unwrap();
        assert_eq!(svg.matches("class=\"node\"").count(), 6);
        assert_eq!(svg.matches("class=\"edge\"").count(), 8);
        let png = dir.path().join("fan.png");
        let o = rask(&["dot", s(&f), "-o", s(&png), "--color", "order"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    }
    let out = dir.path().join("fan.dot");
    let o = rask(&["dot", s(&f), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), dot);
}

#[test]
fn dot_colours_by_order_and_by_profiled_duration() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "diamond.json", DIAMOND);
    let o = rask(&["dot", s(&f), "--color", "order"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).matches("fillcolor=\"#").count(), 4 + 1); // + the default
    assert!(stdout(&o).contains("order priority"));
    let p = dir.path().join("p.json");
    assert_eq!(
        rask(&["run", s(&f), "--profile", s(&p)]).status.code(),
        Some(0)
    );
    let o = rask(&["dot", s(&f), "--color", "duration", "--profile-from", s(&p)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("measured duration"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("dashed"), "every key was profiled");
    // --profile-from alone means --color duration
    let o2 = rask(&["dot", s(&f), "--profile-from", s(&p)]);
    assert_eq!(stdout(&o2), stdout(&o));
}

#[test]
fn dot_bad_input_is_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "chain.json", CHAIN);
    let o = rask(&["dot", s(&f), "--color", "duration"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--profile-from"), "{}", stderr(&o));
    let o = rask(&[
        "dot",
        s(&f),
        "--profile-from",
        s(&dir.path().join("none.json")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("none.json"), "{}", stderr(&o));
    let o = rask(&["dot", s(&f), "-o", s(&dir.path().join("g.jpeg"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("g.jpeg"), "{}", stderr(&o));
    let o = rask(&["dot", s(&dir.path().join("nope.json"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.json"), "{}", stderr(&o));
}

#[test]
fn dot_without_graphviz_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "chain.json", CHAIN);
    let empty = tempfile::tempdir().unwrap();
    let svg = dir.path().join("g.svg");
    let o = Command::new(env!("CARGO_BIN_EXE_rask"))
        .args(["dot", s(&f), "-o", s(&svg)])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("apt-get install graphviz"), "{err}");
    assert!(err.contains("g.svg"), "{err}");
    assert!(!svg.exists(), "no empty picture is left behind");
}
