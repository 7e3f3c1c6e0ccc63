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
        (
            r#"{"r": {"call": "sleep_ms", "args": [1, 4000000]}}"#,
            "task \"r\" failed: sleep_ms: argument 2: 4000000 is not a duration in milliseconds \
             from 0 to 3600000 (one hour)",
        ),
    ];
    for (text, message) in cases {
        for sched in ["sync", "threads"] {
            let (code, err, _) = bad(text, &["--scheduler", sched, "--allow", "shell"]);
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
fn a_float_json_cannot_hold_fails_naming_its_key() {
    // regression: these printed {"y":null} with exit 0
    for (args, shown) in [("[1e308, 10.0]", "inf"), ("[-1e308, 10.0]", "-inf")] {
        let text = format!(r#"{{"y": {{"call": "mul", "args": {args}}}}}"#);
        let (code, err, path) = bad(&text, &[]);
        assert_eq!(code, Some(1), "{text}: {err}");
        assert!(
            err.starts_with(&format!(
                "rask: error: {path}: task \"y\": the float {shown} is not a finite number"
            )),
            "{err}"
        );
    }
    let (code, err, _) = bad(
        r#"{"a": {"call": "mul", "args": [1e308, 10.0]}, "y": [1, {"call": "sub", "args": ["a", "a"]}]}"#,
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("task \"y\": the float NaN is not a finite number"),
        "{err}"
    );
    let (code, err, _) = bad(r#"{"y": {"call": "div", "args": [1e308, 1e-10]}}"#, &[]);
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn keys_that_printed_alike_print_apart() {
    // regression: the two keys printed as the same member, one was lost;
    // ("it's", 0) printed as ('it's', 0), which does not parse back
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "k.json",
        r#"{"(\"a', 'b\", 0)": 1, "('a', 'b', 0)": 2, "(\"it's\", 0)": 3}"#,
    );
    let o = rask(&["run", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"(\"a', 'b\", 0)": 1, "('a', 'b', 0)": 2, "(\"it's\", 0)": 3})
    );
    let o = rask(&["run", f.to_str().unwrap(), "--get", "(\"it's\", 0)"]);
    assert_eq!(stdout(&o), "{\"(\\\"it's\\\", 0)\":3}\n", "{}", stderr(&o));
}

#[test]
fn a_closed_or_failing_stdout_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "seed.json", SEED);
    // regression: `rask run f.json >&-` exited 0 having written nothing
    let o = std::process::Command::new("sh")
        .args(["-c", "\"$0\" run \"$1\" >&-"])
        .args([env!("CARGO_BIN_EXE_rask"), f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("standard output is closed"),
        "{}",
        stderr(&o)
    );
    if let Ok(full) = std::fs::File::create("/dev/full") {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_rask"))
            .args(["run", f.to_str().unwrap()])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("cannot write to standard output"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn graph_files_are_strict_and_check_warns_of_dask_tuples() {
    // regression: a typo ran as a literal object with exit 0
    let (code, err, path) = bad(r#"{"x": 1, "y": {"cal": "inc", "args": ["x"]}}"#, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "rask: error: {path}: task \"y\": unknown member `cal` in an object: did you mean `call`?"
        )),
        "{err}"
    );
    // Dask's tuple style is a list here: check says so, and is still ok
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "d.json",
        r#"{"x": 1, "y": ["inc", "x"], "z": {"call": "len", "args": [["sum", "y"]]}}"#,
    );
    let o = rask(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "rask: warning: {}: task \"y\": the list [\"inc\", ...] is a list, not a call: \
             a call is written {{\"call\": \"inc\", \"args\": [...]}}",
            f.display()
        )),
        "{err}"
    );
    assert!(err.contains("task \"z\": the list [\"sum\", ...]"), "{err}");
    assert!(stdout(&o).contains(": ok: "), "{}", stdout(&o));
    let f = write(dir.path(), "ok.json", SEED);
    assert_eq!(stderr(&rask(&["check", f.to_str().unwrap()])), "");
}

/// A graph file of the chain `k_i = [k_{i-1}]`, `k_0 = 1`.
fn nested_chain(depth: usize) -> String {
    let mut text = String::from("{\"k0\": 1");
    for i in 1..=depth {
        text.push_str(&format!(", \"k{i}\": [\"k{}\"]", i - 1));
    }
    text.push('}');
    text
}

