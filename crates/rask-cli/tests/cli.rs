//! The `rask` binary end to end: results, `--stats`, exit statuses, and an
//! error message naming the file and key for every kind of bad input.

use std::path::Path;
use std::process::Output;

mod common;
use common::{rask, stderr, stdout, write};

const SEED: &str =
    r#"{"x": 1, "y": {"call": "inc", "args": ["x"]}, "z": {"call": "add", "args": ["y", 10]}}"#;

#[test]
fn run_prints_the_outputs_as_one_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "seed.json", SEED);
    for sched in ["sync", "threads"] {
        let o = rask(&["run", f.to_str().unwrap(), "--scheduler", sched]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "{\"z\":12}\n");
    }
    let o = rask(&[
        "run",
        f.to_str().unwrap(),
        "--get",
        "y",
        "--get",
        "x",
        "--workers",
        "3",
    ]);
    assert_eq!(stdout(&o), "{\"y\":2,\"x\":1}\n");
}

#[test]
fn tuple_keys_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "t.json",
        r#"{"('x', 0)": 1, "('x', 1)": 2, "s": {"call": "sum", "args": [["('x', 0)", "('x', 1)"]]}, "l": ["s", "('x', 1)"]}"#,
    );
    let o = rask(&[
        "run",
        f.to_str().unwrap(),
        "--get",
        "('x', 1)",
        "--get",
        "l",
    ]);
    assert_eq!(
        stdout(&o),
        "{\"('x', 1)\":2,\"l\":[3,2]}\n",
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_are_one_json_line_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "seed.json", SEED);
    let o = rask(&["run", f.to_str().unwrap(), "--stats", "--workers", "2"]);
    let line = stderr(&o);
    let stats: serde_json::Value = serde_json::from_str(line.trim()).expect("stats are JSON");
    assert_eq!(stats["tasks"], 3);
    assert_eq!(stats["workers"], 2);
    assert!(stats["load_s"].as_f64().is_some_and(|s| s >= 0.0));
    assert!(stats["run_s"].as_f64().is_some_and(|s| s >= 0.0));
}

#[test]
fn optimize_gives_the_same_result_with_fewer_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = serde_json::Map::new();
    g.insert("c-0".into(), 0.into());
    for i in 1..100 {
        g.insert(
            format!("c-{i}"),
            serde_json::json!({"call": "inc", "args": [format!("c-{}", i - 1)]}),
        );
    }
    let f = write(
        dir.path(),
        "chain.json",
        &serde_json::Value::Object(g).to_string(),
    );
    let plain = rask(&["run", f.to_str().unwrap(), "--stats"]);
    let opt = rask(&["run", f.to_str().unwrap(), "--stats", "--optimize"]);
    assert_eq!(stdout(&plain), "{\"c-99\":99}\n");
    assert_eq!(stdout(&opt), stdout(&plain));
    let tasks = |o: &Output| {
        serde_json::from_str::<serde_json::Value>(stderr(o).trim()).unwrap()["tasks"].clone()
    };
    assert_eq!(tasks(&plain), 100);
    assert!(
        tasks(&opt).as_u64().is_some_and(|t| t < 10),
        "{}",
        stderr(&opt)
    );
}

#[test]
fn check_validates_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "c.json",
        r#"{"a": {"call": "fail", "args": ["never runs"]}, "b": {"call": "inc", "args": ["a"]}}"#,
    );
    let o = rask(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("ok: 2 tasks, 1 edges, 1 outputs"),
        "{}",
        stdout(&o)
    );
}

/// Runs `rask run` (and `rask check`) on `text` and returns the exit code
/// and stderr of `run`.
fn bad(text: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "bad.json", text);
    let mut args = vec!["run", f.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = rask(&args);
    assert_eq!(stdout(&o), "", "nothing on stdout on failure");
    (o.status.code(), stderr(&o), f.display().to_string())
}

