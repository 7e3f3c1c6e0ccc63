//! The resource monitor: samples during the run, on a thread that is
//! joined by `finish`, on success and on error.

use std::time::Duration;

use rask_diagnostics::ResourceMonitor;
use rask_graph::{file, Registry};
use rask_scheduler::{get_with, Sync, Threads};

fn graph(text: &str) -> rask_graph::Graph {
    file::from_str(text, &Registry::with_builtins()).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn samples_cpu_and_memory_during_the_run() {
    let g = graph(
        r#"{"a": {"call": "spin_ms", "args": [1, 200]}, "b": {"call": "spin_ms", "args": [2, 200]},
            "s": {"call": "add", "args": ["a", "b"]}}"#,
    );
    let monitor = ResourceMonitor::new(Duration::from_millis(10));
    get_with(&Threads::new(2), &g, "s", &[&monitor]).unwrap();
    assert!(!monitor.is_sampling());
    let res = monitor.resources();
    let s = res.samples();
    assert!(s.len() >= 5, "{}", res.table());
    assert!(s.windows(2).all(|w| w[0].time <= w[1].time));
    assert!(s.iter().all(|x| x.rss_bytes > 0 && x.cpu_percent >= 0.0));
    // the samples account for some of the spinning's CPU time (how much
    // depends on what else the machine runs: spin_ms spins for wall time)
    let cpu_s: f64 = s
        .windows(2)
        .map(|w| w[1].cpu_percent / 100.0 * (w[1].time - w[0].time).as_secs_f64())
        .sum();
    assert!(cpu_s > 0.02, "{cpu_s} CPU seconds\n{}", res.table());
    assert!(res.table().lines().count() == s.len() + 1);
    assert_eq!(monitor.samples().len(), s.len());
}

#[test]
fn the_sampler_stops_on_error_too() {
    let g = graph(r#"{"bad": {"call": "fail", "args": [{"quote": "boom"}]}}"#);
    let monitor = ResourceMonitor::new(Duration::from_millis(1));
    assert!(get_with(&Sync, &g, "bad", &[&monitor]).is_err());
    assert!(!monitor.is_sampling());
}

#[test]
fn a_monitor_can_watch_several_runs() {
    let g = graph(r#"{"x": {"call": "sleep_ms", "args": [1, 20]}}"#);
    let monitor = ResourceMonitor::new(Duration::from_millis(2));
    get_with(&Sync, &g, "x", &[&monitor]).unwrap();
    get_with(&Sync, &g, "x", &[&monitor]).unwrap();
    assert!(!monitor.is_sampling());
    // the second run's samples start again from zero
    if let Some(first) = monitor.samples().first() {
        assert!(first.time < Duration::from_millis(5));
    }
}