#[test]
fn values_nested_a_million_deep_print() {
    // regression: a value nested 15,000 deep aborted with a stack overflow
    // when written as JSON or encoded for a worker (exit 134)
    let dir = tempfile::tempdir().unwrap();
    for (depth, scheduler) in [(1_000_000, "threads"), (20_000, "processes")] {
        let f = write(dir.path(), "deep.json", &nested_chain(depth));
        let o = rask(&["run", f.to_str().unwrap(), "--scheduler", scheduler]);
        assert_eq!(o.status.code(), Some(0), "{scheduler}: {}", stderr(&o));
        let expected = format!(
            "{{\"k{depth}\":{}1{}}}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(o.stdout == expected.as_bytes(), "{scheduler}");
    }
}

#[test]
fn shell_runs_only_with_allow_shell_and_check_says_so() {
    // regression: `shell` ran anything a graph file named, with no opt-in
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let text = serde_json::json!({
        "x": {"call": "inc", "args": [1]},
        "mark": {"call": "shell", "args": ["touch", marker.to_str().unwrap()]},
        "out": [{"call": "len", "args": ["mark"]}, "x"],
    });
    let f = write(dir.path(), "s.json", &text.to_string());
    for sched in ["sync", "threads", "processes"] {
        let o = rask(&["run", f.to_str().unwrap(), "--scheduler", sched]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!(
                "rask: error: {}: task \"mark\" calls shell, which reaches outside rask: it runs \
                 only when allowed (rask run --allow shell; Registry::allow(\"shell\"))\n",
                f.display()
            )
        );
        assert!(!marker.exists(), "nothing runs");
    }
    let o = rask(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).ends_with(&format!(
            "{}: needs --allow shell to run: 1 task(s) reach outside rask (\"mark\")\n",
            f.display()
        )),
        "{}",
        stdout(&o)
    );
    for cmd in ["show", "dot"] {
        assert_eq!(
            rask(&[cmd, f.to_str().unwrap()]).status.code(),
            Some(0),
            "{cmd}"
        );
    }
    let o = rask(&["run", f.to_str().unwrap(), "--allow", "shell"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"out\":[0,2]}\n");
    assert!(marker.exists());
}

#[test]
fn timeout_stops_the_run_naming_the_tasks_still_running() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "slow.json",
        r#"{"x": 1, "a": {"call": "sleep_ms", "args": ["x", 20000]},
            "b": {"call": "sleep_ms", "args": ["x", 20000]}, "out": ["a", "b"]}"#,
    );
    for (sched, running) in [
        ("sync", "1 task(s) still running: \"a\""),
        ("threads", "2 task(s) still running: \"a\", \"b\""),
        ("processes", "2 task(s) still running: \"a\", \"b\""),
    ] {
        let start = std::time::Instant::now();
        let o = rask(&[
            "run",
            f.to_str().unwrap(),
            "--scheduler",
            sched,
            "--workers",
            "2",
            "--timeout",
            "0.5",
        ]);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{sched}"
        );
        assert_eq!(o.status.code(), Some(1), "{sched}: {}", stderr(&o));
        assert_eq!(stdout(&o), "");
        assert_eq!(
            stderr(&o),
            format!(
                "rask: error: {}: the run took longer than --timeout 0.5 s: stopped with {running}\n",
                f.display()
            ),
            "{sched}"
        );
    }
    // a run within its time prints as without
    let f = write(dir.path(), "seed.json", SEED);
    let o = rask(&["run", f.to_str().unwrap(), "--timeout", "30"]);
    assert_eq!(stdout(&o), "{\"z\":12}\n", "{}", stderr(&o));
    let o = rask(&["run", f.to_str().unwrap(), "--timeout", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn timeout_ends_the_programs_shell_tasks_started() {
    // the sleep's odd length names it among the machine's processes
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "sh.json",
        r#"{"a": {"call": "shell", "args": ["sleep", "29.7531"]}}"#,
    );
    for sched in ["sync", "threads"] {
        let o = rask(&[
            "run",
            f.to_str().unwrap(),
            "--allow",
            "shell",
            "--scheduler",
            sched,
            "--timeout",
            "0.5",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let left = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("29.7531"))
            })
            .count();
        assert_eq!(left, 0, "{sched}: the sleep was left running");
    }
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

#[test]
fn retries_take_over_a_dead_worker() {
    // `b` kills its worker (the parent of its `sh`) while the marker exists
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("first-time");
    let script = format!(
        "if rm {m} 2>/dev/null; then kill -9 $PPID; sleep 5; fi; echo ok",
        m = marker.display()
    );
    let text = serde_json::json!({
        "x": 1,
        "a": {"call": "inc", "args": ["x"]},
        "b": {"call": "shell", "args": ["sh", "-c", script]},
        "c": {"call": "inc", "args": ["a"]},
        "out": ["b", "c"],
    });
    let f = write(dir.path(), "dies.json", &text.to_string());
    let run = |extra: &[&str]| {
        std::fs::write(&marker, "").unwrap();
        let mut args = vec![
            "run",
            f.to_str().unwrap(),
            "--allow",
            "shell",
            "--scheduler",
            "processes",
            "--workers",
            "2",
        ];
        args.extend_from_slice(extra);
        rask(&args)
    };
    // without retries: exit 1, naming the task, as a failed task does
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(
        err.contains("task \"b\": worker ") && err.contains("died (killed by signal SIGKILL)"),
        "{err}"
    );
    // with one: the answer of a run without the fault
    let o = run(&["--retries", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"out\":[\"ok\\n\",3]}\n");
    assert!(!marker.exists());
    // only where a worker can die
    let o = rask(&[
        "run",
        f.to_str().unwrap(),
        "--allow",
        "shell",
        "--retries",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--retries needs --scheduler processes"));
}
