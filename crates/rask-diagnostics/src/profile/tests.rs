use std::path::Path;
use std::time::Duration;

use rask_graph::{graph, Key};
use rask_scheduler::{get_with, Sync};

use super::{ProfileFormat, Profiler, TaskRecord};

fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn formats_by_extension() {
    assert_eq!(
        ProfileFormat::from_path(Path::new("a/b.JSON")).unwrap(),
        ProfileFormat::ChromeTrace
    );
    assert_eq!(
        ProfileFormat::from_path(Path::new("x.htm")).unwrap(),
        ProfileFormat::Html
    );
    for bad in ["x", "x.txt", "x.json.gz"] {
        let e = ProfileFormat::from_path(Path::new(bad)).unwrap_err();
        assert!(e.to_string().starts_with(bad), "{e}");
    }
}

#[test]
fn an_unused_profiler_has_an_empty_profile() {
    let p = Profiler::new().profile();
    assert!(p.records.is_empty());
    assert_eq!(p.wall, Duration::ZERO);
}

#[test]
fn a_second_run_replaces_the_first() {
    let g = graph! { "x" => 1, "y" => (inc, "x") };
    let p = Profiler::new();
    get_with(&Sync, &g, "y", &[&p]).unwrap();
    get_with(&Sync, &g, "x", &[&p]).unwrap();
    let profile = p.profile();
    assert_eq!(profile.records.len(), 1);
    assert_eq!(profile.records[0].key, Key::from("x"));
    assert_eq!(profile.records[0].function, None);
}

#[test]
fn duration_never_underflows() {
    let r = TaskRecord {
        key: "k".into(),
        id: 0,
        function: None,
        worker: 0,
        start: Duration::from_millis(5),
        end: Duration::from_millis(4),
        failed: false,
    };
    assert_eq!(r.duration(), Duration::ZERO);
}
