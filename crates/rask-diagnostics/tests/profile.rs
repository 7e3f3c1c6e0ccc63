//! Profiles written as files: the Chrome trace parses as JSON with one
//! complete event per executed task and non-negative durations; the HTML
//! timeline is self-contained, lists every task key, and stays usable at
//! 10^5 tasks; every error names the file.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::fan;
use rask_diagnostics::{trace, DiagnosticsError, Profiler, ResourceMonitor};
use rask_graph::{file, Graph, Plan, Registry, Task};
use rask_scheduler::{get_with, Executor, Sync, Threads};
use serde_json::Value as Json;

fn read_json(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("the trace is JSON")
}

fn complete_events(trace: &Json) -> Vec<&Json> {
    trace["traceEvents"]
        .as_array()
        .expect("traceEvents is an array")
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect()
}

/// The text of the JSON document embedded in a timeline.
fn embedded(html: &str) -> Json {
    let open = "<script id=\"rask-data\" type=\"application/json\">";
    let start = html.find(open).expect("embedded data") + open.len();
    let end = html[start..].find("</script>").unwrap() + start;
    serde_json::from_str(&html[start..end]).expect("the embedded data is JSON")
}

#[test]
fn chrome_trace_has_one_complete_event_per_task() {
    let g = fan(300);
    let dir = tempfile::tempdir().unwrap();
    let executors: Vec<Box<dyn Executor>> = vec![Box::new(Sync), Box::new(Threads::new(3))];
    for ex in executors {
        let profiler = Profiler::new();
        let monitor = ResourceMonitor::new(Duration::from_millis(5));
        get_with(ex.as_ref(), &g, "total", &[&profiler, &monitor]).unwrap();
        let path = dir.path().join(format!("{}.json", ex.name()));
        profiler
            .profile()
            .write(&path, Some(&monitor.resources()))
            .unwrap();
        let trace = read_json(&path);
        let events = complete_events(&trace);
        assert_eq!(events.len(), g.len(), "{}", ex.name());
        let names: BTreeSet<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
        let keys: Vec<String> = g.keys().iter().map(|k| k.to_text()).collect();
        assert_eq!(names, keys.iter().map(String::as_str).collect());
        for e in &events {
            assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
            assert!(e["ts"].as_f64().unwrap() >= 0.0, "{e}");
            assert!(e["tid"].as_u64().unwrap() < ex.workers() as u64, "{e}");
            assert!(e["pid"].is_u64(), "{e}");
        }
        let cat = |k: &str| events.iter().find(|e| e["name"] == k).unwrap()["cat"].clone();
        assert_eq!(cat("('y', 7)"), "inc");
        assert_eq!(cat("x"), "data");
        // resource samples are counters, not tasks
        assert!(trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["ph"] == "C" && e["name"] == "memory"));
        assert_eq!(trace["otherData"]["planned_tasks"], g.len());
        // the durations read back are those of the events
        let d = trace::read_durations(&path).unwrap();
        assert_eq!(d.len(), g.len());
    }
}

#[test]
fn a_failed_run_profiles_what_ran_and_the_failed_task() {
    let g = file::from_str(
        r#"{"x": 1, "y": {"call": "inc", "args": ["x"]},
            "bad": {"call": "fail", "args": [{"quote": "boom"}]},
            "z": {"call": "add", "args": ["y", "bad"]}}"#,
        &Registry::with_builtins(),
    )
    .unwrap();
    let profiler = Profiler::new();
    assert!(get_with(&Sync, &g, "z", &[&profiler]).is_err());
    let profile = profiler.profile();
    assert!(profile.error.as_deref().is_some_and(|e| e.contains("boom")));
    let failed: Vec<_> = profile.records.iter().filter(|r| r.failed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key, "bad".into());
    assert!(profile.records.iter().all(|r| r.key != "z".into()));
    let json = trace::chrome_trace(&profile, None);
    let bad = complete_events(&json)
        .into_iter()
        .find(|e| e["name"] == "bad")
        .cloned()
        .unwrap();
    assert_eq!(bad["args"]["failed"], true);
}

#[test]
fn html_timeline_is_self_contained_and_lists_every_key() {
    let mut g = fan(50);
    // keys that would break out of a script or an attribute if not escaped
    g.insert("</script><b>\"odd\" & key", Task::key("x"));
    let profiler = Profiler::new();
    let monitor = ResourceMonitor::new(Duration::from_millis(2));
    let all: Vec<_> = g.keys().to_vec();
    let plan = Plan::for_keys(&g, &all).unwrap();
    rask_scheduler::compute(&Threads::new(2), &g, &plan, &[&profiler, &monitor]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeline.html");
    profiler
        .profile()
        .write(&path, Some(&monitor.resources()))
        .unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("src=") && !html.contains("@import"));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "a key closed a script"
    );
    let data = embedded(&html);
    let keys: BTreeSet<&str> = data["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    for k in g.keys() {
        let text = k.to_text();
        assert!(
            keys.contains(text.as_str()),
            "{text} is not in the timeline"
        );
        if !text.contains('<') && !text.contains('&') {
            assert!(html.contains(&format!("\"{text}\"")), "{text}");
        }
    }
    assert_eq!(data["tasks"].as_array().unwrap().len(), 5 * g.len());
    assert!(data["samples"].as_array().unwrap().len() >= 6);
}

fn chain(n: usize) -> Graph {
    let mut g = Graph::new();
    g.insert(("c", 0), 0);
    for i in 1..n as i64 {
        g.insert(
            ("c", i),
            Task::call(&common::inc(), [Task::key(("c", i - 1))]),
        );
    }
    g
}

#[test]
fn a_timeline_of_100k_tasks_stays_a_usable_file() {
    let g = chain(100_000);
    let profiler = Profiler::new();
    get_with(&Threads::new(2), &g, ("c", 99_999), &[&profiler]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.html");
    let t = std::time::Instant::now();
    profiler.profile().write(&path, None).unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    let size = std::fs::metadata(&path).unwrap().len();
    // about 40 bytes a task: keys and five numbers, no markup per task
    assert!(size < 8_000_000, "{size} bytes");
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(embedded(&html)["keys"].as_array().unwrap().len(), 100_000);
}

#[test]
fn errors_name_the_file() {
    let profile = Profiler::new().profile();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("profile.txt");
    let e = profile.write(&bad, None).unwrap_err();
    assert!(matches!(e, DiagnosticsError::Extension { .. }));
    assert!(
        e.to_string().contains("profile.txt") && e.to_string().contains(".html"),
        "{e}"
    );
    let nowhere = dir.path().join("no/such/dir/p.json");
    let e = profile.write(&nowhere, None).unwrap_err();
    assert!(matches!(e, DiagnosticsError::Write { .. }));
    assert!(e.to_string().contains("no/such/dir/p.json"), "{e}");
    let e = trace::read_durations(&dir.path().join("missing.json")).unwrap_err();
    assert!(matches!(e, DiagnosticsError::Read { .. }));
    assert!(e.to_string().contains("missing.json"), "{e}");
    let not_trace = dir.path().join("graph.json");
    std::fs::write(&not_trace, r#"{"x": 1}"#).unwrap();
    let e = trace::read_durations(&not_trace).unwrap_err();
    assert!(matches!(e, DiagnosticsError::Profile { .. }));
    assert!(e.to_string().contains("graph.json"), "{e}");
}