#[test]
fn bad_input_exits_2_naming_file_and_key() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("{\"x\": 1,", &[], ":1:8: not valid JSON"),
        (
            "[1, 2]",
            &[],
            "a graph file is a JSON object of \"key\": task members, not an array",
        ),
        (
            r#"{"a": {"call": "b", "args": []}, "b": 1}"#,
            &[],
            "task \"a\" calls unknown function \"b\"",
        ),
        (
            r#"{"a": {"call": "inc", "args": ["b"]}, "b": {"call": "inc", "args": ["a"]}}"#,
            &[],
            "cycle in the graph: ",
        ),
        (
            r#"{"a": {"call": "inc", "args": [1, 2]}}"#,
            &[],
            "task \"a\": inc takes 1 argument(s), got 2",
        ),
        (r#"{"a": 1}"#, &["--get", "nope"], "no key \"nope\" to get"),
        (
            r#"{"a": {"call": "inc", "args": 5}}"#,
            &[],
            "task \"a\": \"args\" must be an array, not a number",
        ),
    ];
    for (text, extra, message) in cases {
        let (code, err, path) = bad(text, extra);
        assert_eq!(code, Some(2), "{text}: {err}");
        assert!(
            err.starts_with(&format!("rask: error: {path}")),
            "{text}: {err}"
        );
        assert!(
            err.contains(message),
            "{text}: expected {message:?} in {err}"
        );
    }
    let (code, err, _) = bad(
        r#"{"a": {"call": "inc", "args": ["b"]}, "b": {"call": "inc", "args": ["a"]}}"#,
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("\"a\" -> \"b\" -> \"a\"") || err.contains("\"b\" -> \"a\" -> \"b\""),
        "{err}"
    );
}

#[test]
fn unreadable_file_exits_2() {
    let o = rask(&["run", "/no/such/file.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/no/such/file.json: cannot read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn failing_task_exits_1_naming_key_and_cause() {
    let cases = [
        (
            r#"{"x": 0, "r": {"call": "div", "args": [1, "x"]}}"#,
            "task \"r\" failed: div: division by zero",
        ),
        (
            r#"{"r": {"call": "fail", "args": ["it broke"]}}"#,
            "task \"r\" failed: fail: it broke",
        ),
        (
            r#"{"r": {"call": "inc", "args": ["one"]}}"#,
            "task \"r\" failed: inc: argument 1 must be a number, got str \"one\"",
        ),
        (
            r#"{"r": {"call": "shell", "args": ["sh", "-c", "echo bad thing >&2; exit 4"]}}"#,
            "bad thing",
        ),
    ];
    for (text, message) in cases {
        for sched in ["sync", "threads"] {
            let (code, err, _) = bad(text, &["--scheduler", sched]);
            assert_eq!(code, Some(1), "{text}: {err}");
            assert!(
                err.contains(message),
                "{text}: expected {message:?} in {err}"
            );
        }
    }
}

#[test]
fn the_shipped_demo_runs() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sales.json");
    let o = rask(&["run", demo.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["largest-order"], 500);
    assert_eq!(v["smallest-order"], 45);
    assert_eq!(v["best-region-mean"], 307.5);
}

#[test]
fn the_sinks_plan_tells_plain_strings_from_references() {
    // planned from the dependencies found with the sinks: "hello" is a
    // plain string, "x" a reference, as when the keys are asked for
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "strings.json",
        r#"{"x": 1, "n": {"call": "len", "args": ["hello"]},
            "m": {"call": "add", "args": ["x", 1]}, "l": ["x", "hello"]}"#,
    );
    let all = rask(&["run", f.to_str().unwrap()]);
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert_eq!(stdout(&all), "{\"n\":5,\"m\":2,\"l\":[1,\"hello\"]}\n");
    let asked = rask(&[
        "run",
        f.to_str().unwrap(),
        "--get",
        "n",
        "--get",
        "m",
        "--get",
        "l",
    ]);
    assert_eq!(stdout(&asked), stdout(&all));
    let check = rask(&["check", f.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}
